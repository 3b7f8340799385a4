"""Make a reference's flight physically possible: a ballistic centre of mass and a conserved turn.

Mocap retargeted onto another body breaks both. Measured on the backflip clip through the canonical body: in
the air its centre of mass leaves a ballistic path by up to 5 cm and its angular momentum about the sideways
axis swings between -16 and -67 kg m^2/s, where it must stay constant. A simulated body cannot follow that,
so the policy trades tracking for landing. Here, between the last frame on the ground and the first frame
back on it, the joint angles stay the clip's; the body is turned about its centre of mass so that its pitch
angular momentum is constant (the tuck spins faster, as a gymnast's does), and moved so that its centre of
mass falls under gravity. Take-off and touch-down frames are unchanged, so the turn and the landing spot are
the clip's.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from . import rotations as rot
from .character import Character

FLIGHT_MODES = ("clip", "ballistic")
PITCH_AXIS = np.array([0.0, 1.0, 0.0])  # the character faces +X and flips about Y


@dataclass(frozen=True)
class Flight:
    takeoff: int  # last frame on the ground before the longest airborne stretch
    touchdown: int  # first frame on the ground after it
    angular_momentum: float  # the pitch angular momentum held through the flight (kg m^2/s)


def longest_airborne(airborne: np.ndarray) -> tuple[int, int] | None:
    """(take-off, touch-down): the ground frames around the longest run of airborne frames, or None."""
    best: tuple[int, int] | None = None
    start = None
    for i, up in enumerate(list(airborne) + [False]):
        if up and start is None:
            start = i
        elif not up and start is not None:
            if start > 0 and i < len(airborne) and (best is None or i - start > best[1] - best[0] - 1):
                best = (start - 1, i)
            start = None
    return best


def velocities(model: mujoco.MjModel, qpos: np.ndarray, dt: float, frames: np.ndarray | None = None) -> np.ndarray:
    """(len(frames), nv) central-difference velocities of a qpos sequence at those frames (default: all; one-sided
    at the sequence's ends)."""
    frames = np.arange(len(qpos)) if frames is None else np.asarray(frames)
    qvel = np.zeros((len(frames), model.nv))
    for row, i in enumerate(frames):
        a, b = max(i - 1, 0), min(i + 1, len(qpos) - 1)
        mujoco.mj_differentiatePos(model, qvel[row], (b - a) * dt, qpos[a], qpos[b])
    return qvel


def pitch_momentum(character: Character, qpos: np.ndarray, qvel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: angular momentum about the centre of mass around the pitch axis, and the pitch inertia
    there (the momentum one more rad/s of whole-body pitch would add)."""
    model, data = character.model, mujoco.MjData(character.model)
    root = character.body_ids[0]

    def about_pitch(q: np.ndarray, v: np.ndarray) -> float:
        data.qpos[:], data.qvel[:] = q, v
        mujoco.mj_forward(model, data)
        mujoco.mj_subtreeVel(model, data)
        return float(data.subtree_angmom[root] @ PITCH_AXIS)

    momentum, inertia = np.empty(len(qpos)), np.empty(len(qpos))
    for i in range(len(qpos)):
        spun = qvel[i].copy()
        spun[3:6] += rot.quat_rotate(rot.quat_conjugate(qpos[i, 3:7]), PITCH_AXIS)  # the free joint's body frame
        momentum[i] = about_pitch(qpos[i], qvel[i])
        inertia[i] = about_pitch(qpos[i], spun) - momentum[i]
    return momentum, inertia


def _trapezoid_cumulative(f: np.ndarray, dt: float) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * dt)])


def ballistic_flight(character: Character, qpos: np.ndarray, com: np.ndarray, airborne: np.ndarray,
                     dt: float) -> tuple[np.ndarray, Flight | None]:
    """qpos with its longest flight made physical (see the module docstring), and where that flight is.

    qpos (N, nq), com (N, 3) and airborne (N,) describe the reference frames at spacing dt; frames outside
    the flight are returned unchanged. No flight (a motion that never leaves the ground): unchanged, None.
    """
    window = longest_airborne(airborne)
    if window is None:
        return qpos, None
    t0, t1 = window
    frames = np.arange(t0, t1 + 1)
    momentum, inertia = pitch_momentum(character, qpos[frames], velocities(character.model, qpos, dt, frames))
    # The held momentum L makes the extra pitch rate (L - L_clip) / I integrate to zero over the flight, so the
    # body leaves and lands in the clip's orientation.
    held = (_trapezoid_cumulative(momentum / inertia, dt)[-1] / _trapezoid_cumulative(1.0 / inertia, dt)[-1])
    extra_pitch = _trapezoid_cumulative((held - momentum) / inertia, dt)

    gravity = float(character.model.opt.gravity[2])
    duration = (t1 - t0) * dt
    s = (frames - t0) * dt
    c0, c1 = com[t0], com[t1]
    path = c0 + np.outer(s / duration, c1 - c0)
    vz = (c1[2] - c0[2]) / duration - 0.5 * gravity * duration
    path[:, 2] = c0[2] + vz * s + 0.5 * gravity * s**2

    out = qpos.copy()
    turn = rot.quat_from_axis_angle(PITCH_AXIS, extra_pitch)
    out[frames, 0:3] = path + rot.quat_rotate(turn, qpos[frames, 0:3] - com[frames])
    out[frames, 3:7] = rot.quat_multiply(turn, qpos[frames, 3:7])
    return out, Flight(int(t0), int(t1), float(held))
