"""The mirror maps: involutions that agree with the physics (a mirrored state and mirrored targets evolve into
the mirror image of the original) and with observe()."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from blender_backflip.core import rates
from blender_backflip.core import rotations as rot
from blender_backflip.core.character import Character
from blender_backflip.core.mirror import (mirror_angular_velocity, mirror_dofs, mirror_observation, mirror_quat,
                                          mirror_vector)
from blender_backflip.core.observation import OBS_DIM, RefTarget, observe
from blender_backflip.core.skeleton import DOF_NAMES, NUM_DOFS


def test_the_maps_are_involutions_that_swap_sides() -> None:
    rng = np.random.default_rng(0)
    obs, dofs = rng.normal(size=(3, OBS_DIM)), rng.normal(size=(3, NUM_DOFS))
    np.testing.assert_array_equal(mirror_observation(mirror_observation(obs)), obs)
    np.testing.assert_array_equal(mirror_dofs(mirror_dofs(dofs)), dofs)
    unit = np.eye(NUM_DOFS)
    mirrored = mirror_dofs(unit)  # row i: where dof i's value lands, and with which sign
    for i, name in enumerate(DOF_NAMES):
        j = int(np.flatnonzero(mirrored[i])[0])
        expected = name.replace("right_", "@").replace("left_", "right_").replace("@", "left_")
        assert DOF_NAMES[j] == expected
        flexion = name.endswith("_y") or name.endswith("knee") or name.endswith("elbow")
        assert mirrored[i, j] == (1.0 if flexion else -1.0), name


def _state(character: Character, rng: np.random.Generator, height: float) -> tuple[np.ndarray, np.ndarray]:
    model = character.model
    qpos, qvel = model.qpos0.copy(), np.zeros(model.nv)
    qpos[0:3] = (0.1, 0.05, height)
    qpos[3:7] = rot.quat_from_axis_angle(rng.normal(size=3) / np.sqrt(3), np.array(0.3 * rng.normal()))
    qpos[character.dof_qpos] = rng.uniform(-0.4, 0.4, NUM_DOFS)
    qvel[:] = rng.normal(scale=1.0, size=model.nv)
    return qpos, qvel


def _mirror_state(character: Character, qpos: np.ndarray, qvel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    qpos_m, qvel_m = qpos.copy(), qvel.copy()
    qpos_m[0:3], qpos_m[3:7] = mirror_vector(qpos[0:3]), mirror_quat(qpos[3:7])
    qvel_m[0:3], qvel_m[3:6] = mirror_vector(qvel[0:3]), mirror_angular_velocity(qvel[3:6])  # MuJoCo: world, local
    qpos_m[character.dof_qpos] = mirror_dofs(qpos[character.dof_qpos])
    qvel_m[character.dof_qvel] = mirror_dofs(qvel[character.dof_qvel])
    return qpos_m, qvel_m


def _observe(character: Character, qpos: np.ndarray, qvel: np.ndarray, ref: RefTarget) -> np.ndarray:
    return observe(qpos[None], qvel[None], character.dof_qpos, character.dof_qvel, ref, np.array([0.4]), 1.8,
                   rates.HOLD_SECONDS, np.array([[1.1, 0.9, 1.0, 1.05, 0.95]]))[0]


@pytest.mark.parametrize("height", [1.6, 0.8], ids=["in the air", "on the floor"])
def test_a_mirrored_state_evolves_into_the_mirror_image(canonical_character: Character, height: float) -> None:
    character, rng = canonical_character, np.random.default_rng(1)
    qpos, qvel = _state(character, rng, height)
    targets = rng.uniform(-0.5, 0.5, NUM_DOFS)
    runs = []
    for q, v, ctrl in ((qpos, qvel, targets), (*_mirror_state(character, qpos, qvel), mirror_dofs(targets))):
        data = mujoco.MjData(character.model)
        data.qpos[:], data.qvel[:], data.ctrl[:] = q, v, ctrl
        contacts = 0
        for _ in range(3 * rates.SUBSTEPS):
            mujoco.mj_step(character.model, data)
            contacts = max(contacts, data.ncon)
        runs.append((data.qpos.copy(), data.qvel.copy(), contacts))
    (qpos_a, qvel_a, contacts), (qpos_b, qvel_b, _) = runs
    assert (contacts > 0) == (height < 1.0)  # the low state does meet the floor, the high one does not
    expected_q, expected_v = _mirror_state(character, qpos_a, qvel_a)
    np.testing.assert_allclose(qpos_b, expected_q, atol=1e-9)
    np.testing.assert_allclose(qvel_b, expected_v, atol=1e-9)

    ref_pos, ref_quat = np.array([[0.2, 0.1, 1.0]]), rot.quat_normalize(np.array([[0.9, 0.1, -0.3, 0.2]]))
    ref_dofs = rng.uniform(-1.0, 1.0, (1, NUM_DOFS))
    ref = RefTarget(ref_pos, ref_pos + 0.05, ref_quat, ref_dofs)
    mirrored_ref = RefTarget(mirror_vector(ref_pos), mirror_vector(ref_pos + 0.05), mirror_quat(ref_quat),
                             mirror_dofs(ref_dofs))
    np.testing.assert_allclose(_observe(character, qpos_b, qvel_b, mirrored_ref),
                               mirror_observation(_observe(character, qpos_a, qvel_a, ref)), atol=1e-5)
