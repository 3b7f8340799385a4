"""Bad input: each case gives one clear report (the problem and the fix) and leaves the scene as it was."""

from __future__ import annotations

import os

import numpy as np
import pytest

import bpy

from blender_backflip.core.rollout import SimResult
from blender_backflip.operators import _pipeline as pipe
from tests.blender import rigs
from tests.blender.conftest import scene_snapshot


def refused(match: str, **kwargs) -> str:
    """Run Backflip! expecting an error report; checks the scene is untouched and returns the message."""
    before = scene_snapshot()
    with pytest.raises(RuntimeError, match=match) as info:
        bpy.ops.backflip.flip(**kwargs)
    message = str(info.value).strip()
    assert message.count("\n") == 0 and message.startswith("Error: "), message  # one report, one line
    assert "Traceback" not in message
    assert scene_snapshot() == before
    return message


def test_no_armature_selected(policy_path) -> None:
    bpy.ops.mesh.primitive_cube_add()
    refused("No armature selected.*Select the avatar's armature", policy_file=policy_path)


def test_unknown_armature_name(policy_path) -> None:
    rigs.build("mixamo", unit=0.01)
    refused("No object named 'Villain' .*armatures in this file: Hero", armature="Villain", policy_file=policy_path)


def test_not_a_humanoid_lists_missing_roles(policy_path) -> None:
    rigs.build("not_humanoid", name="Crane")
    msg = refused("bone map is not usable: no bone for pelvis, torso, head", armature="Crane", policy_file=policy_path)
    assert "left_hand" in msg and "Backflip panel" in msg


def test_two_bones_mapped_to_one_role(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    assert bpy.ops.backflip.detect_bone_map(armature=obj.name) == {"FINISHED"}
    s = bpy.context.scene.backflip
    next(i for i in s.bone_map if i.role == "right_thigh").bone = "mixamorig:LeftUpLeg"
    refused("'mixamorig:LeftUpLeg' is mapped to right_thigh and left_thigh.*own bone",
            armature=obj.name, policy_file=policy_path)
    with pytest.raises(RuntimeError, match="mapped to right_thigh and left_thigh"):
        bpy.ops.backflip.validate_bone_map(armature=obj.name)


def test_zero_length_bone(policy_path) -> None:
    """Blender deletes truly zero-length bones when leaving Edit Mode; a bone a few micrometres long survives
    and is what an importer leaves behind."""
    bones = rigs.turn(rigs.layout("mixamo", 1.08), -90.0)
    bones = [(n, p, h, h + np.array([0, 0, 2e-6]) if n == "mixamorig:LeftForeArm" else t, r) for n, p, h, t, r in bones]
    rigs.build("mixamo", bones=bones)
    refused("Bone 'mixamorig:LeftForeArm' \\(the left lower arm\\) has zero length.*Edit Mode", armature="Hero",
            policy_file=policy_path)


def test_non_uniform_object_scale(policy_path) -> None:
    rigs.build("mixamo", unit=0.01, scale=(0.01, 0.01, 0.012))
    refused("non-uniform scale .*Apply > Scale", armature="Hero", policy_file=policy_path)


def test_missing_policy_file() -> None:
    rigs.build("mixamo", unit=0.01)
    refused("Policy file not found: /nowhere/policy.npz. Reinstall", armature="Hero", policy_file="/nowhere/policy.npz")


def test_corrupt_policy_file(tmp_path) -> None:
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip file")
    rigs.build("mixamo", unit=0.01)
    refused("damaged or not a blender-backflip policy", armature="Hero", policy_file=str(bad))


def test_a_fall_is_not_baked_unless_asked() -> None:
    """The bundled 'fall' take (lands 0% of seeds) is refused unless a fall is asked for."""
    fall = os.path.join(pipe.ASSETS, "backflip_fall.npz")
    if not os.path.exists(fall):
        pytest.skip("no bundled 'fall' take")
    rigs.build("mixamo", unit=0.01)
    settings = pipe.FlipSettings(policy_file=fall)
    avatar = pipe.read_avatar(bpy.context, bpy.data.objects["Hero"], settings)
    assert not pipe.simulate_avatar(avatar, settings).result.verdict.landed
    refused("did not land.*Nothing was baked.*'Bake a fall'", armature="Hero", policy_file=fall)
    assert bpy.ops.backflip.flip(armature="Hero", policy_file=fall, allow_fall=True) == {"FINISHED"}


def test_a_diverged_simulation_is_refused(policy_path, monkeypatch) -> None:
    """A rollout that comes back with NaN (MuJoCo normally stops first: core.rollout raises on NaN itself)."""
    import blender_backflip.core.rollout as rollout

    real = rollout.simulate

    def diverging(*args, **kwargs) -> SimResult:
        r = real(*args, **kwargs)
        pos = r.body_pos.copy()
        pos[200:] = np.nan
        return SimResult(r.fps, r.times, r.qpos, pos, r.body_quat, r.dof_pos, r.verdict, r.seed, r.take)

    monkeypatch.setattr(rollout, "simulate", diverging)
    pipe.clear_cache()
    rigs.build("mixamo", unit=0.01)
    refused("diverged \\(NaN\\)", armature="Hero", policy_file=policy_path, allow_fall=True)
    pipe.clear_cache()


def test_unsaved_file_export_avatar_needs_a_folder() -> None:
    rigs.build("mixamo", unit=0.01)
    with pytest.raises(RuntimeError, match="not saved.*choose a folder"):
        bpy.ops.backflip.export_avatar(armature="Hero")
