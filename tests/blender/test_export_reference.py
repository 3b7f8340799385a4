"""Export Reference Clip: the rig's own motion written as a DeepMimic clip for the trainer. A baked flip
reads back to the simulated joint angles and root path; bad input is refused by name and changes nothing."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from blender_backflip.core.character import build_character
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.reference import make_track
from blender_backflip.core.skeleton import CANONICAL
from blender_backflip.operators import _pipeline
from tests.blender import rigs
from tests.blender.conftest import scene_snapshot


@pytest.mark.parametrize("style,unit,facing", [("mixamo", 0.01, -90.0), ("rigify", 1.0, 30.0)])
def test_a_baked_flip_exports_as_the_motion_that_was_simulated(policy_path, tmp_path, style, unit, facing) -> None:
    obj = rigs.build(style, unit=unit, facing_deg=facing)
    _pipeline.clear_cache()
    assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy_path, allow_fall=True) == {"FINISHED"}
    sim = next(iter(_pipeline._cache.values()))
    scene = bpy.context.scene
    scene.frame_set(7)
    path = str(tmp_path / "mine.txt")
    assert bpy.ops.backflip.export_reference(armature=obj.name, filepath=path) == {"FINISHED"}
    assert scene.frame_current == 7

    clip = load_deepmimic(path)
    fps = scene.render.fps / scene.render.fps_base
    step = int(round(sim.result.fps / fps))
    simulated = sim.result.qpos[::step]
    times = np.arange(len(simulated)) / fps
    frames = clip.sample(times[times <= clip.duration + 1e-9])
    n = len(frames.dof_pos)
    assert n == len(simulated)  # every baked frame
    dof_error = np.abs(frames.dof_pos - sim.result.dof_pos[::step][:n])
    assert dof_error.max() < np.radians(0.1), f"{np.degrees(dof_error.max()):.3f} degrees off"
    body = sim.body.simulated
    root = simulated[:, 0:3] * CANONICAL.leg_length / body.leg_length
    root[:, :2] -= root[0, :2]
    assert np.abs(frames.root_pos - root).max() < 1e-3
    # The trainer's reference can be made from it: a flight is found, as in the bundled clip.
    track = make_track(clip, build_character(CANONICAL), flight="ballistic", feet="planted")
    assert track.flight is not None and track.flight.touchdown > track.flight.takeoff + 5


def refused(match: str, **kwargs) -> None:
    before = scene_snapshot()
    with pytest.raises(RuntimeError, match=match):
        bpy.ops.backflip.export_reference(**kwargs)
    assert scene_snapshot() == before


def test_a_rig_without_motion_is_refused(tmp_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    path = str(tmp_path / "mine.txt")
    refused(r"Armature 'Hero' has no active Action to export. Key its motion \(or import mocap onto it\) first",
            armature=obj.name, filepath=path)
    refused(r"does not move in frames 1-20.*Key the motion first", armature=obj.name, filepath=path,
            frame_start=1, frame_end=20)


def test_a_wrong_file_or_range_is_refused(tmp_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    refused(r"use a file ending in .txt", armature=obj.name, filepath=str(tmp_path / "mine.fbx"),
            frame_start=1, frame_end=20)
    refused(r"Folder '.*nowhere' does not exist", armature=obj.name, filepath=str(tmp_path / "nowhere" / "m.txt"),
            frame_start=1, frame_end=20)
    refused(r"Frame range 20-5 is too short", armature=obj.name, filepath=str(tmp_path / "m.txt"),
            frame_start=20, frame_end=5)
