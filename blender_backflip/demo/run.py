"""`python -m blender_backflip demo --out out/`: the default avatar does a backflip, saved and rendered.

Stages (one progress line each): scene, flip, camera, save, video, contact sheet. Writes
out/backflip.blend, out/backflip.mp4 (640x360 H.264, Workbench) and out/backflip.png (8 frames of the flip).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

import bpy
import numpy as np

from ..core.errors import BackflipError
from . import frames as fr
from . import mannequin, pipeline
from . import scene as sc

ARMATURE = "Hero"
FPS = 24
# The mannequin is the canonical body (1.62 m); 45 kg is that body's mass (DeepMimic's humanoid), the middle
# of the range the policy was trained on.
MASS_KG = 45.0
START_FRAME = 1
SHEET_FRAMES = 8
# The flip itself (take-off to landing) is the first ~2.2 s of the bake; the rest is standing still.
FLIP_SECONDS = 2.2


@dataclass
class DemoResult:
    blend: str
    video: str | None
    sheet: str
    frame_range: tuple[int, int]
    sheet_frames: list[int]
    seconds: dict[str, float] = field(default_factory=dict)


def sheet_frames(frame_range: tuple[int, int], fps: float, count: int = SHEET_FRAMES) -> list[int]:
    """`count` frames evenly spread from the start of the bake to the landing."""
    start, end = frame_range
    last = min(end, start + int(round(FLIP_SECONDS * fps)))
    return [int(round(f)) for f in np.linspace(start, last, count)]


def build_scene(width: int, height: int) -> tuple[bpy.types.Scene, bpy.types.Object]:
    scene = sc.reset_scene()
    scene.render.fps = FPS
    scene.render.fps_base = 1.0
    arm = mannequin.create_mannequin(ARMATURE)
    sc.add_ground(scene)
    sc.add_light(scene)
    camera = sc.add_camera(scene)
    sc.setup_render(scene, width, height)
    sc.frame_flip_region(camera, arm, width / height, mannequin.CANONICAL.standing_height)
    scene.frame_start = scene.frame_current = START_FRAME
    return scene, arm


def run_demo(out_dir: str, quick: bool = False, video: bool = True, take: str | None = None,
             policy_file: str | None = None, seed: int = 0, log: Callable[[str], None] = print) -> DemoResult:
    """Build, flip, bake, save and render the demo into `out_dir`.

    A take that does not land is baked all the same (the demo shows what the policy does, falls included);
    the flip stage's line says how it went.
    """
    os.makedirs(out_dir, exist_ok=True)
    width, height = (320, 180) if quick else (640, 360)
    times: dict[str, float] = {}
    total = 6
    t_all = time.perf_counter()

    def stage(i: int, name: str, started: float, text: str) -> None:
        times[name] = time.perf_counter() - started
        log(f"[demo {i}/{total}] {name:<13} {text} ({times[name]:.1f} s)")

    t = time.perf_counter()
    scene, arm = build_scene(width, height)
    stage(1, "scene", t, f"mannequin '{arm.name}' ({len(arm.data.bones)} Mixamo-named bones, "
          f"{len(bpy.data.objects[f'{ARMATURE}_Body'].data.vertices)} skinned vertices), ground, sun, camera")

    t = time.perf_counter()
    options = {"start_frame": START_FRAME, "total_mass": MASS_KG, "allow_fall": True, "seed": seed}
    if take:
        options["take"] = take
    if policy_file:
        options["policy_file"] = os.path.abspath(policy_file)
    with pipeline.captured_output():  # the operator's own report repeats what the stage line says
        action = pipeline.run_flip(arm.name, **options)
    frame_range = pipeline.action_frame_range(action)
    info = pipeline.bake_info(action)
    stage(2, "flip", t, f"baked '{action.name}', frames {frame_range[0]}-{frame_range[1]} at {FPS} fps"
          + (f"; take '{info['take']}' {info['verdict']}" if info else ""))

    t = time.perf_counter()
    scene.frame_start, scene.frame_end = frame_range
    body = bpy.data.objects[f"{ARMATURE}_Body"]
    probe = list(range(frame_range[0], frame_range[1] + 1, 3)) + [frame_range[1]]
    points = sc.world_points_over_frames([body], scene, probe)
    sc.frame_camera(scene.camera, points, sc.rest_facing(arm), width / height)
    scene.frame_set(frame_range[0])
    travel = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    stage(3, "camera", t, f"side view framing {float(np.linalg.norm(travel)):.2f} m of travel, "
          f"{float(points[:, 2].max()):.2f} m high")

    t = time.perf_counter()
    blend = os.path.abspath(os.path.join(out_dir, "backflip.blend"))
    with pipeline.captured_output():
        bpy.ops.wm.save_as_mainfile(filepath=blend, check_existing=False)
    stage(4, "save", t, blend)

    video_path = None
    t = time.perf_counter()
    if video:
        video_path = pipeline.render_video(scene, os.path.abspath(os.path.join(out_dir, "backflip.mp4")),
                                           *frame_range)
        n = frame_range[1] - frame_range[0] + 1
        stage(5, "video", t, f"{video_path} ({n} frames, {width}x{height}, Workbench)")
    else:
        stage(5, "video", t, "skipped (--no-video)")

    t = time.perf_counter()
    chosen = sheet_frames(frame_range, FPS)
    sheet_path = os.path.abspath(os.path.join(out_dir, "backflip.png"))
    stills = os.path.join(out_dir, "contact_frames")
    scene.render.resolution_percentage = 50 if width >= 640 else 100  # 320x180 tiles: a 1300x380 sheet
    try:
        paths = pipeline.render_frames(scene, stills, chosen)
    finally:
        scene.render.resolution_percentage = 100
    images = [fr.read_png(p) for p in paths]
    fr.write_png(sheet_path, fr.contact_sheet(images, columns=4))
    for p in paths:
        os.remove(p)
    try:
        os.rmdir(stills)
    except OSError:
        pass
    stage(6, "contact sheet", t, f"{sheet_path} (frames {', '.join(map(str, chosen))})")
    log(f"[demo] done in {time.perf_counter() - t_all:.1f} s: {out_dir}")
    if not os.path.isfile(sheet_path):
        raise BackflipError(f"The contact sheet was not written to {sheet_path}.")
    return DemoResult(blend, video_path, sheet_path, frame_range, chosen, times)
