"""The backflip played through forward kinematics of the character's own MuJoCo model, and retargeted."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.character import build_character
from blender_backflip.core.kinematics import (body_positions, frame_qpos, frame_qvel, lowest_foot_points,
                                              qpos_from_pose)
from blender_backflip.core.motion import Motion
from blender_backflip.core.retarget import retarget
from blender_backflip.core.skeleton import BODIES, CANONICAL, NUM_DOFS

APEX = 1.18  # both clips' root peak, metres, for the canonical body


def _flip_figures(motion: Motion, scale: float) -> dict[str, float]:
    """Feet, pitch and apex of a motion played on a uniformly scaled character."""
    character = build_character(CANONICAL.uniformly_scaled(scale))
    t = np.arange(motion.num_frames) * motion.dt
    frame = motion.sample(t)
    feet = lowest_foot_points(character, frame_qpos(character, frame))
    ends = (t <= 0.2) | (t >= motion.duration - 0.2)
    # Backward pitch two ways: integrated angular velocity about +Y, and the unwrapped forward axis.
    integrated = np.degrees(np.trapz(frame.root_angvel[:, 1], t))
    forward = rot.quat_rotate(frame.root_quat, np.array([1.0, 0.0, 0.0]))
    unwrapped = np.degrees(np.unwrap(np.arctan2(forward[:, 2], forward[:, 0])))
    return {
        "feet_at_ends": float(np.abs(feet[ends]).max()),
        "pitch_integrated": float(integrated),
        "pitch_unwrapped": float(unwrapped[-1] - unwrapped[0]),
        "apex": float(frame.root_pos[:, 2].max()),
        "lowest_foot_in_air": float(feet.min(axis=1).max()),
    }


@pytest.mark.parametrize("scale", [1.0, 0.8, 1.25])
def test_backflip_through_fk(backflip_motion: Motion, scale: float) -> None:
    motion = backflip_motion if scale == 1.0 else retarget(backflip_motion, CANONICAL.uniformly_scaled(scale))
    fig = _flip_figures(motion, scale)
    assert fig["feet_at_ends"] < 0.03, fig
    # Backwards is negative about +Y; the forward axis tilts up, so its unwrapped angle grows by 360.
    assert fig["pitch_integrated"] == pytest.approx(-360.0, abs=10.0), fig
    assert fig["pitch_unwrapped"] == pytest.approx(360.0, abs=10.0), fig
    assert fig["apex"] == pytest.approx(APEX * scale, abs=0.02), fig
    assert fig["lowest_foot_in_air"] > 0.3 * scale, fig  # both feet really leave the ground


def test_retarget_scales_root_only(backflip_motion: Motion) -> None:
    small = CANONICAL.uniformly_scaled(0.8)
    moved = retarget(backflip_motion, small)
    np.testing.assert_allclose(moved.root_pos, backflip_motion.root_pos * 0.8, rtol=1e-12)
    np.testing.assert_array_equal(moved.root_quat, backflip_motion.root_quat)
    np.testing.assert_array_equal(moved.dof_pos, backflip_motion.dof_pos)
    np.testing.assert_allclose(moved.root_linvel, backflip_motion.root_linvel * 0.8, rtol=1e-9, atol=1e-12)
    assert moved.duration == backflip_motion.duration and moved.loop == backflip_motion.loop
    # Non-uniform: the legs decide.
    long_legs = CANONICAL.scaled(legs=1.2, arms=0.9)
    ratio = long_legs.leg_length / CANONICAL.leg_length
    np.testing.assert_allclose(retarget(backflip_motion, long_legs).root_pos, backflip_motion.root_pos * ratio)


def test_fk_of_the_rest_pose(canonical_character) -> None:
    c = canonical_character
    qpos = qpos_from_pose(c, np.array([0.0, 0.0, CANONICAL.leg_length]), np.array([1.0, 0, 0, 0]),
                          np.zeros(NUM_DOFS))
    np.testing.assert_array_equal(qpos, c.model.qpos0)
    pos, quat = body_positions(c, qpos)
    assert pos.shape == (len(BODIES), 3) and quat.shape == (len(BODIES), 4)
    z = dict(zip(BODIES, pos[:, 2]))
    assert z["head"] > z["torso"] > z["pelvis"] > z["right_shin"] > z["right_foot"]
    assert pos[BODIES.index("left_thigh"), 1] > 0 > pos[BODIES.index("right_thigh"), 1]  # left is +Y
    np.testing.assert_allclose(lowest_foot_points(c, qpos), 0.0, atol=1e-12)
    np.testing.assert_allclose(quat, np.tile([1.0, 0, 0, 0], (len(BODIES), 1)), atol=1e-12)


def test_fk_matches_mujoco_and_batches(canonical_character, synthetic_motion: Motion) -> None:
    c = canonical_character
    frames = synthetic_motion.sample(np.array([[0.2, 0.9], [1.05, 1.3]]))
    qpos = frame_qpos(c, frames)
    pos, _ = body_positions(c, qpos)
    assert pos.shape == (2, 2, len(BODIES), 3)
    data = mujoco.MjData(c.model)
    data.qpos[:] = qpos[1, 0]
    mujoco.mj_kinematics(c.model, data)
    np.testing.assert_array_equal(pos[1, 0], data.xpos[c.body_ids])


def test_qvel_moves_the_body_like_the_reference(canonical_character, synthetic_motion: Motion) -> None:
    """Integrating frame_qvel for a short time lands on the next reference pose (free-joint frames are right)."""
    c = canonical_character
    for t in (0.9, 1.0, 1.1, 1.2):
        h = 1e-3
        now, later = synthetic_motion.sample(t), synthetic_motion.sample(t + h)
        qpos = frame_qpos(c, now).copy()
        mujoco.mj_integratePos(c.model, qpos, frame_qvel(c, now), h)
        pos, _ = body_positions(c, qpos)
        ref, _ = body_positions(c, frame_qpos(c, later))
        moved = np.abs(ref - body_positions(c, frame_qpos(c, now))[0]).max()
        assert moved > 1e-3
        assert np.abs(pos - ref).max() < 0.05 * moved, t
