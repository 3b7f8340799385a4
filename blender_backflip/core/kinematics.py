"""Poses to MuJoCo states and forward kinematics through the character's own model.

Reference and simulation share one definition of the body: reference poses go through mj_kinematics of the
same model the simulation steps.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .character import Character
from .motion import MotionFrame


def qpos_from_pose(character: Character, root_pos: np.ndarray, root_quat: np.ndarray,
                   dof_pos: np.ndarray) -> np.ndarray:
    """MuJoCo qpos (..., nq) of poses given as root position, root rotation and DOF angles."""
    root_pos = np.asarray(root_pos, dtype=np.float64)
    lead = root_pos.shape[:-1]
    qpos = np.zeros(lead + (character.model.nq,))
    qpos[..., 0:3] = root_pos
    qpos[..., 3:7] = root_quat
    qpos[..., character.dof_qpos] = dof_pos
    return qpos


def qvel_from_velocities(character: Character, root_quat: np.ndarray, root_linvel: np.ndarray,
                         root_angvel_world: np.ndarray, dof_vel: np.ndarray) -> np.ndarray:
    """MuJoCo qvel: the free joint takes linear velocity in world frame and angular velocity in body frame."""
    from .rotations import quat_conjugate, quat_rotate

    lead = np.asarray(root_linvel).shape[:-1]
    qvel = np.zeros(lead + (character.model.nv,))
    qvel[..., 0:3] = root_linvel
    qvel[..., 3:6] = quat_rotate(quat_conjugate(root_quat), root_angvel_world)
    qvel[..., character.dof_qvel] = dof_vel
    return qvel


def frame_qpos(character: Character, frame: MotionFrame) -> np.ndarray:
    return qpos_from_pose(character, frame.root_pos, frame.root_quat, frame.dof_pos)


def frame_qvel(character: Character, frame: MotionFrame) -> np.ndarray:
    return qvel_from_velocities(character, frame.root_quat, frame.root_linvel, frame.root_angvel, frame.dof_vel)


def body_positions(character: Character, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions (..., nbodies, 3) and rotations (..., nbodies, 4) of skeleton.BODIES for each qpos."""
    qpos = np.asarray(qpos, dtype=np.float64)
    flat = qpos.reshape(-1, character.model.nq)
    data = mujoco.MjData(character.model)
    pos = np.empty((len(flat), len(character.body_ids), 3))
    quat = np.empty((len(flat), len(character.body_ids), 4))
    for i, q in enumerate(flat):
        data.qpos[:] = q
        mujoco.mj_kinematics(character.model, data)
        pos[i] = data.xpos[character.body_ids]
        quat[i] = data.xquat[character.body_ids]
    lead = qpos.shape[:-1]
    return pos.reshape(lead + pos.shape[1:]), quat.reshape(lead + quat.shape[1:])


def lowest_foot_points(character: Character, qpos: np.ndarray) -> np.ndarray:
    """Height (..., 2) of the lowest corner of each foot box, for contact and penetration checks."""
    qpos = np.asarray(qpos, dtype=np.float64)
    flat = qpos.reshape(-1, character.model.nq)
    data = mujoco.MjData(character.model)
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    out = np.empty((len(flat), len(character.foot_geoms)))
    for i, q in enumerate(flat):
        data.qpos[:] = q
        mujoco.mj_kinematics(character.model, data)
        for k, g in enumerate(character.foot_geoms):
            size = character.model.geom_size[g]
            world = data.geom_xpos[g] + (corners * size) @ data.geom_xmat[g].reshape(3, 3).T
            out[i, k] = world[:, 2].min()
    return out.reshape(qpos.shape[:-1] + (len(character.foot_geoms),))
