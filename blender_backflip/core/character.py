"""Build the physics body of a character (MuJoCo model via MjSpec) from its Proportions."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import mujoco
import numpy as np

from . import rates
from .errors import BackflipError
from .skeleton import (BODIES, BODY_PARENT, CANONICAL, DOF_NAMES, FOOT_BODIES, JOINTS, MASS_FRACTION,
                       Proportions)

_BODY_COLLIDE = 2  # body geoms touch the ground only: contype=2 meets the floor's conaffinity=2
_GROUND = 1
_ARMATURE = 0.02
# PD targets may lie this far (rad) beyond a joint's range: room for the velocity lead (kd/kp = 0.1 s times
# reference rates up to 34 rad/s at the shoulders) plus the policy's residual; the torque limit still holds.
_TARGET_MARGIN = 4.0
# Contact time constant (s). A flip's feet meet the floor at about 7 m/s (the legs swing down with the turn)
# and sink about speed x time constant: MuJoCo's 0.02 default let them sink 5-7 cm, 0.01 at 240 Hz 3-4.5 cm.
# 0.005 at 240 Hz (1.2 steps, under MuJoCo's 2-step safety clamp) changed the contact dynamics so much that
# retraining plateaued at 96% / 87% landed. At 480 Hz, 0.005 is 2.4 steps, the ratio 0.01 had at 240 Hz: the
# policy trained on 0.01 / 240 Hz landed as often on it without retraining, with feet at most 1.8 cm deep.
CONTACT_TIMECONST = 0.005


@dataclass(frozen=True)
class Character:
    """A compiled MuJoCo body and the index maps from the project's orders (skeleton.py) into it."""

    proportions: Proportions
    spec: mujoco.MjSpec
    model: mujoco.MjModel
    dof_qpos: np.ndarray  # (NUM_DOFS,) qpos address of each DOF in DOF_NAMES order
    dof_qvel: np.ndarray  # (NUM_DOFS,) qvel address of each DOF
    body_ids: np.ndarray  # (len(BODIES),) MuJoCo body id of each body in BODIES order
    foot_geoms: np.ndarray  # geom ids of the feet
    floor_geom: int
    dof_lower: np.ndarray
    dof_upper: np.ndarray

    def to_mjcf(self, path: str | os.PathLike[str]) -> None:
        """Write the body as an MJCF file that MuJoCo (and tools that read MJCF) load back."""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(full_precision_xml(self.spec, self.model))

    def with_friction(self, friction: float) -> "Character":
        """The same body on a floor of another sliding friction (a new compiled model)."""
        spec = self.spec.copy()
        spec.geom("floor").friction[0] = friction
        return _wrap(self.proportions, spec)


# Numbers MjSpec.to_xml writes with 6 significant digits, and where their exact values are in the model.
_EXACT = {
    "option": {"timestep": lambda m, i: [m.opt.timestep]},
    "body": {"pos": lambda m, i: m.body_pos[i]},
    "geom": {"pos": lambda m, i: m.geom_pos[i], "size": lambda m, i: m.geom_size[i]},
    "joint": {"range": lambda m, i: m.jnt_range[i], "armature": lambda m, i: [m.dof_armature[m.jnt_dofadr[i]]]},
    "general": {"ctrlrange": lambda m, i: m.actuator_ctrlrange[i], "forcerange": lambda m, i: m.actuator_forcerange[i],
                "gainprm": lambda m, i: m.actuator_gainprm[i], "biasprm": lambda m, i: m.actuator_biasprm[i]},
}
_OBJ = {"body": mujoco.mjtObj.mjOBJ_BODY, "geom": mujoco.mjtObj.mjOBJ_GEOM, "joint": mujoco.mjtObj.mjOBJ_JOINT,
        "general": mujoco.mjtObj.mjOBJ_ACTUATOR}


def full_precision_xml(spec: mujoco.MjSpec, model: mujoco.MjModel) -> str:
    """spec.to_xml() with its numbers at full double precision, so the file loads back to the same model.

    MuJoCo's XML writer rounds every number to 6 significant digits (a 1.25x body's masses change by 1e-5 kg,
    the 1/480 s timestep becomes 0.00208333). Each rounded number is replaced by the exact value from the
    compiled model (or, for geom masses, from the spec) when the two agree to the written digits.
    """
    root = ET.fromstring(spec.to_xml())
    for element in root.iter():
        name = element.get("name")
        getters = dict(_EXACT.get(element.tag, {}))
        if element.tag == "option":
            index = 0
        elif element.tag in _OBJ and name is not None:
            index = mujoco.mj_name2id(model, _OBJ[element.tag], name)
            if index < 0:
                continue
            if element.tag == "geom":
                getters["mass"] = lambda m, i, g=spec.geom(name): [g.mass]
        else:
            continue
        for attribute, getter in getters.items():
            text = element.get(attribute)
            if text is None:
                continue
            written = np.array([float(v) for v in text.split()])
            exact = np.asarray(getter(model, index), dtype=np.float64).ravel()[: len(written)]
            if len(exact) == len(written) and np.allclose(exact, written, rtol=1e-5, atol=1e-9):
                element.set(attribute, " ".join(repr(float(v)) for v in exact))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def _sphere(body: mujoco.MjsBody, name: str, pos: tuple[float, float, float], radius: float, mass: float) -> None:
    g = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[radius, 0, 0], pos=list(pos), mass=mass)
    g.contype, g.conaffinity = _BODY_COLLIDE, 0


def _capsule(body: mujoco.MjsBody, name: str, z0: float, z1: float, radius: float, mass: float) -> None:
    g = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[radius, 0, 0], mass=mass)
    g.fromto = [0.0, 0.0, z0, 0.0, 0.0, z1]
    g.contype, g.conaffinity = _BODY_COLLIDE, 0


def build_spec(proportions: Proportions) -> mujoco.MjSpec:
    """The MjSpec of a character with these proportions, standing on a floor at z = 0."""
    p = proportions.validate()
    mass = {b: MASS_FRACTION[b] * p.total_mass for b in BODIES}

    spec = mujoco.MjSpec()
    spec.modelname = "backflip_character"
    spec.option.timestep = rates.PHYSICS_DT
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.iterations = 20
    spec.option.ls_iterations = 10
    spec.compiler.degree = False

    floor = spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[50, 50, 0.1])
    floor.contype, floor.conaffinity = _GROUND, _BODY_COLLIDE
    floor.friction = [1.0, 0.005, 0.0001]
    spec.worldbody.add_light(pos=[0, 0, 4], dir=[0, 0, -1])

    bodies: dict[str, mujoco.MjsBody] = {}
    pelvis = spec.worldbody.add_body(name="pelvis", pos=[0, 0, p.leg_length])
    pelvis.add_freejoint(name="root")
    trunk = p.pelvis_to_chest / 0.236151
    _sphere(pelvis, "pelvis", (0, 0, 0.07 * trunk), 0.09 * trunk, mass["pelvis"])
    bodies["pelvis"] = pelvis

    torso = pelvis.add_body(name="torso", pos=[0, 0, p.pelvis_to_chest])
    _sphere(torso, "torso", (0, 0, 0.12 * trunk), 0.11 * trunk, mass["torso"])
    bodies["torso"] = torso
    head = torso.add_body(name="head", pos=[0, 0, p.chest_to_neck])
    _sphere(head, "head", (0, 0, 0.63 * p.head_size), 0.37 * p.head_size, mass["head"])
    bodies["head"] = head

    arm_scale = p.upper_arm / 0.274788
    fore_scale = p.forearm / 0.258947
    leg_scale = p.thigh / 0.421546
    shin_scale = p.shin / 0.40987
    for side, sign in (("right", -1.0), ("left", 1.0)):
        upper = torso.add_body(name=f"{side}_upper_arm",
                               pos=[-0.02405 * trunk, sign * p.shoulder_half_width, p.shoulder_height])
        _capsule(upper, f"{side}_upper_arm", -0.05 * arm_scale, -0.23 * arm_scale, 0.045 * arm_scale,
                 mass[f"{side}_upper_arm"])
        lower = upper.add_body(name=f"{side}_lower_arm", pos=[0, 0, -p.upper_arm])
        _capsule(lower, f"{side}_lower_arm", -0.0525 * fore_scale, -0.1875 * fore_scale, 0.04 * fore_scale,
                 mass[f"{side}_lower_arm"])
        hand = lower.add_body(name=f"{side}_hand", pos=[0, 0, -p.forearm])
        _sphere(hand, f"{side}_hand", (0, 0, 0), 0.04 * fore_scale, mass[f"{side}_hand"])

        thigh = pelvis.add_body(name=f"{side}_thigh", pos=[0, sign * p.hip_half_width, 0])
        _capsule(thigh, f"{side}_thigh", -0.06 * leg_scale, -0.36 * leg_scale, 0.055 * leg_scale,
                 mass[f"{side}_thigh"])
        shin = thigh.add_body(name=f"{side}_shin", pos=[0, 0, -p.thigh])
        _capsule(shin, f"{side}_shin", -0.045 * shin_scale, -0.355 * shin_scale, 0.05 * shin_scale,
                 mass[f"{side}_shin"])
        foot = shin.add_body(name=f"{side}_foot", pos=[0, 0, -p.shin])
        half = [p.foot_length / 2, 0.045 * leg_scale, p.ankle_height / 2]
        g = foot.add_geom(name=f"{side}_foot", type=mujoco.mjtGeom.mjGEOM_BOX, size=half,
                          pos=[p.foot_length * 0.254, 0, -p.ankle_height / 2], mass=mass[f"{side}_foot"])
        g.contype, g.conaffinity = _BODY_COLLIDE, 0
        bodies.update({f"{side}_upper_arm": upper, f"{side}_lower_arm": lower, f"{side}_hand": hand,
                       f"{side}_thigh": thigh, f"{side}_shin": shin, f"{side}_foot": foot})

    # PD gains and torque limits follow the gravity torque m g h of the body (s^4 for a uniformly scaled body):
    # with the canonical gains a 1.25x body (88 kg) cannot hold itself up on its ankles and falls over.
    strength = (p.total_mass / CANONICAL.total_mass) * (p.standing_height / CANONICAL.standing_height)
    axis_vec = {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1]}
    for joint in JOINTS:
        names = [f"{joint.name}_{a}" for a in joint.axes] if joint.is_ball else [joint.name]
        for i, (name, axis) in enumerate(zip(names, joint.axes)):
            j = bodies[joint.body].add_joint(name=name, type=mujoco.mjtJoint.mjJNT_HINGE, axis=axis_vec[axis])
            j.range = [joint.lower[i], joint.upper[i]]
            j.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            j.armature = _ARMATURE
            act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            act.set_to_position(kp=joint.kp * strength, kv=joint.kd * strength)
            act.forcerange = [-joint.torque_limit * strength, joint.torque_limit * strength]
            act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            act.ctrlrange = [joint.lower[i] - _TARGET_MARGIN, joint.upper[i] + _TARGET_MARGIN]
            act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    for geom in spec.geoms:
        geom.solref = [CONTACT_TIMECONST, 1.0]
    assert set(bodies) == set(BODIES) and all(BODY_PARENT[b] is None or BODY_PARENT[b] in bodies for b in BODIES)
    return spec


def _wrap(proportions: Proportions, spec: mujoco.MjSpec) -> Character:
    try:
        model = spec.compile()
    except ValueError as exc:  # MuJoCo's compiler errors would reach a user as a traceback
        raise BackflipError(f"The character could not be built: {exc}. Check the body proportions.") from exc
    dof_qpos = np.array([model.jnt_qposadr[model.joint(n).id] for n in DOF_NAMES], dtype=np.int64)
    dof_qvel = np.array([model.jnt_dofadr[model.joint(n).id] for n in DOF_NAMES], dtype=np.int64)
    jids = [model.joint(n).id for n in DOF_NAMES]
    return Character(
        proportions=proportions,
        spec=spec,
        model=model,
        dof_qpos=dof_qpos,
        dof_qvel=dof_qvel,
        body_ids=np.array([model.body(b).id for b in BODIES], dtype=np.int64),
        foot_geoms=np.array([model.geom(b).id for b in FOOT_BODIES], dtype=np.int64),
        floor_geom=model.geom("floor").id,
        dof_lower=model.jnt_range[jids, 0].copy(),
        dof_upper=model.jnt_range[jids, 1].copy(),
    )


def build_character(proportions: Proportions, friction: float = 1.0) -> Character:
    """Compile the character; raises BackflipError for proportions that cannot make a body."""
    spec = build_spec(proportions)
    spec.geom("floor").friction[0] = friction
    return _wrap(proportions, spec)
