"""The headless command refuses bad input with one clear line and a non-zero exit, and never touches the input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.helpers import digest, error_lines, run_cli


def _refused(proc, *words: str) -> str:
    lines = error_lines(proc)
    assert proc.returncode != 0, proc.stdout
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for word in words:
        assert word.lower() in line.lower(), line
    return line


def test_missing_input_file(tmp_path: Path) -> None:
    proc = run_cli("flip", tmp_path / "nope.blend", "--armature", "Hero", "--save", tmp_path / "out.blend")
    _refused(proc, "nope.blend", "does not exist")
    assert not (tmp_path / "out.blend").exists()


def test_input_that_is_not_a_blend(tmp_path: Path) -> None:
    fake = tmp_path / "fake.blend"
    fake.write_text("not a blend file")
    proc = run_cli("flip", fake, "--armature", "Hero", "--save", tmp_path / "out.blend")
    _refused(proc, "not a .blend")


def test_save_onto_the_input_is_refused(shot_file: Path) -> None:
    before = digest(shot_file)
    proc = run_cli("flip", shot_file, "--armature", "Hero", "--save", shot_file)
    _refused(proc, "--save", "input")
    # The same file through another spelling of its path.
    other = shot_file.parent / "." / shot_file.name
    proc = run_cli("flip", shot_file, "--armature", "Hero", "--save", other)
    _refused(proc, "input")
    assert digest(shot_file) == before


def test_missing_armature_names_the_ones_there(shot_file: Path, tmp_path: Path) -> None:
    before = digest(shot_file)
    proc = run_cli("flip", shot_file, "--armature", "Villain", "--save", tmp_path / "out.blend")
    line = _refused(proc, "'Villain'", "Hero")
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, line
    assert not (tmp_path / "out.blend").exists()
    assert digest(shot_file) == before


def test_object_that_is_not_an_armature(shot_file: Path, tmp_path: Path) -> None:
    proc = run_cli("flip", shot_file, "--armature", "Ground", "--save", tmp_path / "out.blend")
    _refused(proc, "'Ground'", "not an armature")


@pytest.mark.parametrize("args,words", [
    (["--export", "motion.abc"], ("motion.abc", ".fbx")),
    (["--resolution", "big"], ("--resolution", "WIDTHxHEIGHT")),
    (["--nudge", "soon", "torso", "0", "20", "0"], ("--nudge soon torso", "must be numbers")),
    (["--nudge", "0.3", "tail", "0", "20", "0"], ("Unknown body 'tail'", "pelvis, torso")),
])
def test_bad_options(shot_file: Path, tmp_path: Path, args: list[str], words: tuple[str, ...]) -> None:
    proc = run_cli("flip", shot_file, "--armature", "Hero", "--save", tmp_path / "out.blend", *args)
    _refused(proc, *words)
    assert not (tmp_path / "out.blend").exists()


def test_save_must_be_a_blend(shot_file: Path, tmp_path: Path) -> None:
    proc = run_cli("flip", shot_file, "--armature", "Hero", "--save", tmp_path / "out.txt")
    _refused(proc, ".blend")


def test_usage_errors_exit_non_zero(tmp_path: Path) -> None:
    proc = run_cli("flip", tmp_path / "x.blend")  # no --armature, no --save
    assert proc.returncode != 0
    assert "--armature" in proc.stderr
