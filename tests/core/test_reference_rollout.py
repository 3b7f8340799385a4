"""The reference track and the start of a flip keep every geom on or above the floor, and contacts stay stiff."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from blender_backflip.core.character import build_character
from blender_backflip.core.contacts import GroundProbe
from blender_backflip.core.controller import Controller
from blender_backflip.core.policy_file import read_policy_unchecked
from blender_backflip.core.reference import make_track
from blender_backflip.core.rollout import simulate
from blender_backflip.core.skeleton import CANONICAL
from blender_backflip.core.motion import Motion

BUNDLED = Path(__file__).parents[2] / "blender_backflip" / "assets" / "backflip_final.npz"


def lowest_points(character, qpos: np.ndarray) -> np.ndarray:
    """(N, ngeom) lowest point of each geom for each qpos, from MuJoCo's own kinematics."""
    probe = GroundProbe(character)
    data = mujoco.MjData(character.model)
    out = []
    for q in qpos:
        data.qpos[:] = q
        mujoco.mj_kinematics(character.model, data)
        out.append(probe.lowest_in(data)[0])
    return np.array(out)


@pytest.mark.parametrize("scale", [1.0, 0.9, 1.12])
def test_reference_never_goes_under_the_floor(backflip_motion: Motion, scale: float) -> None:
    character = build_character(CANONICAL.scaled(scale, scale, scale, scale))
    track = make_track(backflip_motion, character)
    low = lowest_points(character, track.qpos)
    assert low.min() > -1e-9
    # Standing frames touch the floor (lifted no higher than needed): the lowest point is on it.
    assert abs(low[0].min()) < 1e-9 and abs(low[-1].min()) < 1e-9
    # The stored body positions agree with the lifted state.
    data = mujoco.MjData(character.model)
    for i in (0, track.num_frames // 3, track.num_frames - 1):
        data.qpos[:] = track.qpos[i]
        mujoco.mj_kinematics(character.model, data)
        np.testing.assert_allclose(data.xpos[character.body_ids], track.body_pos[i], atol=1e-9)
    np.testing.assert_allclose(track.root_pos, track.qpos[:, 0:3], atol=1e-12)


@pytest.mark.skipif(not BUNDLED.exists(), reason="no bundled policy")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flip_starts_with_no_foot_in_the_floor(seed: int) -> None:
    character = build_character(CANONICAL)
    result = simulate(character, Controller(read_policy_unchecked(BUNDLED), backend="numpy"), seed=seed)
    first = lowest_points(character, result.qpos[:1])[0]
    assert first.min() > -1e-9
    assert result.verdict.max_foot_penetration_cm >= 0.0


def test_every_contact_has_the_floor_the_policy_was_trained_on() -> None:
    """All geoms carry CONTACT_TIMECONST, at least 2 steps so that MuJoCo's safety clamp never silently
    replaces it, and policy files record it (another floor is refused: tests/policy/test_train_export_evaluate.py)."""
    from blender_backflip.core import character as c
    from blender_backflip.core.policy_file import core_metadata

    model = build_character(CANONICAL).model
    assert not model.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_REFSAFE
    assert c.CONTACT_TIMECONST >= 2 * model.opt.timestep
    assert np.allclose(model.geom_solref[:, 0], c.CONTACT_TIMECONST)
    assert core_metadata()["contact_timeconst"] == c.CONTACT_TIMECONST


@pytest.mark.skipif(not BUNDLED.exists(), reason="no bundled policy")
def test_recorded_bodies_are_of_the_same_instant_as_the_joint_angles() -> None:
    """After mj_step MuJoCo's body poses are still those of the step's start: the recorder brings them to qpos,
    so the bake's bodies, the tracking error and the foot depth are measured at the recorded time."""
    character = build_character(CANONICAL)
    result = simulate(character, Controller(read_policy_unchecked(BUNDLED), backend="numpy"), seed=0)
    data = mujoco.MjData(character.model)
    for i in range(0, len(result.times), 7):
        data.qpos[:] = result.qpos[i]
        mujoco.mj_kinematics(character.model, data)
        np.testing.assert_allclose(data.xpos[character.body_ids], result.body_pos[i], atol=1e-9)
        np.testing.assert_allclose(np.abs(np.sum(data.xquat[character.body_ids] * result.body_quat[i], axis=-1)),
                                   1.0, atol=1e-9)
