"""How the bundled policy's flip looks on the test rigs, through Blender's depsgraph: feet on the ground at
the first frame and 1 s after landing, the hips pitch through 360 +/- 30 degrees backwards, the head ends above
the hips, the flip travels backwards from where the avatar stands.

The test rigs have their own proportions, so these checks switch on when the bundled policy meets the training
issue's bar on both body groups (lands >= 98% on the canonical body and >= 95% on proportion variants, as
measured in its metadata). Until then they skip with the measured figures, and the bake's faithfulness is what
test_flip.py checks.
"""

from __future__ import annotations

import math

import bpy
import numpy as np
import pytest

from tests.blender import rigs
from tests.blender.conftest import bundled_success
from tests.blender.test_flip import RIGS, foot_points, world_matrices




@pytest.fixture(scope="module")
def bundled() -> str:
    path, success = bundled_success()
    if path is None:
        pytest.skip("no bundled policy (blender_backflip/assets/backflip_final.npz) yet")
    bar = {"canonical": 0.98, "variants": 0.95}
    short = {k: success.get(k) for k, v in bar.items() if success.get(k) is None or success[k] < v}
    if short:
        pytest.skip(f"the bundled policy is below the landing bar {bar}: measured {short}; still training")
    return path


def check_flip(rig: str, obj: bpy.types.Object, policy: str) -> None:
    from blender_backflip.operators import _pipeline as pipe

    avatar = pipe.read_avatar(bpy.context, obj, pipe.FlipSettings(policy_file=policy))
    m = avatar.rig.mapping
    ground = avatar.rig.ground_height
    forward = np.array([math.cos(avatar.rig.facing_yaw), math.sin(avatar.rig.facing_yaw), 0.0])
    first, last = (int(f) for f in obj.animation_data.action.frame_range)
    fps = bpy.context.scene.render.fps / bpy.context.scene.render.fps_base
    feet = [m["left_foot"], m["right_foot"]]
    feet += [c for f in list(feet) for c in avatar.rig.descendants(f)]
    rest = np.array(obj.matrix_world)[:3, :3] @ np.array(obj.data.bones[m["pelvis"]].matrix_local)[:3, :3]
    low, hip_z, pitch, head_z, hips_xy = [], [], [], [], []
    for frame in range(first, last + 1):
        mats = world_matrices(obj, frame)
        low.append(foot_points(obj, mats, feet)[:, 2].min() - ground)
        hips = mats[m["pelvis"]]
        hip_z.append(hips[2, 3])
        up = hips[:3, :3] @ np.linalg.inv(rest) @ np.array([0.0, 0.0, 1.0])
        pitch.append(math.atan2(up @ forward, up[2]))
        head_z.append(mats[m["head"]][2, 3])
        hips_xy.append(hips[:3, 3])
    low = np.array(low)
    assert abs(low[0]) < 0.03, (rig, low[0])
    peak = int(np.argmax(hip_z))
    landing = peak + int(np.argmax(low[peak:] < 0.03))
    later = min(len(low) - 1, landing + int(round(fps)))
    assert abs(low[later]) < 0.03, (rig, low[later])
    turn = math.degrees(np.unwrap(pitch)[-1] - pitch[0])
    assert abs(turn + 360.0) <= 30.0, (rig, turn)  # backwards: the head goes back first
    assert head_z[-1] > hip_z[-1]
    travel = (hips_xy[-1] - hips_xy[0]) @ forward
    assert travel < -0.3, (rig, travel)


@pytest.mark.parametrize("rig", list(RIGS))
@pytest.mark.flip_quality
def test_the_flip_lands(rig: str, bundled: str) -> None:
    obj = rigs.build(**RIGS[rig])
    assert bpy.ops.backflip.flip(armature=obj.name, policy_file=bundled) == {"FINISHED"}
    check_flip(rig, obj, bundled)


@pytest.mark.parametrize("rig", ["mixamo_T_scale_0.01", "moved_turned_90_tall"])
def test_the_checks_pass_on_the_reference_flip(rig: str, policy_path: str, monkeypatch) -> None:
    """The checks above, on the reference clip itself played through the character's kinematics (a flip that
    lands by construction) and baked by the add-on: runs with any policy file, so the checks are checked."""
    import mujoco

    from blender_backflip.core.judge import Verdict
    from blender_backflip.core.reference import make_track
    from blender_backflip.core.rollout import SimResult
    from blender_backflip.operators import _pipeline as pipe

    def reference_flip(avatar, settings, progress=None):
        from blender_backflip.core.character import build_character
        from blender_backflip.core.policy_file import load_policy

        character = build_character(avatar.body.simulated)
        track = make_track(load_policy(pipe.policy_path(settings)).reference, character)
        data = mujoco.MjData(character.model)
        pos, quat = [], []
        for q in track.qpos:
            data.qpos[:] = q
            mujoco.mj_kinematics(character.model, data)
            pos.append(data.xpos[character.body_ids].copy())
            quat.append(data.xquat[character.body_ids].copy())
        times = np.arange(len(pos)) * track.dt
        verdict = Verdict(True, False, -360.0, 1.0, True, 0.0, 0.0, None)
        result = SimResult(1.0 / track.dt, times, track.qpos, np.array(pos), np.array(quat),
                           track.dof_pos, verdict, 0, "final")
        return pipe.Simulation(avatar.key, "reference", result, avatar.body, "final", 0.0)

    monkeypatch.setattr(pipe, "simulate_avatar", reference_flip)
    obj = rigs.build(**RIGS[rig])
    assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy_path) == {"FINISHED"}
    check_flip(rig, obj, policy_path)
