"""The canonical skeleton and the MuJoCo character built from proportions: standing, mass, determinism, MJCF."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import mujoco
import numpy as np
import pytest

from blender_backflip.core import rates
from blender_backflip.core.character import build_character
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.skeleton import (BODIES, BODY_PARENT, CANONICAL, DOF_NAMES, JOINTS, MASS_FRACTION,
                                            NUM_DOFS, Proportions, joint_dof_slices)

SCALES = (0.8, 1.0, 1.25)


def test_skeleton_tables() -> None:
    assert NUM_DOFS == len(DOF_NAMES) == 28
    assert len(BODIES) == 15 and BODIES[0] == "pelvis"
    assert len(JOINTS) == 12
    assert sum(s.stop - s.start for s in joint_dof_slices().values()) == 28
    assert math.isclose(sum(MASS_FRACTION.values()), 1.0, rel_tol=1e-12)
    for body, parent in BODY_PARENT.items():
        assert parent is None or parent in BODIES, body
    # The clip's tuck needs about 143 degrees of hip flexion (DESIGN.md): the range must allow it.
    hip = next(j for j in JOINTS if j.name == "right_hip")
    assert hip.axes[0] == "y" and hip.lower[0] <= math.radians(-145)


def test_rates_are_defined_once() -> None:
    assert rates.PHYSICS_DT == pytest.approx(1 / 480)
    assert rates.SUBSTEPS * rates.CONTROL_DT == pytest.approx(rates.SUBSTEPS / rates.CONTROL_HZ)
    assert rates.SUBSTEPS == rates.PHYSICS_HZ // rates.CONTROL_HZ == 16
    assert build_character(CANONICAL).model.opt.timestep == rates.PHYSICS_DT


def test_model_layout(canonical_character) -> None:
    m = canonical_character.model
    assert m.nu == NUM_DOFS and m.nbody == 1 + len(BODIES)
    assert m.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    assert [m.joint(i).name for i in range(m.njnt)][0] == "root"
    assert [m.actuator(i).name for i in range(m.nu)] == list(DOF_NAMES)
    for joint in JOINTS:  # torque limits on every actuator
        for name in ([f"{joint.name}_{a}" for a in joint.axes] if joint.is_ball else [joint.name]):
            assert tuple(m.actuator(name).forcerange) == (-joint.torque_limit, joint.torque_limit)
            assert m.actuator(name).gainprm[0] == joint.kp
    knee = m.joint("right_knee")
    assert m.jnt_limited[knee.id] and tuple(knee.range) == pytest.approx((0.0, math.radians(160)))
    # Adjacent bodies never collide: body geoms only meet the floor.
    floor = canonical_character.floor_geom
    for g in range(m.ngeom):
        if g != floor:
            assert (m.geom_contype[g] & m.geom_conaffinity[g]) == 0
            assert (m.geom_contype[g] & m.geom_conaffinity[floor]) != 0


@pytest.mark.parametrize("scale", SCALES)
def test_total_mass_follows_the_parameter(scale: float) -> None:
    p = CANONICAL.uniformly_scaled(scale)
    assert p.total_mass == pytest.approx(45.0 * scale**3)
    model = build_character(p).model
    assert float(np.sum(model.body_mass)) == pytest.approx(p.total_mass, rel=1e-12)
    heavy = build_character(replace(CANONICAL, total_mass=70.0)).model
    assert float(np.sum(heavy.body_mass)) == pytest.approx(70.0, rel=1e-12)


@pytest.mark.parametrize("scale", SCALES)
def test_stands_under_pd_for_five_seconds(scale: float) -> None:
    character = build_character(CANONICAL.uniformly_scaled(scale))
    model = character.model
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    pelvis, head = model.body("pelvis").id, model.body("head").id
    start = data.xpos[pelvis, 2]
    assert start == pytest.approx(character.proportions.leg_length)
    data.ctrl[:] = 0.0  # hold the rest pose
    lowest = start
    for _ in range(int(round(5.0 / model.opt.timestep))):
        mujoco.mj_step(model, data)
        lowest = min(lowest, data.xpos[pelvis, 2])
        assert data.xpos[head, 2] > data.xpos[pelvis, 2]
    assert data.time == pytest.approx(5.0)
    assert lowest > 0.9 * start, f"pelvis sank to {lowest:.3f} m from {start:.3f} m"
    assert np.all(np.isfinite(data.qpos))


def _run(seed: int, steps: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    character = build_character(CANONICAL)
    model = character.model
    data = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    targets = rng.uniform(-0.3, 0.3, size=(steps // 50, model.nu))
    for i in range(steps):
        data.ctrl[:] = targets[i // 50]
        mujoco.mj_step(model, data)
    return data.qpos.copy(), data.qvel.copy()


def test_determinism_bitwise() -> None:
    qpos_a, qvel_a = _run(7)
    qpos_b, qvel_b = _run(7)
    assert qpos_a.tobytes() == qpos_b.tobytes()
    assert qvel_a.tobytes() == qvel_b.tobytes()
    qpos_c, _ = _run(8)  # and the targets really drive the body
    assert not np.array_equal(qpos_a, qpos_c)


@pytest.mark.parametrize("scale", (1.0, 1.25))
def test_mjcf_round_trip(scale: float, tmp_path: Path) -> None:
    character = build_character(CANONICAL.uniformly_scaled(scale))
    path = tmp_path / "avatar.xml"
    character.to_mjcf(path)
    loaded = mujoco.MjModel.from_xml_path(str(path))
    m = character.model
    assert loaded.nbody == m.nbody
    assert [loaded.body(i).name for i in range(loaded.nbody)] == [m.body(i).name for i in range(m.nbody)]
    np.testing.assert_allclose(loaded.body_mass, m.body_mass, rtol=0, atol=1e-9)
    assert [loaded.joint(i).name for i in range(loaded.njnt)] == [m.joint(i).name for i in range(m.njnt)]
    np.testing.assert_array_equal(loaded.jnt_type, m.jnt_type)
    np.testing.assert_array_equal(loaded.jnt_limited, m.jnt_limited)
    np.testing.assert_allclose(loaded.jnt_range, m.jnt_range, rtol=0, atol=1e-9)
    np.testing.assert_allclose(loaded.jnt_axis, m.jnt_axis, rtol=0, atol=1e-12)
    assert loaded.nu == m.nu == NUM_DOFS
    assert [loaded.actuator(i).name for i in range(loaded.nu)] == list(DOF_NAMES)
    np.testing.assert_allclose(loaded.actuator_forcerange, m.actuator_forcerange, atol=1e-9)
    np.testing.assert_allclose(loaded.body_pos, m.body_pos, atol=1e-9)
    np.testing.assert_allclose(loaded.geom_size, m.geom_size, rtol=0, atol=1e-12)
    np.testing.assert_allclose(loaded.geom_pos, m.geom_pos, rtol=0, atol=1e-12)
    np.testing.assert_allclose(loaded.actuator_gainprm, m.actuator_gainprm, rtol=1e-12)
    np.testing.assert_allclose(loaded.actuator_biasprm, m.actuator_biasprm, rtol=1e-12)
    np.testing.assert_allclose(loaded.body_inertia, m.body_inertia, rtol=1e-9)
    assert loaded.opt.timestep == m.opt.timestep and loaded.opt.integrator == m.opt.integrator
    # The loaded model simulates like the original.
    a, b = mujoco.MjData(m), mujoco.MjData(loaded)
    for _ in range(200):
        mujoco.mj_step(m, a)
        mujoco.mj_step(loaded, b)
    np.testing.assert_allclose(b.qpos, a.qpos, atol=1e-9)


def test_gains_follow_the_body() -> None:
    """PD gains and torque limits scale with m g h so that a bigger body holds itself like the canonical one."""
    base = build_character(CANONICAL).model
    big = build_character(CANONICAL.uniformly_scaled(1.25)).model
    np.testing.assert_allclose(big.actuator_gainprm[:, 0], base.actuator_gainprm[:, 0] * 1.25**4, rtol=1e-12)
    np.testing.assert_allclose(big.actuator_forcerange, base.actuator_forcerange * 1.25**4, rtol=1e-12)
    knee = next(j for j in JOINTS if j.name == "right_knee")
    assert base.actuator("right_knee").gainprm[0] == knee.kp and base.actuator("right_knee").biasprm[2] == -knee.kd


# --- bad input ---------------------------------------------------------------------------------------------

SEGMENTS = ("thigh", "shin", "upper_arm", "head_size", "pelvis_to_chest", "total_mass")


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("value", [None, 0.0, -0.3, float("nan"), float("inf")], ids=["missing", "zero", "negative",
                                                                                     "nan", "inf"])
def test_bad_segment_is_named(segment: str, value: object) -> None:
    bad = replace(CANONICAL, **{segment: value})
    with pytest.raises(BackflipError, match=f"'{segment}'"):
        bad.validate()
    with pytest.raises(BackflipError, match=f"'{segment}'"):
        build_character(bad)


def test_bad_proportions_through_scaling_and_retarget(synthetic_motion) -> None:
    from blender_backflip.core.retarget import retarget

    with pytest.raises(BackflipError, match="'shin'"):
        retarget(synthetic_motion, replace(CANONICAL, shin=float("nan")))
    with pytest.raises(BackflipError, match="'thigh'"):
        build_character(CANONICAL.scaled(legs=0.0))


def test_proportions_scaling() -> None:
    p = CANONICAL.scaled(legs=1.1, arms=0.9, mass=1.2)
    legs, arms, trunk, head, mass = p.scale_factors()
    assert (legs, arms, trunk, head, mass) == pytest.approx((1.1, 0.9, 1.0, 1.0, 1.2))
    assert Proportions().validate() == CANONICAL
    build_character(p)  # a non-uniform body compiles too


def test_pd_targets_lead_the_reference_by_its_velocity_so_damping_acts_on_the_velocity_error():
    """Hand-computed: chest_y has kp 1000, kd 100, so the lead is 0.1 s; a residual of 2 moves 0.5 rad. In
    MuJoCo the actuator's force is then kp (q_ref - q) + kd (qdot_ref - qdot), not kp (q_ref - q) - kd qdot."""
    from blender_backflip.core.observation import ACTION_SCALE, VELOCITY_LEAD, pd_targets

    assert VELOCITY_LEAD.shape == (NUM_DOFS,) and np.allclose(VELOCITY_LEAD, 0.1)
    ref, vel, action = np.full(NUM_DOFS, 0.2), np.full(NUM_DOFS, 3.0), np.zeros(NUM_DOFS)
    action[0] = 2.0
    target = pd_targets(ref[None], vel[None], action[None])[0]
    assert target[0] == pytest.approx(0.2 + 0.3 + 0.5) and target[1] == pytest.approx(0.5)
    assert ACTION_SCALE == 0.25

    character = build_character(CANONICAL)
    model, data = character.model, mujoco.MjData(character.model)
    q, qdot, q_ref, qdot_ref = 0.1, 1.0, 0.15, 2.0  # chest_y: 150 N m, under its 200 N m limit
    data.qpos[character.dof_qpos[0]], data.qvel[character.dof_qvel[0]] = q, qdot
    data.ctrl[:] = pd_targets(np.full((1, NUM_DOFS), q_ref), np.full((1, NUM_DOFS), qdot_ref), np.zeros((1, NUM_DOFS)))[0]
    mujoco.mj_forward(model, data)
    assert data.actuator_force[0] == pytest.approx(1000 * (q_ref - q) + 100 * (qdot_ref - qdot), rel=1e-9)
