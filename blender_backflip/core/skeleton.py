"""The canonical humanoid (DeepMimic's humanoid3d figures, converted to Z up, facing +X, left +Y) as named data.

Joint order, degree-of-freedom order and body order defined here are the ones the whole project uses.
Ball joints are three hinges in one body; their axis order keeps the large rotation of the clip away from
gimbal lock (hips flex about y by up to 145 degrees; shoulders swing about z first).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .errors import BackflipError


@dataclass(frozen=True)
class JointSpec:
    name: str
    body: str  # the body this joint moves
    parent: str
    axes: str  # "yxz": three hinges applied in this order; "y": one hinge
    kp: float
    kd: float
    torque_limit: float
    lower: tuple[float, ...]  # per axis, radians
    upper: tuple[float, ...]

    @property
    def is_ball(self) -> bool:
        return len(self.axes) == 3


_D = math.radians

# Clip order (DeepMimic's file order), which is also the order of the degrees of freedom.
JOINTS: tuple[JointSpec, ...] = (
    JointSpec("chest", "torso", "pelvis", "yxz", 1000, 100, 200, (_D(-70), _D(-70), _D(-70)), (_D(70), _D(70), _D(70))),
    JointSpec("neck", "head", "torso", "yxz", 100, 10, 50, (_D(-60), _D(-60), _D(-60)), (_D(60), _D(60), _D(60))),
    JointSpec("right_hip", "right_thigh", "pelvis", "yxz", 500, 50, 200, (_D(-160), _D(-60), _D(-60)), (_D(60), _D(60), _D(60))),
    JointSpec("right_knee", "right_shin", "right_thigh", "y", 500, 50, 150, (0.0,), (_D(160),)),
    JointSpec("right_ankle", "right_foot", "right_shin", "yxz", 400, 40, 90, (_D(-60), _D(-40), _D(-45)), (_D(60), _D(40), _D(45))),
    JointSpec("right_shoulder", "right_upper_arm", "torso", "zyx", 400, 40, 100, (_D(-150), _D(-90), _D(-170)), (_D(150), _D(90), _D(60))),
    JointSpec("right_elbow", "right_lower_arm", "right_upper_arm", "y", 300, 30, 60, (_D(-160),), (0.0,)),
    JointSpec("left_hip", "left_thigh", "pelvis", "yxz", 500, 50, 200, (_D(-160), _D(-60), _D(-60)), (_D(60), _D(60), _D(60))),
    JointSpec("left_knee", "left_shin", "left_thigh", "y", 500, 50, 150, (0.0,), (_D(160),)),
    JointSpec("left_ankle", "left_foot", "left_shin", "yxz", 400, 40, 90, (_D(-60), _D(-40), _D(-45)), (_D(60), _D(40), _D(45))),
    JointSpec("left_shoulder", "left_upper_arm", "torso", "zyx", 400, 40, 100, (_D(-150), _D(-90), _D(-60)), (_D(150), _D(90), _D(170))),
    JointSpec("left_elbow", "left_lower_arm", "left_upper_arm", "y", 300, 30, 60, (_D(-160),), (0.0,)),
)

JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)


def _dof_names() -> tuple[str, ...]:
    names: list[str] = []
    for joint in JOINTS:
        names.extend(f"{joint.name}_{a}" for a in joint.axes) if joint.is_ball else names.append(joint.name)
    return tuple(names)


DOF_NAMES: tuple[str, ...] = _dof_names()
NUM_DOFS: int = len(DOF_NAMES)  # 28


def joint_dof_slices() -> dict[str, slice]:
    """Where each joint's angles sit in a DOF vector."""
    out: dict[str, slice] = {}
    start = 0
    for joint in JOINTS:
        out[joint.name] = slice(start, start + len(joint.axes))
        start += len(joint.axes)
    return out


# Bodies in a fixed order (the order of every per-body array in the project); the root body is first.
BODIES: tuple[str, ...] = (
    "pelvis", "torso", "head",
    "right_thigh", "right_shin", "right_foot",
    "right_upper_arm", "right_lower_arm", "right_hand",
    "left_thigh", "left_shin", "left_foot",
    "left_upper_arm", "left_lower_arm", "left_hand",
)
BODY_PARENT: dict[str, str | None] = {"pelvis": None, "right_hand": "right_lower_arm", "left_hand": "left_lower_arm"}
BODY_PARENT.update({j.body: j.parent for j in JOINTS})
FOOT_BODIES: tuple[str, ...] = ("right_foot", "left_foot")
END_EFFECTORS: tuple[str, ...] = ("right_foot", "left_foot", "right_hand", "left_hand")

# Share of the total mass per body (DeepMimic: 45 kg in all).
_CANONICAL_MASS = {
    "pelvis": 6.0, "torso": 14.0, "head": 2.0,
    "right_thigh": 4.5, "right_shin": 3.0, "right_foot": 1.0,
    "right_upper_arm": 1.5, "right_lower_arm": 1.0, "right_hand": 0.5,
}
for _side_body in list(_CANONICAL_MASS):
    if _side_body.startswith("right_"):
        _CANONICAL_MASS["left_" + _side_body[6:]] = _CANONICAL_MASS[_side_body]
MASS_FRACTION: dict[str, float] = {b: m / 45.0 for b, m in _CANONICAL_MASS.items()}


@dataclass(frozen=True)
class Proportions:
    """Segment lengths (m) and total mass (kg) of a body; the canonical values are DeepMimic's humanoid3d.

    Limb radii follow their segment's scale, so a longer limb is also a thicker one.
    """

    pelvis_to_chest: float = 0.236151
    chest_to_neck: float = 0.223894
    head_size: float = 0.2775  # neck joint to the top of the head
    hip_half_width: float = 0.084887
    thigh: float = 0.421546
    shin: float = 0.40987
    ankle_height: float = 0.055  # ankle joint to the sole
    foot_length: float = 0.177
    shoulder_half_width: float = 0.18311
    shoulder_height: float = 0.2435  # chest joint to the shoulder joints
    upper_arm: float = 0.274788
    forearm: float = 0.258947  # elbow to the wrist (the hand's centre)
    total_mass: float = 45.0

    def validate(self) -> "Proportions":
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0.0:
                raise BackflipError(
                    f"Body segment '{f.name}' has length {value!r}; every segment length and the mass must be a "
                    f"positive finite number. Check the rig's bones for a zero-length or missing bone."
                )
        return self

    @property
    def leg_length(self) -> float:
        """Hip joint to the sole, standing straight."""
        return self.thigh + self.shin + self.ankle_height

    @property
    def standing_height(self) -> float:
        return self.leg_length + self.pelvis_to_chest + self.chest_to_neck + self.head_size

    def scaled(self, legs: float = 1.0, arms: float = 1.0, trunk: float = 1.0, head: float = 1.0,
               mass: float = 1.0) -> "Proportions":
        """A body with legs, arms, trunk and head scaled independently, and the total mass scaled."""
        return replace(
            self,
            pelvis_to_chest=self.pelvis_to_chest * trunk,
            chest_to_neck=self.chest_to_neck * trunk,
            hip_half_width=self.hip_half_width * trunk,
            shoulder_half_width=self.shoulder_half_width * trunk,
            shoulder_height=self.shoulder_height * trunk,
            head_size=self.head_size * head,
            thigh=self.thigh * legs,
            shin=self.shin * legs,
            ankle_height=self.ankle_height * legs,
            foot_length=self.foot_length * legs,
            upper_arm=self.upper_arm * arms,
            forearm=self.forearm * arms,
            total_mass=self.total_mass * mass,
        )

    def uniformly_scaled(self, factor: float) -> "Proportions":
        """Every length times factor; mass follows the volume (factor cubed)."""
        values = {k: v * factor for k, v in asdict(self).items()}
        values["total_mass"] = self.total_mass * factor**3
        return Proportions(**values)

    def scale_factors(self) -> tuple[float, float, float, float, float]:
        """(legs, arms, trunk, head, mass) relative to the canonical body: what the policy observes."""
        c = CANONICAL
        return (
            self.leg_length / c.leg_length,
            (self.upper_arm + self.forearm) / (c.upper_arm + c.forearm),
            (self.pelvis_to_chest + self.chest_to_neck) / (c.pelvis_to_chest + c.chest_to_neck),
            self.head_size / c.head_size,
            self.total_mass / c.total_mass,
        )


CANONICAL = Proportions()
