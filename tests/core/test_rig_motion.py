"""A rig's motion read back as a reference (core.rig_motion), and reference clips written as DeepMimic files:
a baked motion reads back to the joint angles and root path that were baked."""

from __future__ import annotations

import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.bake import resample
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.motion import Motion, load_deepmimic, save_deepmimic
from blender_backflip.core.rig import rest_alignment
from blender_backflip.core.rig_motion import (ROLES_READ, body_rotations, check_moves, motion_from_bodies,
                                              pelvis_positions)
from blender_backflip.core.skeleton import CANONICAL, NUM_DOFS
from tests.core.test_bake import replay, setup


@pytest.mark.parametrize("style,unit,location,yaw,k", [
    ("mixamo", 0.01, (0, 0, 0), 0.0, 1.08), ("rigify", 1.0, (0.5, -2.0, 0.3), 40.0, 1.08),
    ("unreal", 1.0, (0, 0, 0), 0.0, 1.25)])
def test_a_baked_motion_reads_back_to_what_was_baked(style, unit, location, yaw, k) -> None:
    rig, body, sim, placement, plan = setup(style, unit, location, yaw, k=k)
    world = replay(rig, plan)  # bone world matrices from the keys alone
    bone_world = {role: world[rig.mapping[role]][:, :3, :3] / rig.object_scale for role in ROLES_READ}
    rotations = body_rotations(rig, bone_world, placement, rest_alignment(rig, placement.yaw))
    times, pos, quat = resample(sim, 30.0)
    for i, role in enumerate(("pelvis", "torso", "head", "right_thigh", "right_shin", "right_foot")):
        np.testing.assert_allclose(rotations[role], rot.quat_to_matrix(quat[:, i]), atol=1e-6)
    pelvis_head = world[rig.mapping["pelvis"]][:, :3, 3]
    root = pelvis_positions(rig, pelvis_head, rotations["pelvis"], placement)
    np.testing.assert_allclose(root, pos[:, 0], atol=1e-6)

    motion = motion_from_bodies(times, root, rotations, body.simulated)
    baked = sim.qpos[::4]  # the 120 Hz simulation at the 30 fps of the bake
    np.testing.assert_allclose(motion.sample(times).dof_pos, baked[:, sim.dof_qpos], atol=1e-6)
    canonical_root = baked[:, 0:3] * CANONICAL.leg_length / body.simulated.leg_length
    canonical_root[:, :2] -= canonical_root[0, :2]
    np.testing.assert_allclose(motion.sample(times).root_pos, canonical_root, atol=1e-6)


def test_a_clip_file_reads_back_as_written(synthetic_motion: Motion, tmp_path) -> None:
    path = tmp_path / "mine.txt"
    save_deepmimic(path, synthetic_motion)
    again = load_deepmimic(path)
    assert again.loop == "clamp" and again.num_frames == synthetic_motion.num_frames
    np.testing.assert_allclose(again.dof_pos, synthetic_motion.dof_pos, atol=1e-6)
    np.testing.assert_allclose(again.root_pos, synthetic_motion.root_pos - [*synthetic_motion.root_pos[0, :2], 0.0],
                               atol=1e-6)
    np.testing.assert_allclose(np.abs(np.sum(again.root_quat * synthetic_motion.root_quat, axis=-1)), 1.0, atol=1e-6)


def test_a_rig_that_does_not_move_is_refused() -> None:
    n = 10
    still = Motion(1 / 30, np.tile([0.0, 0.0, 0.9], (n, 1)), np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
                   np.full((n, NUM_DOFS), 0.2))
    with pytest.raises(BackflipError, match=r"does not move in frames 1-10.*Key the motion first"):
        check_moves(still, (1, 10))


def test_one_frame_is_not_a_motion() -> None:
    with pytest.raises(BackflipError, match="at least 2 frames"):
        motion_from_bodies(np.zeros(1), np.zeros((1, 3)), {r: np.eye(3)[None] for r in ROLES_READ}, CANONICAL)
