"""Planted feet: from the landing on, the reference's feet stay on the spot where the clip leaves them, and
(stance_and_landing) before take-off its toes stay where they stand; the pelvis and every joint above the legs
stay the clip's."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.character import build_character
from blender_backflip.core.motion import Motion
from blender_backflip.core.planted_feet import BLEND_FRAMES, leg_dofs, reach, toe
from blender_backflip.core.reference import make_track
from blender_backflip.core.skeleton import BODIES, CANONICAL, DOF_NAMES, FOOT_BODIES

from .conftest import backflip_motion_or_skip

FEET = [BODIES.index(f) for f in FOOT_BODIES]


@pytest.fixture(scope="module", params=[1.0, 1.12])
def tracks(request: pytest.FixtureRequest, backflip_motion: Motion):
    character = build_character(CANONICAL.scaled(legs=request.param, arms=2.0 - request.param))
    clip = make_track(backflip_motion, character)
    planted = make_track(backflip_motion, character, feet="planted")
    landing = make_track(backflip_motion, character, flight="ballistic").flight.touchdown
    return character, clip, planted, landing


@pytest.fixture(scope="module", params=[1.0, 0.88])
def stance_tracks(request: pytest.FixtureRequest):
    """The real clip only: the synthetic one leaves the ground on legs too straight to reach back to the spot."""
    clip = backflip_motion_or_skip()
    character = build_character(CANONICAL.scaled(legs=request.param, arms=2.0 - request.param))
    planted = make_track(clip, character, feet="planted")
    stance = make_track(clip, character, feet="stance_and_landing")
    takeoff = make_track(clip, character, flight="ballistic").flight.takeoff
    return character, planted, stance, takeoff


def toes(character, track, frames: range) -> np.ndarray:
    data = mujoco.MjData(character.model)
    out = []
    for i in frames:
        data.qpos[:] = track.qpos[i]
        mujoco.mj_kinematics(character.model, data)
        out.append([toe(character, data, foot) for foot in FOOT_BODIES])
    return np.array(out)  # (frames, feet, 3)


def test_before_take_off_the_toes_stay_where_they_stand(stance_tracks) -> None:
    character, planted, stance, takeoff = stance_tracks
    held = toes(character, stance, range(takeoff + 1))
    np.testing.assert_allclose(held[:, :, 0:2], np.broadcast_to(held[0, :, 0:2], held[:, :, 0:2].shape), atol=3e-3)
    skated = toes(character, planted, range(takeoff + 1))
    assert np.abs(skated[:, :, 0] - skated[0, :, 0]).max() > 0.10  # the clip's toes slide through the crouch
    # the toes keep the clip's height (the foot keeps its roll onto them), give or take the lift clear of the floor
    assert np.abs(held[:, :, 2] - skated[:, :, 2]).max() < 0.015


def test_stance_planting_moves_only_the_legs_of_the_stance(stance_tracks) -> None:
    character, planted, stance, takeoff = stance_tracks
    np.testing.assert_allclose(stance.root_pos[:, 0:2], planted.root_pos[:, 0:2], atol=1e-12)
    assert np.abs(stance.root_pos[:, 2] - planted.root_pos[:, 2]).max() < 0.015  # lifted clear of the floor at most
    legs = np.concatenate([leg_dofs(f) for f in FOOT_BODIES])
    others = np.setdiff1d(np.arange(len(DOF_NAMES)), legs)
    np.testing.assert_array_equal(stance.dof_pos[:, others], planted.dof_pos[:, others])
    after = slice(takeoff + BLEND_FRAMES + 1, None)
    np.testing.assert_array_equal(stance.dof_pos[after], planted.dof_pos[after])
    np.testing.assert_array_equal(stance.dof_pos[0], planted.dof_pos[0])  # the standing start
    np.testing.assert_array_equal(stance.qpos[:, character.dof_qpos], stance.dof_pos)
    inside = slice(1, takeoff + BLEND_FRAMES + 1)
    np.testing.assert_allclose(stance.dof_vel[inside], np.gradient(stance.dof_pos, stance.dt, axis=0)[inside],
                               atol=1e-9)


def test_the_leg_chains_are_hip_knee_ankle() -> None:
    assert [DOF_NAMES[i] for i in leg_dofs("left_foot")] == [
        "left_hip_y", "left_hip_x", "left_hip_z", "left_knee", "left_ankle_y", "left_ankle_x", "left_ankle_z"]


def test_from_the_landing_the_feet_stay_on_the_spot_the_clip_ends_on(tracks) -> None:
    _, clip, planted, landing = tracks
    feet = planted.body_pos[landing:, FEET, 0:2]
    # within 3 mm: where the clip's knee is nearly straight the leg reaches no further
    np.testing.assert_allclose(feet, np.broadcast_to(planted.body_pos[-1, FEET, 0:2], feet.shape), atol=3e-3)
    assert np.abs(clip.body_pos[landing:, FEET, 0:2] - clip.body_pos[-1, FEET, 0:2]).max() > 0.08  # the skate
    # the feet keep about the clip's height: where a straight leg cannot reach the spot, it reaches it a little
    # lower and the frame is lifted clear of the floor
    assert np.abs(planted.body_pos[landing:, FEET, 2] - clip.body_pos[landing:, FEET, 2]).max() < 0.015
    assert np.abs(planted.root_pos[:, 2] - clip.root_pos[:, 2]).max() < 0.015


def test_the_pelvis_and_the_upper_body_stay_the_clips(tracks) -> None:
    _, clip, planted, landing = tracks
    np.testing.assert_allclose(planted.root_pos[:, 0:2], clip.root_pos[:, 0:2], atol=1e-12)
    np.testing.assert_allclose(planted.root_quat, clip.root_quat, atol=1e-12)
    legs = np.concatenate([leg_dofs(f) for f in FOOT_BODIES])
    others = np.setdiff1d(np.arange(len(DOF_NAMES)), legs)
    np.testing.assert_array_equal(planted.dof_pos[:, others], clip.dof_pos[:, others])
    before = slice(0, landing - BLEND_FRAMES)
    np.testing.assert_array_equal(planted.dof_pos[before], clip.dof_pos[before])
    np.testing.assert_array_equal(planted.dof_pos[clip.clip_frames:], clip.dof_pos[clip.clip_frames:])  # the hold


def test_the_planted_track_is_one_consistent_state(tracks) -> None:
    character, _, planted, landing = tracks
    np.testing.assert_array_equal(planted.qpos[:, character.dof_qpos], planted.dof_pos)
    np.testing.assert_array_equal(planted.qvel[:, character.dof_qvel], planted.dof_vel)
    inside = slice(landing, planted.clip_frames - 1)
    np.testing.assert_allclose(planted.dof_vel[inside], np.gradient(planted.dof_pos, planted.dt, axis=0)[inside],
                               atol=1e-9)


def test_planted_and_ballistic_together_keep_the_flight_ballistic(backflip_motion: Motion) -> None:
    character = build_character(CANONICAL)
    track = make_track(backflip_motion, character, flight="ballistic", feet="planted")
    f = track.flight
    accel = np.diff(track.com[f.takeoff:f.touchdown + 1], 2, axis=0) / track.dt**2
    np.testing.assert_allclose(accel[1:-1], np.tile([0.0, 0.0, -9.81], (len(accel) - 2, 1)), atol=1e-6)
    feet = track.body_pos[f.touchdown:, FEET, 0:2]
    np.testing.assert_allclose(feet, np.broadcast_to(track.body_pos[-1, FEET, 0:2], feet.shape), atol=3e-3)


def test_reach_puts_the_foot_on_target_without_leaving_the_joint_ranges(tracks) -> None:
    character, clip, _, landing = tracks
    model, data = character.model, mujoco.MjData(character.model)
    body = int(character.body_ids[BODIES.index("right_foot")])
    data.qpos[:] = clip.qpos[landing + 2]
    mujoco.mj_kinematics(model, data)
    hip = data.xpos[int(character.body_ids[BODIES.index("right_thigh")])]
    target, orientation = data.xpos[body].copy(), data.xquat[body].copy()
    target[0:2] += 0.5 * (hip[0:2] - target[0:2])  # halfway to under the hip: within the leg's reach
    q = reach(character, clip.qpos[landing + 2], "right_foot", target, orientation)
    data.qpos[:] = q
    mujoco.mj_kinematics(model, data)
    np.testing.assert_allclose(data.xpos[body], target, atol=1e-4)
    assert rot.quat_angle(rot.quat_multiply(data.xquat[body], rot.quat_conjugate(orientation))) < 1e-3
    dofs = character.dof_qpos[leg_dofs("right_foot")]
    assert np.all(q[dofs] >= character.dof_lower[leg_dofs("right_foot")] - 1e-12)
    assert np.all(q[dofs] <= character.dof_upper[leg_dofs("right_foot")] + 1e-12)
    others = np.setdiff1d(np.arange(model.nq), dofs)
    np.testing.assert_array_equal(q[others], clip.qpos[landing + 2][others])


def test_a_clip_that_never_leaves_the_ground_keeps_its_feet(canonical_character, synthetic_motion: Motion) -> None:
    standing = Motion(dt=synthetic_motion.dt, root_pos=np.repeat(synthetic_motion.root_pos[:1], 10, axis=0),
                      root_quat=np.repeat(synthetic_motion.root_quat[:1], 10, axis=0),
                      dof_pos=np.repeat(synthetic_motion.dof_pos[:1], 10, axis=0), loop="clamp")
    np.testing.assert_array_equal(make_track(standing, canonical_character, feet="planted").qpos,
                                  make_track(standing, canonical_character).qpos)


def test_an_unknown_feet_mode_is_refused(canonical_character, synthetic_motion: Motion) -> None:
    with pytest.raises(ValueError, match="planted"):
        make_track(synthetic_motion, canonical_character, feet="locked")
