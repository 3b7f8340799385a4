"""Helpers of the pipeline tests: run the CLI as a separate process, make shot files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def run_cli(*args: str, timeout: float = 240, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m blender_backflip ARGS` in a fresh process (exit code, stdout and stderr captured)."""
    return subprocess.run([sys.executable, "-m", "blender_backflip", *map(str, args)], cwd=cwd or REPO,
                          env=cli_env(), capture_output=True, text=True, timeout=timeout)


def run_python(code: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


MAKE_SHOT = """
import sys, bpy
from blender_backflip.demo.run import build_scene
from blender_backflip.demo import pipeline
scene, arm = build_scene(int(sys.argv[2]), int(sys.argv[3]))
if len(sys.argv) > 4:
    arm.name = sys.argv[4]
with pipeline.quiet_stdout():
    bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
"""


def make_shot(path: Path, width: int = 96, height: int = 54, armature: str = "Hero") -> Path:
    """A shot file: the demo mannequin (armature `armature`), ground, camera and light, saved to `path`."""
    proc = run_python(MAKE_SHOT, str(path), str(width), str(height), armature)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert path.is_file()
    return path


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """The lines the CLI printed on stderr (Blender's own noise is kept out by the CLI)."""
    return [ln for ln in proc.stderr.splitlines() if ln.strip()]
