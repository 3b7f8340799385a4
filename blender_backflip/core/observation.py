"""Observation layout and action mapping: the contract between the trainer, the policy file and the add-on.

Everything is batched over leading dimension B. The character starts each flip at the origin facing +X (the
add-on places the result on the avatar afterwards), so the world frame is the flip's frame and no heading
has to be estimated mid-air.

observe() and pd_targets() take numpy arrays (the add-on, the evaluator, the CPU trainer) or torch tensors (the
GPU trainer, on MuJoCo Warp's state): one definition of the contract for every backend (see xp.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rotations as rot
from .skeleton import JOINTS, NUM_DOFS
from .xp import namespace

FORMAT_VERSION = 1
ACTION_SCALE = 0.25  # PD target = reference angle + velocity lead + ACTION_SCALE * action (radians)
# A position actuator's force is kp (target - q) - kd qdot: its damping brakes every fast reference motion (the
# flip's arm swing, 10 m/s at the hand, met 40 Nm s/rad x 17 rad/s against a 100 Nm limit and lagged 50 cm).
# Leading the target by kd/kp x the reference velocity makes it kp (q_ref - q) + kd (qdot_ref - qdot).
VELOCITY_LEAD = np.array([j.kd / j.kp for j in JOINTS for _ in j.axes])  # seconds, per degree of freedom
ACTION_MAPPING = "reference + velocity lead + residual"
NUM_ACTIONS = NUM_DOFS
NUM_BODY_PARAMS = 5  # Proportions.scale_factors(): legs, arms, trunk, head, mass

# (name, width) in order; the policy file stores this list and the loader checks it.
OBS_LAYOUT: tuple[tuple[str, int], ...] = (
    ("root_height", 1),
    ("root_xy_error", 2),
    ("root_tangent_normal", 6),
    ("root_linvel", 3),
    ("root_angvel_local", 3),
    ("dof_pos", NUM_DOFS),
    ("dof_vel", NUM_DOFS),
    ("ref_root_height", 1),
    ("ref_root_xy_delta", 2),
    ("ref_root_tangent_normal", 6),
    ("ref_dof_pos", NUM_DOFS),
    ("phase", 2),
    ("body_params", NUM_BODY_PARAMS),
)
OBS_DIM = sum(w for _, w in OBS_LAYOUT)


@dataclass(frozen=True)
class RefTarget:
    """The parts of the reference the policy sees, per simulation: now and one control step ahead."""

    root_pos_now: np.ndarray  # (B, 3)
    root_pos_next: np.ndarray  # (B, 3)
    root_quat_next: np.ndarray  # (B, 4)
    dof_pos_next: np.ndarray  # (B, NUM_DOFS)


def _tangent_normal(quat: np.ndarray) -> np.ndarray:
    m = rot.quat_to_matrix(quat)
    return namespace(quat).concat([m[..., :, 0], m[..., :, 2]], axis=-1)


def observe(qpos: np.ndarray, qvel: np.ndarray, dof_qpos: np.ndarray, dof_qvel: np.ndarray, ref: RefTarget,
            time: np.ndarray, clip_duration: float, hold_seconds: float, body_params: np.ndarray) -> np.ndarray:
    """(B, OBS_DIM) float32 observations (numpy or torch, like qpos)."""
    xp = namespace(qpos)
    root_pos = qpos[:, 0:3]
    root_quat = qpos[:, 3:7]
    progress = xp.clip(time / clip_duration, 0.0, 1.0)
    held = xp.clip((time - clip_duration) / hold_seconds, 0.0, 1.0)
    parts = (
        root_pos[:, 2:3],
        root_pos[:, 0:2] - ref.root_pos_now[:, 0:2],
        _tangent_normal(root_quat),
        qvel[:, 0:3],
        qvel[:, 3:6],
        qpos[:, dof_qpos],
        0.1 * qvel[:, dof_qvel],
        ref.root_pos_next[:, 2:3],
        ref.root_pos_next[:, 0:2] - root_pos[:, 0:2],
        _tangent_normal(ref.root_quat_next),
        ref.dof_pos_next,
        xp.stack([xp.astype(progress, qpos.dtype), xp.astype(held, qpos.dtype)], axis=-1),
        body_params - 1.0,
    )
    return xp.astype(xp.concat(parts, axis=-1), xp.float32)


def pd_targets(ref_dof_next: np.ndarray, ref_dof_vel_next: np.ndarray, action: np.ndarray,
               velocity_lead: np.ndarray = VELOCITY_LEAD) -> np.ndarray:
    """Joint-angle targets of the position actuators: the next reference pose, led by its velocity (so the
    actuator's damping acts on the velocity error), plus the policy's residual. A GPU caller passes
    VELOCITY_LEAD as a tensor on its device, made once, so no step copies it from the host."""
    return ref_dof_next + velocity_lead * ref_dof_vel_next + ACTION_SCALE * namespace(action).clip(action, -10.0, 10.0)
