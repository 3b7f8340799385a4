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
with pipeline.captured_output():
    bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
"""


def make_shot(path: Path, width: int = 96, height: int = 54, armature: str = "Hero") -> Path:
    """A shot file: the demo mannequin (armature `armature`), ground, camera and light, saved to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = run_python(MAKE_SHOT, str(path), str(width), str(height), armature)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert path.is_file()
    return path


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """The lines the CLI printed on stderr (Blender's own noise is kept out by the CLI)."""
    return [ln for ln in proc.stderr.splitlines() if ln.strip()]


def make_policy(path: Path, take: str = "test", source: str = "backflip_final.npz") -> Path:
    """A policy file of its own name and take: a bundled policy's weights and reference (`source`, in the
    add-on's assets) under another take.

    The pipeline tests never judge the flip's quality, only that what was simulated is what is baked,
    exported and rendered; the bundled policy's flip stays inside the region a shot's camera frames (a
    zero-action policy, once used here, now jumps and falls forward out of view: its PD targets lead the
    reference by its velocity).
    """
    from blender_backflip.core.policy_file import read_policy_unchecked, save_policy

    policy = read_policy_unchecked(REPO / "blender_backflip" / "assets" / source)
    policy.metadata.update({"take": take, "description": f"test copy of {source}"})
    save_policy(path, policy)
    return path


def expected_silhouettes(blend: Path, frames: list[int] | None = None, mesh: str = "Hero_Body", head_bone: str = "mixamorig:Head",
                         feet_bones: tuple[str, ...] = ("mixamorig:LeftFoot", "mixamorig:RightFoot"),
                         armature: str = "Hero", size: tuple[int, int] | None = None) -> list[dict]:
    """Where the baked avatar must appear on each frame, from the saved .blend (this process's bpy).

    For each frame: the bounding box (pixels, y down) of the deformed mesh projected through the scene camera,
    and the projected centres of the head and of the feet (frames: default every frame of the bake). Compared with what the renderer drew, this checks
    that the frames show the baked motion, whatever the flip looks like.
    """
    import bpy
    import numpy as np
    from mathutils import Vector

    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False)
    scene = bpy.context.scene
    if frames is None:  # every frame of the baked action
        start, end = bpy.data.objects[armature].animation_data.action.frame_range
        frames = list(range(int(round(start)), int(round(end)) + 1))
    cam = scene.camera
    if size is None:
        w = scene.render.resolution_x * scene.render.resolution_percentage / 100
        h = scene.render.resolution_y * scene.render.resolution_percentage / 100
    else:
        w, h = size
        scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = w, h, 100
    body = bpy.data.objects[mesh]
    arm = bpy.data.objects[armature]
    depsgraph = bpy.context.evaluated_depsgraph_get()

    # Camera projection as numpy (the renderer's: perspective of the scene camera at the render size).
    proj = np.array(cam.calc_matrix_camera(depsgraph, x=int(w), y=int(h)))

    def pixels(points: np.ndarray) -> np.ndarray:
        view = np.array(cam.matrix_world.inverted())
        p = np.c_[points, np.ones(len(points))] @ (proj @ view).T
        ndc = p[:, :2] / p[:, 3:4]
        return np.c_[(ndc[:, 0] + 1) / 2 * w, (1 - (ndc[:, 1] + 1) / 2) * h]

    def pixel(co) -> tuple[float, float]:
        x, y = pixels(np.array([list(co)]))[0]
        return float(x), float(y)

    out = []
    for frame in frames:
        scene.frame_set(frame)
        ev = body.evaluated_get(depsgraph)
        m = ev.to_mesh()
        co = np.empty(len(m.vertices) * 3)
        m.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        mw = np.array(body.matrix_world)
        world = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        px = pixels(world)
        amw = arm.matrix_world
        head_pb = arm.pose.bones[head_bone]
        head = amw @ (head_pb.head + 0.55 * (head_pb.tail - head_pb.head))
        feet = [amw @ (0.5 * (arm.pose.bones[b].head + arm.pose.bones[b].tail)) for b in feet_bones]
        out.append({
            "frame": frame,
            "bbox": (float(px[:, 0].min()), float(px[:, 1].min()), float(px[:, 0].max()), float(px[:, 1].max())),
            "head": pixel(head),
            "feet": pixel(sum(feet, Vector()) / len(feet)),
            "top_z": float(world[:, 2].max()),
            "bottom_z": float(world[:, 2].min()),
        })
    return out


def up_angle_deg(head: tuple[float, float], feet: tuple[float, float]) -> float:
    """Angle of the feet-to-head direction on the picture from straight up (degrees, y grows downwards)."""
    import math

    return math.degrees(math.atan2(head[0] - feet[0], feet[1] - head[1]))
