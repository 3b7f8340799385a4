"""The headless pipeline: `python -m blender_backflip flip shot.blend ... --save --render --export`.

One run (module fixture) bakes, saves, renders PNG frames at a tiny size and exports an FBX; the tests check
the input file is untouched, the saved file carries the bake, and every rendered frame shows the baked
avatar where the camera must see it (silhouette box, head and feet), so the frames rise and turn as the
simulation did.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.helpers import (digest, error_lines, expected_silhouettes, make_policy, make_shot, run_cli,
                                    up_angle_deg)

START = 24
SIZE = (192, 108)


@pytest.fixture(scope="module")
def flipped(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("flip")
    shot = make_shot(tmp / "shot.blend")
    policy = make_policy(tmp / "policy.npz")
    before = (digest(shot), shot.stat().st_mtime_ns)
    out = tmp / "out" / "shot_flip.blend"
    frames = tmp / "frames"
    fbx = tmp / "export" / "motion.fbx"
    fbx.parent.mkdir()
    proc = run_cli("flip", shot, "--armature", "Hero", "--start-frame", START, "--policy-file", policy,
                   "--allow-fall", "--save", out, "--render", frames, "--resolution", f"{SIZE[0]}x{SIZE[1]}",
                   "--export", fbx)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"shot": shot, "before": before, "out": out, "frames": frames, "fbx": fbx, "proc": proc,
            "policy": policy, "tmp": tmp}


def test_input_is_untouched_and_output_saved(flipped: dict) -> None:
    shot = flipped["shot"]
    assert (digest(shot), shot.stat().st_mtime_ns) == flipped["before"]
    assert flipped["out"].is_file() and flipped["out"].stat().st_size > 0
    assert not list(shot.parent.glob("shot.blend1")), "Blender's backup of the input means it was saved over"
    lines = flipped["proc"].stdout.splitlines()
    assert any(ln.startswith("flip: baked 'Backflip_") for ln in lines), lines
    assert any(ln.startswith("flip: saved ") for ln in lines), lines
    assert not error_lines(flipped["proc"]), flipped["proc"].stderr


def test_saved_file_has_the_bake_at_the_start_frame(flipped: dict) -> None:
    bpy = pytest.importorskip("bpy")
    bpy.ops.wm.open_mainfile(filepath=str(flipped["out"]), load_ui=False)
    arm = bpy.data.objects["Hero"]
    action = arm.animation_data.action
    assert action is not None and action.name.startswith("Backflip_")
    start, end = action.frame_range
    assert start == START
    from blender_backflip.core import rates
    from blender_backflip.core.policy_file import load_policy

    fps = bpy.context.scene.render.fps / bpy.context.scene.render.fps_base
    simulated = load_policy(flipped["policy"]).reference.duration + rates.HOLD_SECONDS  # clip, then the hold
    assert (end - start) / fps == pytest.approx(simulated, abs=1.5 / fps)


def _frame_numbers(folder: Path) -> list[int]:
    return sorted(int(re.fullmatch(r"frame_(\d+)\.png", p.name).group(1)) for p in folder.glob("frame_*.png"))


def test_rendered_frames_show_the_baked_motion(flipped: dict) -> None:
    pytest.importorskip("bpy")
    from blender_backflip.demo import frames as fr

    expected = expected_silhouettes(flipped["out"], size=SIZE)
    # One frame per baked frame: the expected count, numbered from the start frame.
    assert _frame_numbers(flipped["frames"]) == [e["frame"] for e in expected]
    assert expected[0]["frame"] == START

    seen, want_angle, got_angle = [], [], []
    for e in expected:
        img = fr.read_png(flipped["frames"] / f"frame_{e['frame']:04d}.png")
        assert img.shape[:2] == (SIZE[1], SIZE[0])
        s = fr.find_avatar(img)
        # Visible: a body's worth of character pixels on every frame.
        assert s.pixels > 60, (e["frame"], s.pixels)
        # Where the camera must see the deformed mesh, to a few pixels (antialiased edges).
        assert np.allclose(s.bbox, e["bbox"], atol=4.0), (e["frame"], s.bbox, e["bbox"])
        seen.append(s)
        if s.head is not None and s.feet is not None:
            want_angle.append(up_angle_deg(e["head"], e["feet"]))
            got_angle.append(s.up_angle_deg)
    # The silhouette rises as the simulated body does: the lowest point of the box leaves the ground line
    # by as many pixels as the projected mesh does.
    first = seen[0].bbox[3]
    got_rise = max(first - s.bbox[3] for s in seen)
    want_rise = max(expected[0]["bbox"][3] - e["bbox"][3] for e in expected)
    assert got_rise == pytest.approx(want_rise, abs=4.0)
    sim_rise = max(e["bottom_z"] for e in expected) - expected[0]["bottom_z"]
    if sim_rise > 0.05:  # the simulated body left the ground: so did the picture
        assert got_rise >= 3.0
    # It turns as the simulated body does: the feet-to-head direction on the picture follows the projection.
    assert len(got_angle) >= 0.8 * len(expected)
    diffs = [abs((g - w + 180.0) % 360.0 - 180.0) for g, w in zip(got_angle, want_angle)]
    assert np.percentile(diffs, 90) < 20.0, sorted(diffs)[-10:]
    swept = np.unwrap(np.radians(want_angle))
    got_swept = np.unwrap(np.radians(got_angle))
    assert math.degrees(np.ptp(got_swept)) == pytest.approx(math.degrees(np.ptp(swept)), abs=25.0)
    print(f"rise {got_rise:.0f} px (projected {want_rise:.0f}), turn {math.degrees(np.ptp(got_swept)):.0f} deg "
          f"(projected {math.degrees(np.ptp(swept)):.0f}), 90th percentile angle error {np.percentile(diffs, 90):.1f}")
    if math.degrees(np.ptp(swept)) > 150.0:  # the simulated body went upside down: the picture shows it
        assert max(abs(a) for a in got_angle) > 150.0


def test_fbx_export_was_written(flipped: dict) -> None:
    fbx = flipped["fbx"]
    assert fbx.is_file() and fbx.stat().st_size > 10_000
    assert fbx.read_bytes()[:18] == b"Kaydara FBX Binary"


def test_bad_take_is_one_line(tmp_path: Path, flipped: dict) -> None:
    proc = run_cli("flip", flipped["shot"], "--armature", "Hero", "--take", "no_such_take",
                   "--save", tmp_path / "o.blend")
    lines = error_lines(proc)
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and ("no_such_take" in lines[0] or "No policy file" in lines[0])
    assert not (tmp_path / "o.blend").exists()


def test_a_fall_is_refused_without_allow_fall(tmp_path: Path, flipped: dict) -> None:
    """The fall take does not land: without --allow-fall nothing is baked or saved, and the line says why."""
    falls = make_policy(tmp_path / "fall.npz", source="backflip_fall.npz")
    proc = run_cli("flip", flipped["shot"], "--armature", "Hero", "--policy-file", falls,
                   "--save", tmp_path / "o.blend")
    lines = error_lines(proc)
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "did not land" in lines[0] and "--allow-fall" in lines[0]
    assert not (tmp_path / "o.blend").exists()


def test_a_nudge_from_the_command_line_is_simulated_and_named(tmp_path: Path, flipped: dict) -> None:
    proc = run_cli("flip", flipped["shot"], "--armature", "Hero", "--nudge", "0.3", "torso", "0", "20", "0",
                   "--allow-fall", "--save", tmp_path / "o.blend")
    assert proc.returncode == 0, proc.stderr
    assert "pushed the torso 20 N s left at 0.30 s" in proc.stdout
    assert (tmp_path / "o.blend").is_file()


def test_a_rigs_motion_becomes_a_reference_the_trainer_imitates(tmp_path: Path, flipped: dict) -> None:
    """`reference` writes the baked flip back out as a DeepMimic clip; the trainer trains on it and the policy
    file it exports carries it as its reference."""
    import subprocess
    import sys

    from blender_backflip.core.motion import load_deepmimic
    from blender_backflip.core.policy_file import read_policy_unchecked
    from tests.pipeline.helpers import cli_env

    saved = flipped["out"]
    before = digest(saved)
    clip = tmp_path / "my_flip.txt"
    proc = run_cli("reference", saved, "--armature", "Hero", "--out", clip)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert digest(saved) == before
    assert any(ln.startswith(f"reference: wrote {clip}") for ln in proc.stdout.splitlines()), proc.stdout
    motion = load_deepmimic(clip)
    assert 3.0 < motion.duration < 4.5  # the baked flip: the clip and the 2 s stand after it

    run = tmp_path / "run"
    train = [sys.executable, "-m", "policy.train", "--clip", str(clip), "--tiny", "--iterations", "1", "--quiet",
             "--out", str(run)]
    trained = subprocess.run(train, env=cli_env(), capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    exported = tmp_path / "mine.npz"
    export = [sys.executable, "-m", "policy.export", str(run / "checkpoint.pt"), "--out", str(exported)]
    assert subprocess.run(export, env=cli_env(), capture_output=True, text=True, timeout=300).returncode == 0
    reference = read_policy_unchecked(exported).reference
    np.testing.assert_allclose(reference.dof_pos, motion.dof_pos, atol=1e-6)


def test_a_reference_of_a_missing_armature_is_one_line(tmp_path: Path, flipped: dict) -> None:
    proc = run_cli("reference", flipped["out"], "--armature", "Villain", "--out", tmp_path / "c.txt")
    assert proc.returncode == 2
    assert error_lines(proc) == [f"error: 'Villain' is not in the file '{flipped['out']}' (armatures in it: Hero)."]
    assert not (tmp_path / "c.txt").exists()
