"""Nudge: the panel's push reaches the simulation in the avatar's own frame, the bake names it, and a push that
knocks the avatar over, or names no body, bakes nothing and says what to change."""

from __future__ import annotations

import json
import math

import bpy
import numpy as np
import pytest

from tests.blender import rigs
from tests.blender.conftest import scene_snapshot

PUSH_FRAME = 13  # 0.5 s after the start at 24 fps: 0.1 s after the push ends


def hips_at(obj: bpy.types.Object, frame: int) -> np.ndarray:
    bpy.context.scene.frame_set(frame)
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    return np.array((ev.matrix_world @ ev.pose.bones["mixamorig:Hips"].matrix).translation)


def test_the_panels_nudge_pushes_the_avatar_to_its_left_and_is_named(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01, facing_deg=-90.0)  # faces -Y: its left is +X
    assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy_path, allow_fall=True) == {"FINISHED"}
    plain = hips_at(obj, PUSH_FRAME)
    panel = bpy.context.scene.backflip
    panel.use_nudge, panel.nudge_time, panel.nudge_body, panel.nudge_impulse = True, 0.3, "torso", (0.0, 20.0, 0.0)
    assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy_path, allow_fall=True) == {"FINISHED"}
    pushed = hips_at(obj, PUSH_FRAME)
    facing = math.radians(-90.0)
    left = np.array([-math.sin(facing), math.cos(facing), 0.0])
    assert (pushed - plain) @ left > 0.005
    action = obj.animation_data.action
    assert action.name == "Backflip_final_002"
    assert json.loads(action["backflip"])["nudge"] == "pushed the torso 20 N s left at 0.30 s"


def refused(match: str, **kwargs) -> None:
    before = scene_snapshot()
    with pytest.raises(RuntimeError, match=match):
        bpy.ops.backflip.flip(**kwargs)
    assert scene_snapshot() == before


def test_a_push_that_knocks_it_over_bakes_nothing(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    refused(r"did not land.*pushed the torso 150 N s left at 0.90 s. Nothing was baked: try a smaller or another "
            r"nudge, or tick 'Bake a fall'", armature=obj.name, policy_file=policy_path, use_nudge=True,
            nudge_time=0.9, nudge_body="torso", nudge_impulse=(0.0, 150.0, 0.0))


def test_a_nudge_on_no_body_is_refused_by_name(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    refused("Unknown body 'tail' for the nudge. Pick one of: pelvis, torso, head", armature=obj.name,
            policy_file=policy_path, use_nudge=True, nudge_body="tail")
