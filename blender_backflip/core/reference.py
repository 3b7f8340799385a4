"""The reference a character imitates, precomputed on the control grid: the clip once, then its last pose held.

Built per body (retargeted, then forward kinematics through that body's own model), so rewards, observations
and the evaluator compare the simulation with the reference of the very body being simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from . import rates
from .character import Character
from .contacts import GroundProbe
from .kinematics import frame_qpos, frame_qvel
from .motion import Motion
from .retarget import retarget


@dataclass(frozen=True)
class ReferenceTrack:
    dt: float
    clip_duration: float
    root_pos: np.ndarray  # (N, 3)
    root_quat: np.ndarray  # (N, 4)
    dof_pos: np.ndarray  # (N, NUM_DOFS)
    dof_vel: np.ndarray
    qpos: np.ndarray  # (N, nq) full MuJoCo state of the reference
    qvel: np.ndarray  # (N, nv)
    body_pos: np.ndarray  # (N, nbodies, 3) in skeleton.BODIES order
    com: np.ndarray  # (N, 3)
    com_vel: np.ndarray  # (N, 3)

    @property
    def num_frames(self) -> int:
        return len(self.root_pos)

    @property
    def clip_frames(self) -> int:
        """Control frames that lie within the clip (the rest hold the final pose)."""
        return int(math.floor(self.clip_duration / self.dt + 1e-9)) + 1


def make_track(motion: Motion, character: Character, hold_seconds: float = rates.HOLD_SECONDS,
               dt: float = rates.CONTROL_DT) -> ReferenceTrack:
    """The reference of `motion` (made for the canonical body) for `character`, played once then held."""
    moved = retarget(motion.with_loop("clamp"), character.proportions)
    n = int(round((moved.duration + hold_seconds) / dt)) + 1
    frame = moved.sample(np.arange(n) * dt)
    qpos = frame_qpos(character, frame)
    qvel = frame_qvel(character, frame)
    data = mujoco.MjData(character.model)
    body_pos = np.empty((n, len(character.body_ids), 3))
    com = np.empty((n, 3))
    probe = GroundProbe(character)
    lowest = np.empty((n, len(probe.geoms)))
    root = character.body_ids[0]
    for i in range(n):
        data.qpos[:] = qpos[i]
        mujoco.mj_kinematics(character.model, data)
        mujoco.mj_comPos(character.model, data)
        body_pos[i] = data.xpos[character.body_ids]
        com[i] = data.subtree_com[root]
        lowest[i] = probe.lowest_in(data)[0]
    # Retargeted mocap puts a foot up to 2 cm into the floor in some frames; a reference under the floor
    # teaches the policy to push its feet into it. Raise those frames until nothing is below the floor.
    lift = probe.lift_clear(lowest)
    lift_vel = np.gradient(lift, dt)
    root_pos = frame.root_pos.copy()
    root_pos[:, 2] += lift
    qpos[:, 2] += lift
    qvel[:, 2] += lift_vel
    body_pos[:, :, 2] += lift[:, None]
    com[:, 2] += lift
    com_vel = np.gradient(com, dt, axis=0)
    com_vel[frame.phase >= 1.0] = 0.0
    return ReferenceTrack(dt=dt, clip_duration=moved.duration, root_pos=root_pos, root_quat=frame.root_quat,
                          dof_pos=frame.dof_pos, dof_vel=frame.dof_vel, qpos=qpos, qvel=qvel, body_pos=body_pos,
                          com=com, com_vel=com_vel)
