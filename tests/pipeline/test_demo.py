"""The README's first command: `python -m blender_backflip demo --out out/` makes the .blend, the video and the
contact sheet, with a progress line per stage. (Its wall time is printed, not asserted: speed targets are
benchmarks, not timed tests.)"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.helpers import REPO, expected_silhouettes, make_policy, run_cli, up_angle_deg

bpy = pytest.importorskip("bpy")


def _bundled_policies() -> list[Path]:
    return sorted((REPO / "blender_backflip" / "assets").glob("*.npz"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo exactly as the README runs it (the bundled policy); with no policy bundled yet, on a test
    policy given with --policy-file."""
    tmp = tmp_path_factory.mktemp("demo")
    out = tmp / "out"
    extra = [] if _bundled_policies() else ["--policy-file", str(make_policy(tmp / "policy.npz"))]
    t0 = time.perf_counter()
    proc = run_cli("demo", "--out", out, *extra, timeout=600)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"out": out, "proc": proc, "wall": wall}


def test_three_files_and_a_line_per_stage(demo: dict) -> None:
    out = demo["out"]
    for name in ("backflip.blend", "backflip.mp4", "backflip.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 10_000, name
    assert not (out / "contact_frames").exists()  # the stills behind the sheet are cleaned up
    lines = demo["proc"].stdout.splitlines()
    stages = [ln for ln in lines if re.match(r"\[demo \d/6\] ", ln)]
    assert [int(ln[6]) for ln in stages] == [1, 2, 3, 4, 5, 6], lines
    assert lines[-1].startswith("[demo] done in ")
    assert demo["proc"].stderr.strip() == ""  # Blender's own output is kept out of the way
    print(f"demo wall time {demo['wall']:.1f} s")


def test_blend_has_the_avatar_baked_and_a_framed_scene(demo: dict) -> None:
    bpy.ops.wm.open_mainfile(filepath=str(demo["out"] / "backflip.blend"), load_ui=False)
    scene = bpy.context.scene
    arm = bpy.data.objects["Hero"]
    action = arm.animation_data.action
    assert action.name.startswith("Backflip_")
    assert (scene.frame_start, scene.frame_end) == tuple(int(round(f)) for f in action.frame_range)
    assert scene.camera is not None and bpy.data.objects.get("Ground") is not None
    assert any(o.type == "LIGHT" for o in scene.objects)
    assert (scene.render.resolution_x, scene.render.resolution_y) == (640, 360)


def test_video_has_every_frame_at_640x360(demo: dict) -> None:
    bpy.ops.wm.open_mainfile(filepath=str(demo["out"] / "backflip.blend"), load_ui=False)
    scene = bpy.context.scene
    clip = bpy.data.movieclips.load(str(demo["out"] / "backflip.mp4"))  # decoded by Blender's FFmpeg
    assert tuple(clip.size) == (640, 360)
    assert clip.frame_duration == scene.frame_end - scene.frame_start + 1
    assert clip.fps == pytest.approx(scene.render.fps / scene.render.fps_base)


def test_contact_sheet_shows_the_flip_frame_by_frame(demo: dict) -> None:
    from blender_backflip.demo import frames as fr
    from blender_backflip.demo.pipeline import bake_info
    from blender_backflip.demo.run import FPS, sheet_frames

    sheet = fr.read_png(demo["out"] / "backflip.png")
    tile_w, tile_h, border = 320, 180, 4
    assert sheet.shape[:2] == (2 * tile_h + 3 * border, 4 * tile_w + 5 * border)
    bpy.ops.wm.open_mainfile(filepath=str(demo["out"] / "backflip.blend"), load_ui=False)
    action = bpy.data.objects["Hero"].animation_data.action
    info = bake_info(action)
    chosen = sheet_frames((int(action.frame_range[0]), int(action.frame_range[1])), FPS)
    assert len(chosen) == 8 and chosen == sorted(set(chosen))
    expected = expected_silhouettes(demo["out"] / "backflip.blend", chosen, size=(tile_w, tile_h))
    angles = []
    for i, e in enumerate(expected):
        r, c = divmod(i, 4)
        tile = sheet[border + r * (tile_h + border):border + r * (tile_h + border) + tile_h,
                     border + c * (tile_w + border):border + c * (tile_w + border) + tile_w]
        s = fr.find_avatar(tile)
        assert s.pixels > 300, (e["frame"], s.pixels)  # the avatar is on every tile
        assert np.allclose(s.bbox, e["bbox"], atol=4.0), (e["frame"], s.bbox, e["bbox"])
        if s.head is not None and s.feet is not None:
            angles.append((s.up_angle_deg, up_angle_deg(e["head"], e["feet"])))
    assert len(angles) >= 6
    for got, want in angles:
        assert abs((got - want + 180.0) % 360.0 - 180.0) < 20.0, angles
    if info.get("landed"):  # a landed backflip turned over in the air: some tile shows it upside down
        assert max(abs(got) for got, _ in angles) > 120.0, angles
