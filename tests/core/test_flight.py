"""The ballistic flight: in the air the reference's centre of mass falls under gravity and its pitch momentum
is held; nothing else of the clip changes."""

from __future__ import annotations

import numpy as np
import pytest

from blender_backflip.core.character import build_character
from blender_backflip.core.flight import longest_airborne, pitch_momentum, velocities
from blender_backflip.core.motion import Motion
from blender_backflip.core.reference import make_track
from blender_backflip.core.skeleton import CANONICAL


def test_longest_airborne_needs_ground_on_both_sides() -> None:
    air = np.array([0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    assert longest_airborne(air) == (3, 7)  # the last run is longer but never lands within the frames
    assert longest_airborne(np.zeros(5, dtype=bool)) is None
    assert longest_airborne(np.array([1, 1, 0], dtype=bool)) is None  # starts in the air: no take-off seen


@pytest.fixture(scope="module", params=[1.0, 0.88])
def tracks(request: pytest.FixtureRequest, backflip_motion: Motion):
    s = request.param
    character = build_character(CANONICAL.scaled(s, 2.0 - s, s, 1.0))
    return character, make_track(backflip_motion, character), make_track(backflip_motion, character,
                                                                         flight="ballistic")


def test_in_the_air_the_centre_of_mass_falls_under_gravity(tracks) -> None:
    character, clip, ballistic = tracks
    f = ballistic.flight
    assert f is not None and f.touchdown - f.takeoff >= 5
    com = ballistic.com[f.takeoff:f.touchdown + 1]
    accel = np.diff(com, 2, axis=0) / ballistic.dt**2
    np.testing.assert_allclose(accel[1:-1], np.tile([0.0, 0.0, -9.81], (len(accel) - 2, 1)), atol=1e-6)
    # the clip itself is not ballistic: this is what the correction is for
    clip_accel = np.diff(clip.com[f.takeoff:f.touchdown + 1], 2, axis=0) / clip.dt**2
    assert np.abs(clip_accel[1:-1] - [0.0, 0.0, -9.81]).max() > 1.0


def test_in_the_air_the_pitch_momentum_is_held(tracks) -> None:
    character, clip, ballistic = tracks
    f = ballistic.flight
    frames = np.arange(f.takeoff + 2, f.touchdown - 1)  # central differences that stay inside the flight
    held, _ = pitch_momentum(character, ballistic.qpos[frames], velocities(character.model, ballistic.qpos,
                                                                           ballistic.dt)[frames])
    raw, _ = pitch_momentum(character, clip.qpos[frames], velocities(character.model, clip.qpos, clip.dt)[frames])
    # Measured by central differences at 30 Hz, which smooth the rate the correction integrated: a few
    # frames near kinks of the clip stay off by up to 35%, the rest within 5%.
    off = np.abs(held - f.angular_momentum) / abs(f.angular_momentum)
    assert np.median(off) < 0.05 and off.max() < 0.4
    assert held.max() - held.min() < 0.5 * (raw.max() - raw.min())


def test_only_the_flight_changes_and_only_the_root(tracks) -> None:
    character, clip, ballistic = tracks
    f = ballistic.flight
    np.testing.assert_array_equal(ballistic.dof_pos, clip.dof_pos)
    outside = np.r_[0:f.takeoff + 1, f.touchdown:clip.num_frames]
    np.testing.assert_allclose(ballistic.qpos[outside], clip.qpos[outside], atol=1e-12)
    np.testing.assert_allclose(ballistic.body_pos[outside], clip.body_pos[outside], atol=1e-12)
    inside = slice(f.takeoff + 1, f.touchdown)
    assert np.abs(ballistic.root_pos[inside] - clip.root_pos[inside]).max() > 1e-3
    # the stored root velocities follow the new path
    vel = (ballistic.root_pos[f.takeoff + 2] - ballistic.root_pos[f.takeoff]) / (2 * ballistic.dt)
    np.testing.assert_allclose(ballistic.qvel[f.takeoff + 1, 0:3], vel, atol=1e-9)


def test_a_clip_that_never_leaves_the_ground_is_unchanged(canonical_character, synthetic_motion: Motion) -> None:
    standing = Motion(dt=synthetic_motion.dt, root_pos=np.repeat(synthetic_motion.root_pos[:1], 10, axis=0),
                      root_quat=np.repeat(synthetic_motion.root_quat[:1], 10, axis=0),
                      dof_pos=np.repeat(synthetic_motion.dof_pos[:1], 10, axis=0), loop="clamp")
    ballistic = make_track(standing, canonical_character, flight="ballistic")
    assert ballistic.flight is None
    np.testing.assert_array_equal(ballistic.qpos, make_track(standing, canonical_character).qpos)


def test_an_unknown_flight_mode_is_refused(canonical_character, synthetic_motion: Motion) -> None:
    with pytest.raises(ValueError, match="ballistic"):
        make_track(synthetic_motion, canonical_character, flight="physical")
