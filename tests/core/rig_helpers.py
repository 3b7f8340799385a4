"""RigSpecs from the test layouts without Blender (bone frames: Y along the bone, rolled about it)."""

from __future__ import annotations

import math

import mujoco
import numpy as np

from blender_backflip.core import rotations as rot
from blender_backflip.core.character import build_character
from blender_backflip.core.rig import BoneRest, RigSpec, detect
from blender_backflip.core.skeleton import Proportions
from tests.blender.rigs import layout, turn


def bone_matrix(head: np.ndarray, tail: np.ndarray, roll: float) -> np.ndarray:
    y = (tail - head) / np.linalg.norm(tail - head)
    helper = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(y, helper)
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    r = np.stack([x, y, z], axis=1) @ rot.quat_to_matrix(rot.quat_from_axis_angle(np.array([0, 1.0, 0]), roll))
    m = np.eye(4)
    m[:3, :3] = r
    m[:3, 3] = head
    return m


def object_matrix(location=(0, 0, 0), yaw_deg: float = 0.0, scale=(1.0, 1.0, 1.0)) -> np.ndarray:
    m = np.eye(4)
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    m[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ np.diag(scale)
    m[:3, 3] = location
    return m


def rig_from_layout(style: str, k: float = 1.08, facing_deg: float = -90.0, unit: float = 1.0,
                    location=(0, 0, 0), yaw_deg: float = 0.0, scale=None, bones=None,
                    mapping: dict | None = None) -> RigSpec:
    bones = bones if bones is not None else turn(layout(style, k), facing_deg)
    rests = {}
    for name, parent, head, tail, roll in bones:
        h, t = np.asarray(head, float) / unit, np.asarray(tail, float) / unit
        rests[name] = BoneRest(name, parent, h, t, bone_matrix(h, t, roll))
    if mapping is None:
        _, _, mapping = detect(list(rests))
    root = next((n for n in ("root",) if n in rests), None)
    return RigSpec(rests, object_matrix(location, yaw_deg, scale or (unit, unit, unit)), mapping, root_bone=root)


class FakeSim:
    """Body transforms from forward kinematics of the character through given joint angles (no policy)."""

    def __init__(self, proportions: Proportions, n: int = 60, fps: float = 120.0, seed: int = 0,
                 flip: bool = True):
        ch = build_character(proportions)
        data = mujoco.MjData(ch.model)
        rng = np.random.default_rng(seed)
        self.times = np.arange(n) / fps
        self.fps = fps
        amp = rng.uniform(-0.8, 0.8, len(ch.dof_qpos))
        pos, quat, qpos = [], [], []
        for i, t in enumerate(self.times):
            data.qpos[:] = 0.0
            phase = t / self.times[-1]
            data.qpos[0:3] = (-1.1 * phase, 0.0, proportions.leg_length + 0.5 * math.sin(math.pi * phase))
            pitch = -2 * math.pi * phase if flip else 0.0
            data.qpos[3:7] = rot.quat_from_axis_angle(np.array([0, 1.0, 0]), pitch)
            data.qpos[ch.dof_qpos] = np.clip(amp * math.sin(math.pi * phase), ch.dof_lower, ch.dof_upper)
            mujoco.mj_kinematics(ch.model, data)
            qpos.append(data.qpos.copy())
            pos.append(data.xpos[ch.body_ids].copy())
            quat.append(data.xquat[ch.body_ids].copy())
        self.body_pos = np.array(pos)
        self.body_quat = np.array(quat)
        self.qpos = np.array(qpos)  # (n, nq): root position, root rotation, then the DOFs (character.dof_qpos)
        self.dof_qpos = ch.dof_qpos
