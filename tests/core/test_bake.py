"""The bake math without Blender: keyframe channels, replayed through Blender's pose formula, put every mapped
joint on its simulated body and every mapped bone in its simulated orientation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.bake import BODY_INDEX, Placement, plan_bake, rdp_keep, reduce_keys, resample
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.rig import fit_to_training_range, rest_alignment
from tests.core.rig_helpers import FakeSim, rig_from_layout


def replay(rig, plan) -> dict[str, np.ndarray]:
    """World matrices (N, 4, 4) of every keyed bone from the channel values alone (Blender's pose formula)."""
    n = len(plan.frames)
    values: dict[tuple[str, str], np.ndarray] = {}
    for c in plan.channels:
        full = np.interp(plan.frames, c.frames, c.values)
        values.setdefault((c.bone, c.data_path), np.zeros((n, 4)))[:, c.index] = full
    pose: dict[str, np.ndarray] = {}
    bones = sorted({c.bone for c in plan.channels}, key=lambda b: len(rig.ancestors(b)))
    for name in bones:
        basis = np.tile(np.eye(4), (n, 1, 1))
        basis[:, :3, 3] = values[(name, "location")][:, :3]
        if (name, "rotation_quaternion") in values:
            q = values[(name, "rotation_quaternion")]
        elif (name, "rotation_axis_angle") in values:
            aa = values[(name, "rotation_axis_angle")]
            q = rot.quat_from_axis_angle(aa[:, 1:], aa[:, 0])
        else:
            q = rot.quat_from_blender_euler(values[(name, "rotation_euler")][:, :3], "XYZ")
        basis[:, :3, :3] = rot.quat_to_matrix(q)
        bone = rig.bones[name]
        if bone.parent is None:
            pose[name] = bone.matrix @ basis
        else:
            parent = rig.bones[bone.parent]
            pose[name] = pose[bone.parent] @ np.linalg.inv(parent.matrix) @ bone.matrix @ basis
    return {name: rig.object_matrix @ m for name, m in pose.items()}


def setup(style: str, unit=1.0, location=(0, 0, 0), yaw=0.0, k=1.08, modes=None, fps=30.0):
    rig = rig_from_layout(style, k=k, unit=unit, location=location, yaw_deg=yaw)
    body = fit_to_training_range(rig.proportions(70.0))
    sim = FakeSim(body.simulated, n=61)
    ground = rig.ground_height
    placement = Placement(np.array([*rig.hip_center[:2], ground]), rig.facing_yaw, body.scale,
                          body.avatar.leg_length - body.scale * body.simulated.leg_length)
    plan = plan_bake(rig, sim, placement, rest_alignment(rig, rig.facing_yaw), fps, 1.0, modes)
    return rig, body, sim, placement, plan


@pytest.mark.parametrize("style,unit,location,yaw,k", [
    ("mixamo", 0.01, (0, 0, 0), 0.0, 1.08), ("rigify", 1.0, (0, 0, 0), 0.0, 1.08),
    ("unreal", 1.0, (0.5, 0.2, 0), 0.0, 1.08), ("generic_extras", 1.0, (0, 0, 0), 0.0, 1.08),
    ("mixamo_bare", 1.0, (2.0, -1.5, 0.0), 90.0, 1.08), ("mixamo", 0.01, (1.0, 1.0, 0.5), 30.0, 1.25),
    ("rigify", 1.0, (0, 0, 0), 0.0, 0.6)])
def test_joints_follow_the_simulated_bodies(style, unit, location, yaw, k) -> None:
    rig, body, sim, placement, plan = setup(style, unit, location, yaw, k=k)
    assert (body.scale != 1.0) == (k != 1.08)
    world = replay(rig, plan)
    _, pos, quat = resample(sim, 30.0)
    placed = placement.point(pos)
    for role, bone in rig.mapping.items():
        head = world[bone][:, :3, 3]
        if role != "pelvis":
            err = np.linalg.norm(head - placed[:, BODY_INDEX[role]], axis=-1)
            assert err.max() < 1e-6, (role, err.max())
        np.testing.assert_allclose(world[bone][:, :3, :3] / rig.object_scale, plan.target_world[role], atol=1e-6)
    # The hip joints (thigh heads) sit where the simulated pelvis puts them.
    hips = 0.5 * (world[rig.mapping["left_thigh"]][:, :3, 3] + world[rig.mapping["right_thigh"]][:, :3, 3])
    np.testing.assert_allclose(hips, placed[:, BODY_INDEX["pelvis"]], atol=1e-6)


def test_alignment_makes_the_rest_pose_the_physics_rest_pose() -> None:
    """A T-pose rig with the simulated body standing at rest: arms hang down, the bone roll stays the rig's."""
    rig = rig_from_layout("mixamo", k=1.08)
    align = rest_alignment(rig, rig.facing_yaw)
    arm = rig.mapping["left_upper_arm"]
    down = align["left_upper_arm"] @ rig.rest_world_rotation(arm) @ np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(down, [0, 0, -1], atol=1e-9)
    np.testing.assert_allclose(align["left_thigh"], np.eye(3), atol=1e-9)


@pytest.mark.parametrize("mode", ["XYZ", "AXIS_ANGLE"])
def test_rotation_modes_give_the_same_pose(mode: str) -> None:
    rig, *_, plan_q = setup("mixamo")
    modes = {b: mode for b in rig.bones}
    _, _, _, _, plan_e = setup("mixamo", modes=modes)
    wq, we = replay(rig, plan_q), replay(rig, plan_e)
    for bone in wq:
        np.testing.assert_allclose(we[bone], wq[bone], atol=1e-6)
    if mode == "XYZ":  # continuous: no 2 pi jumps between keys
        for c in plan_e.channels:
            if c.data_path == "rotation_euler":
                assert np.max(np.abs(np.diff(c.values))) < 1.0


def test_root_bone_carries_the_horizontal_motion() -> None:
    rig, body, sim, placement, plan = setup("unreal")
    root = {c.index: c.values for c in plan.channels if c.bone == "root" and c.data_path == "location"}
    world = replay(rig, plan)
    root_z = world["root"][:, 2, 3]
    np.testing.assert_allclose(root_z, 0.0, atol=1e-9)
    travel = world["root"][-1, :3, 3] - world["root"][0, :3, 3]
    assert np.linalg.norm(travel) > 1.0  # the fake flip travels 1.1 m (x 1.08)
    assert max(np.ptp(v) for v in root.values()) > 1.0


def test_motion_is_placed_where_the_avatar_stands_and_faces() -> None:
    rig, body, sim, placement, plan = setup("mixamo_bare", location=(2.0, -1.5, 0.0), yaw=90.0)
    world = replay(rig, plan)
    hips = world["Hips"][:, :3, 3]
    forward = np.array([math.cos(rig.facing_yaw), math.sin(rig.facing_yaw), 0.0])
    np.testing.assert_allclose(hips[0, :2], [2.0, -1.5], atol=0.02)
    move = hips[-1] - hips[0]
    assert move @ forward == pytest.approx(-1.1 * body.scale, abs=0.05)  # backwards, along the facing


def test_resample_hits_the_simulated_frames() -> None:
    sim = FakeSim(fit_to_training_range(rig_from_layout("mixamo").proportions(70)).simulated, n=121)
    t, pos, quat = resample(sim, 24.0)
    assert len(t) == 25 and t[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(pos, sim.body_pos[::5], atol=1e-12)
    assert np.all(np.abs(np.sum(quat * sim.body_quat[::5], axis=-1)) > 1 - 1e-9)
    with pytest.raises(BackflipError, match="frame rate"):
        resample(sim, 0.0)


def test_rdp_error_bound() -> None:
    x = np.linspace(0, 3, 200)
    v = np.sin(3 * x) + 0.1 * x
    for tol in (1e-3, 1e-2, 0.1):
        keep = rdp_keep(v, tol)
        assert keep[0] == 0 and keep[-1] == 199 and len(keep) < 200
        assert np.max(np.abs(np.interp(np.arange(200), keep, v[keep]) - v)) <= tol + 1e-12


def test_keyframe_reduction_stays_within_the_error() -> None:
    rig, body, sim, placement, plan = setup("mixamo", fps=60.0)
    reduced = reduce_keys(plan, max_error_deg=1.0, max_error_m=0.01, unit_scale=rig.object_scale)
    assert reduced.num_keys < 0.6 * plan.num_keys
    full, small = replay(rig, plan), replay(rig, reduced)
    for role, bone in rig.mapping.items():
        assert np.max(np.linalg.norm(small[bone][:, :3, 3] - full[bone][:, :3, 3], axis=-1)) < 0.08


def test_nan_motion_is_refused() -> None:
    rig, body, sim, placement, _ = setup("mixamo")
    sim.body_quat[10:] = np.nan
    with pytest.raises(BackflipError, match="NaN"):
        plan_bake(rig, sim, placement, rest_alignment(rig, rig.facing_yaw), 30.0)
