"""Test rigs built in code: bone layouts (pure Python) and Blender armatures made from them.

Layouts are laid out like the physics body (skeleton.CANONICAL) scaled by `k`, so a bake that is faithful to
the simulation puts every mapped joint exactly on its simulated body (the tests check that). Positions are
in the flip's frame (facing +X, left +Y, Z up, metres); `facing` turns them (-90 degrees: Blender's front,
facing -Y) before the armature is made.

Styles: mixamo (T-pose, 'mixamorig:' names), rigify (DEF- bones, A-pose), unreal (root, pelvis, spine_01..,
thigh_l, ..., twist bones), generic_extras (.L/.R names with fingers, twist, face and helper bones: 60 bones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from blender_backflip.core.skeleton import CANONICAL

Bone = tuple[str, "str | None", np.ndarray, np.ndarray, float]  # name, parent, head, tail, roll (radians)


@dataclass(frozen=True)
class Joints:
    """Joint positions of a canonical-shaped body scaled by k (flip frame, metres)."""

    k: float
    arm_drop_deg: float  # 0 = T-pose, 45 = A-pose

    def __post_init__(self) -> None:
        pass

    @property
    def p(self):
        return CANONICAL.uniformly_scaled(self.k)

    def hip(self, s: float) -> np.ndarray:
        p = self.p
        return np.array([0.0, s * p.hip_half_width, p.leg_length])

    def knee(self, s: float) -> np.ndarray:
        return self.hip(s) - np.array([0, 0, self.p.thigh])

    def ankle(self, s: float) -> np.ndarray:
        return self.knee(s) - np.array([0, 0, self.p.shin])

    def ball(self, s: float) -> np.ndarray:
        return self.ankle(s) * np.array([1, 1, 0]) + np.array([0.09 * self.k, 0, 0.012 * self.k])

    def toe(self, s: float) -> np.ndarray:
        return self.ankle(s) * np.array([1, 1, 0]) + np.array([0.754 * self.p.foot_length, 0, 0])

    @property
    def chest(self) -> np.ndarray:
        return np.array([0.0, 0.0, self.p.leg_length + self.p.pelvis_to_chest])

    @property
    def neck(self) -> np.ndarray:
        return self.chest + np.array([0, 0, self.p.chest_to_neck])

    @property
    def top(self) -> np.ndarray:
        return self.neck + np.array([0, 0, self.p.head_size])

    def spine(self, fraction: float) -> np.ndarray:
        """A point on the line hips-center (0) .. neck (1)."""
        a = np.array([0.0, 0.0, self.p.leg_length])
        return a + fraction * (self.neck - a)

    def shoulder(self, s: float) -> np.ndarray:
        p = self.p
        return self.chest + np.array([-0.02405 * self.k, s * p.shoulder_half_width, p.shoulder_height])

    def _arm_dir(self, s: float) -> np.ndarray:
        a = math.radians(self.arm_drop_deg)
        return np.array([0.0, s * math.cos(a), -math.sin(a)])

    def elbow(self, s: float) -> np.ndarray:
        return self.shoulder(s) + self.p.upper_arm * self._arm_dir(s)

    def wrist(self, s: float) -> np.ndarray:
        return self.elbow(s) + self.p.forearm * self._arm_dir(s)

    def fingertip(self, s: float) -> np.ndarray:
        return self.wrist(s) + 0.09 * self.k * self._arm_dir(s)


def _up(x: np.ndarray, d: float) -> np.ndarray:
    return x + np.array([0.0, 0.0, d])


def layout(style: str, k: float = 1.0) -> list[Bone]:
    """Bones of a test rig (flip frame, metres)."""
    if style == "mixamo":
        return _mixamo(Joints(k, 0.0), prefix="mixamorig:")
    if style == "mixamo_bare":
        return _mixamo(Joints(k, 0.0), prefix="")
    if style == "rigify":
        return _rigify(Joints(k, 45.0))
    if style == "unreal":
        return _unreal(Joints(k, 40.0))
    if style == "generic_extras":
        return _generic(Joints(k, 0.0))
    if style == "not_humanoid":
        return [("Base", None, np.zeros(3), np.array([0, 0, 0.5]), 0.0),
                ("Arm1", "Base", np.array([0, 0, 0.5]), np.array([0, 0, 1.0]), 0.0),
                ("Arm2", "Arm1", np.array([0, 0, 1.0]), np.array([0, 0, 1.4]), 0.0)]
    raise ValueError(style)


def _mixamo(j: Joints, prefix: str) -> list[Bone]:
    n = lambda s: prefix + s  # noqa: E731
    hips = _up(j.spine(0.0), 0.05 * j.k)
    bones: list[Bone] = [
        (n("Hips"), None, hips, j.spine(0.15), 0.0),
        (n("Spine"), n("Hips"), j.spine(0.15), j.chest, 0.0),
        (n("Spine1"), n("Spine"), j.chest, j.spine(0.75), 0.0),
        (n("Spine2"), n("Spine1"), j.spine(0.75), j.spine(0.88), 0.0),
        (n("Neck"), n("Spine2"), j.spine(0.88), j.neck, 0.0),
        (n("Head"), n("Neck"), j.neck, _up(j.neck, 0.15 * j.k), 0.0),
        (n("HeadTop_End"), n("Head"), _up(j.neck, 0.15 * j.k), j.top, 0.0),
    ]
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        clav = j.shoulder(s) * np.array([1, 0.25, 1])
        bones += [
            (n(f"{side}Shoulder"), n("Spine2"), clav, j.shoulder(s), 0.0),
            (n(f"{side}Arm"), n(f"{side}Shoulder"), j.shoulder(s), j.elbow(s), 0.3 * s),
            (n(f"{side}ForeArm"), n(f"{side}Arm"), j.elbow(s), j.wrist(s), 0.5 * s),
            (n(f"{side}Hand"), n(f"{side}ForeArm"), j.wrist(s), j.fingertip(s), 0.0),
            (n(f"{side}UpLeg"), n("Hips"), j.hip(s), j.knee(s), math.pi),
            (n(f"{side}Leg"), n(f"{side}UpLeg"), j.knee(s), j.ankle(s), math.pi),
            (n(f"{side}Foot"), n(f"{side}Leg"), j.ankle(s), j.ball(s), 0.0),
            (n(f"{side}ToeBase"), n(f"{side}Foot"), j.ball(s), j.toe(s), 0.0),
        ]
    return bones


def _rigify(j: Joints) -> list[Bone]:
    f = [0.0, 0.05, 0.12, 0.236 / 0.46, 0.75, 0.88, 0.94, 1.0]
    pts = [j.spine(0.0) + np.array([0, 0, 0.02 * j.k])] + [j.spine(x) for x in f[2:]]
    pts[2] = j.chest
    bones: list[Bone] = []
    names = ["DEF-spine"] + [f"DEF-spine.{i:03d}" for i in range(1, 6)]
    for i, name in enumerate(names):
        bones.append((name, names[i - 1] if i else None, pts[i], pts[i + 1], 0.0))
    bones.append(("DEF-spine.006", "DEF-spine.005", j.neck, j.top, 0.0))
    for side, s in (("L", 1.0), ("R", -1.0)):
        bones += [
            (f"DEF-shoulder.{side}", "DEF-spine.003", j.shoulder(s) * np.array([1, 0.2, 1]), j.shoulder(s), 0.0),
            (f"DEF-upper_arm.{side}", f"DEF-shoulder.{side}", j.shoulder(s), j.elbow(s), -0.2 * s),
            (f"DEF-forearm.{side}", f"DEF-upper_arm.{side}", j.elbow(s), j.wrist(s), 1.0 * s),
            (f"DEF-hand.{side}", f"DEF-forearm.{side}", j.wrist(s), j.fingertip(s), 0.0),
            (f"DEF-thigh.{side}", "DEF-spine", j.hip(s), j.knee(s), 0.1),
            (f"DEF-shin.{side}", f"DEF-thigh.{side}", j.knee(s), j.ankle(s), 0.0),
            (f"DEF-foot.{side}", f"DEF-shin.{side}", j.ankle(s), j.ball(s), 0.0),
            (f"DEF-toe.{side}", f"DEF-foot.{side}", j.ball(s), j.toe(s), 0.0),
        ]
    return bones


def _unreal(j: Joints) -> list[Bone]:
    bones: list[Bone] = [
        ("root", None, np.zeros(3), np.array([0, 0.1 * j.k, 0]), 0.0),
        ("pelvis", "root", _up(j.spine(0.0), 0.04 * j.k), j.spine(0.12), 1.2),
        ("spine_01", "pelvis", j.spine(0.12), j.chest, 0.4),
        ("spine_02", "spine_01", j.chest, j.spine(0.7), -0.7),
        ("spine_03", "spine_02", j.spine(0.7), j.spine(0.85), 0.2),
        ("neck_01", "spine_03", j.spine(0.85), j.neck, 2.0),
        ("head", "neck_01", j.neck, j.top, -1.0),
    ]
    for s, side in ((1.0, "l"), (-1.0, "r")):
        bones += [
            (f"clavicle_{side}", "spine_03", j.shoulder(s) * np.array([1, 0.3, 1]), j.shoulder(s), 0.9 * s),
            (f"upperarm_{side}", f"clavicle_{side}", j.shoulder(s), j.elbow(s), 2.5 * s),
            (f"upperarm_twist_01_{side}", f"upperarm_{side}", 0.5 * (j.shoulder(s) + j.elbow(s)), j.elbow(s), 0.0),
            (f"lowerarm_{side}", f"upperarm_{side}", j.elbow(s), j.wrist(s), -1.3 * s),
            (f"lowerarm_twist_01_{side}", f"lowerarm_{side}", 0.5 * (j.elbow(s) + j.wrist(s)), j.wrist(s), 0.0),
            (f"hand_{side}", f"lowerarm_{side}", j.wrist(s), j.fingertip(s), 0.6),
            (f"thigh_{side}", "pelvis", j.hip(s), j.knee(s), -2.2),
            (f"thigh_twist_01_{side}", f"thigh_{side}", 0.5 * (j.hip(s) + j.knee(s)), j.knee(s), 0.0),
            (f"calf_{side}", f"thigh_{side}", j.knee(s), j.ankle(s), 0.8),
            (f"calf_twist_01_{side}", f"calf_{side}", 0.5 * (j.knee(s) + j.ankle(s)), j.ankle(s), 0.0),
            (f"foot_{side}", f"calf_{side}", j.ankle(s), j.ball(s), 3.0),
            (f"ball_{side}", f"foot_{side}", j.ball(s), j.toe(s), 0.0),
            (f"ik_foot_{side}", "root", j.ankle(s) * np.array([1, 1, 0]), j.ankle(s) * np.array([1, 1, 0]) + np.array([0.1 * j.k, 0, 0]), 0.0),
        ]
    return bones


def _generic(j: Joints) -> list[Bone]:
    hips = _up(j.spine(0.0), 0.05 * j.k)
    bones: list[Bone] = [
        ("root", None, np.zeros(3), np.array([0, 0.2 * j.k, 0]), 0.0),
        ("hips", "root", hips, j.spine(0.15), 0.0),
        ("spine", "hips", j.spine(0.15), j.chest, 0.0),
        ("chest", "spine", j.chest, j.spine(0.85), 0.0),
        ("neck", "chest", j.spine(0.85), j.neck, 0.0),
        ("head", "neck", j.neck, j.top, 0.0),
        ("jaw", "head", _up(j.neck, 0.05 * j.k), _up(j.neck, 0.05 * j.k) + np.array([0.1 * j.k, 0, 0]), 0.0),
        ("eye.L", "head", _up(j.neck, 0.15 * j.k) + np.array([0.08 * j.k, 0.03 * j.k, 0]),
         _up(j.neck, 0.15 * j.k) + np.array([0.1 * j.k, 0.03 * j.k, 0]), 0.0),
        ("eye.R", "head", _up(j.neck, 0.15 * j.k) + np.array([0.08 * j.k, -0.03 * j.k, 0]),
         _up(j.neck, 0.15 * j.k) + np.array([0.1 * j.k, -0.03 * j.k, 0]), 0.0),
    ]
    for side, s in (("L", 1.0), ("R", -1.0)):
        bones += [
            (f"shoulder.{side}", "chest", j.shoulder(s) * np.array([1, 0.2, 1]), j.shoulder(s), 0.0),
            (f"upper_arm.{side}", f"shoulder.{side}", j.shoulder(s), j.elbow(s), 0.0),
            (f"upper_arm_twist.{side}", f"upper_arm.{side}", 0.5 * (j.shoulder(s) + j.elbow(s)), j.elbow(s), 0.0),
            (f"forearm.{side}", f"upper_arm.{side}", j.elbow(s), j.wrist(s), 0.0),
            (f"forearm_twist.{side}", f"forearm.{side}", 0.5 * (j.elbow(s) + j.wrist(s)), j.wrist(s), 0.0),
            (f"hand.{side}", f"forearm.{side}", j.wrist(s), j.fingertip(s), 0.0),
            (f"thigh.{side}", "hips", j.hip(s), j.knee(s), 0.0),
            (f"thigh_twist.{side}", f"thigh.{side}", 0.5 * (j.hip(s) + j.knee(s)), j.knee(s), 0.0),
            (f"knee_helper.{side}", f"thigh.{side}", j.knee(s) + np.array([0.05 * j.k, 0, 0]),
             j.knee(s) + np.array([0.1 * j.k, 0, 0]), 0.0),
            (f"shin.{side}", f"thigh.{side}", j.knee(s), j.ankle(s), 0.0),
            (f"foot.{side}", f"shin.{side}", j.ankle(s), j.ball(s), 0.0),
            (f"toe.{side}", f"foot.{side}", j.ball(s), j.toe(s), 0.0),
            (f"IK_foot.{side}", None, j.ankle(s) * np.array([1, 1, 0]),
             j.ankle(s) * np.array([1, 1, 0]) + np.array([0.1 * j.k, 0, 0]), 0.0),
        ]
        direction = j.fingertip(s) - j.wrist(s)
        for f, finger in enumerate(("thumb", "index", "middle", "ring", "pinky")):
            base = j.wrist(s) + 0.5 * direction + np.array([0.02 * (2 - f) * j.k, 0, 0])
            parent = f"hand.{side}"
            for seg in range(1, 4):
                tip = base + 0.3 * direction
                name = f"{finger}.{seg:02d}.{side}"
                bones.append((name, parent, base, tip, 0.0))
                parent, base = name, tip
    return bones


def turn(bones: list[Bone], yaw_deg: float) -> list[Bone]:
    """The same rig turned about Z (rest pose facing another way)."""
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    r = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return [(n, p, r @ h, r @ t, roll) for n, p, h, t, roll in bones]


# ----------------------------------------------------------------------------------------------- bpy
def build(style: str, name: str = "Hero", k: float = 1.08, facing_deg: float = -90.0, unit: float = 1.0,
          scale: tuple[float, float, float] | None = None, location=(0.0, 0.0, 0.0), rotation_deg: float = 0.0,
          rotation_mode: str = "QUATERNION", bones: list[Bone] | None = None):
    """Make an armature object in the current scene and return it (active and selected, Object Mode).

    unit: bone coordinates are divided by it and the object scaled by it (unit=0.01: centimetre bones at
    object scale 0.01, as an FBX import from Mixamo).
    """
    import bpy

    bones = bones if bones is not None else turn(layout(style, k), facing_deg)
    arm = bpy.data.armatures.new(name + "_data")
    obj = bpy.data.objects.new(name, arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    bpy.ops.object.mode_set(mode="EDIT")
    for bone_name, parent, head, tail, roll in bones:
        eb = arm.edit_bones.new(bone_name)
        eb.head = tuple(np.asarray(head) / unit)
        eb.tail = tuple(np.asarray(tail) / unit)
        eb.roll = roll
    for bone_name, parent, *_ in bones:
        if parent:
            arm.edit_bones[bone_name].parent = arm.edit_bones[parent]
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.scale = scale if scale is not None else (unit, unit, unit)
    obj.location = location
    obj.rotation_euler = (0.0, 0.0, math.radians(rotation_deg))
    for pb in obj.pose.bones:
        pb.rotation_mode = rotation_mode
    bpy.context.view_layer.update()
    return obj
