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
from .contacts import GROUND_TOUCH, GroundProbe
from .flight import FLIGHT_MODES, Flight, ballistic_flight, longest_airborne, velocities
from .kinematics import frame_qpos, frame_qvel
from .motion import Motion
from .planted_feet import BLEND_FRAMES, FEET_MODES, plant_feet, plant_stance
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
    flight: Flight | None = None  # the stretch made physical ("ballistic"), None when the clip is as captured

    @property
    def num_frames(self) -> int:
        return len(self.root_pos)

    @property
    def clip_frames(self) -> int:
        """Control frames that lie within the clip (the rest hold the final pose)."""
        return frames_within(self.clip_duration, self.dt)


def frames_within(duration: float, dt: float) -> int:
    """Frames 0, dt, 2 dt, ... that lie within a clip of this duration."""
    return int(math.floor(duration / dt + 1e-9)) + 1


def _kinematics(character: Character, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body positions (N, nbodies, 3), centre of mass (N, 3) and lowest geom points (N, ngeoms) per frame."""
    data = mujoco.MjData(character.model)
    probe = GroundProbe(character)
    body_pos = np.empty((len(qpos), len(character.body_ids), 3))
    com = np.empty((len(qpos), 3))
    lowest = np.empty((len(qpos), len(probe.geoms)))
    root = character.body_ids[0]
    for i in range(len(qpos)):
        data.qpos[:] = qpos[i]
        mujoco.mj_kinematics(character.model, data)
        mujoco.mj_comPos(character.model, data)
        body_pos[i] = data.xpos[character.body_ids]
        com[i] = data.subtree_com[root]
        lowest[i] = probe.lowest_in(data)[0]
    return body_pos, com, lowest


def make_track(motion: Motion, character: Character, hold_seconds: float = rates.HOLD_SECONDS,
               dt: float = rates.CONTROL_DT, flight: str = "clip", feet: str = "clip") -> ReferenceTrack:
    """The reference of `motion` (made for the canonical body) for `character`, played once then held.

    flight "clip" keeps the captured motion; "ballistic" makes its longest flight physically possible for this
    body (core.flight). feet "clip" keeps the captured feet; "planted" holds them still from the landing of
    the longest flight on; "stance_and_landing" also holds the toes still before its take-off (core.planted_feet).
    What a policy trained on it imitates, and what its tracking is measured against.
    """
    if flight not in FLIGHT_MODES:
        raise ValueError(f"flight must be one of {FLIGHT_MODES}, not {flight!r}")
    if feet not in FEET_MODES:
        raise ValueError(f"feet must be one of {FEET_MODES}, not {feet!r}")
    moved = retarget(motion.with_loop("clamp"), character.proportions)
    n = int(round((moved.duration + hold_seconds) / dt)) + 1
    frame = moved.sample(np.arange(n) * dt)
    qpos = frame_qpos(character, frame)
    qvel = frame_qvel(character, frame)
    body_pos, com, lowest = _kinematics(character, qpos)
    found = None
    clip_frames = frames_within(moved.duration, dt)
    airborne = np.min(lowest[:clip_frames], axis=-1) > GROUND_TOUCH
    dof_pos, dof_vel = frame.dof_pos, frame.dof_vel
    window = longest_airborne(airborne)
    if feet != "clip" and window is not None:
        # Before the flight is made ballistic, so that it is ballistic for the planted legs too.
        qpos = plant_feet(character, qpos, window[1], clip_frames)
        changed = np.arange(max(window[1] - BLEND_FRAMES - 1, 0), clip_frames)
        if feet == "stance_and_landing":
            qpos = plant_stance(character, qpos, window[0])
            changed = np.union1d(np.arange(1, window[0] + BLEND_FRAMES + 2), changed)  # frame 0 is unchanged
        dof_pos = qpos[:, character.dof_qpos]
        dof_vel = dof_vel.copy()
        dof_vel[changed] = np.gradient(dof_pos, dt, axis=0)[changed]
        qvel[:, character.dof_qvel] = dof_vel
        body_pos, com, lowest = _kinematics(character, qpos)
    if flight == "ballistic":
        qpos, found = ballistic_flight(character, qpos, com, airborne, dt)
        if found is not None:
            inside = np.arange(found.takeoff + 1, found.touchdown)
            qvel[inside, 0:6] = velocities(character.model, qpos, dt, inside)[:, 0:6]
            body_pos, com, lowest = _kinematics(character, qpos)
    # Retargeted mocap puts a foot up to 2 cm into the floor in some frames; a reference under the floor
    # teaches the policy to push its feet into it. Raise those frames until nothing is below the floor.
    probe = GroundProbe(character)
    lift = probe.lift_clear(lowest)
    lift_vel = np.gradient(lift, dt)
    qpos[:, 2] += lift
    qvel[:, 2] += lift_vel
    body_pos[:, :, 2] += lift[:, None]
    com[:, 2] += lift
    com_vel = np.gradient(com, dt, axis=0)
    com_vel[frame.phase >= 1.0] = 0.0
    return ReferenceTrack(dt=dt, clip_duration=moved.duration, root_pos=qpos[:, 0:3].copy(),
                          root_quat=qpos[:, 3:7].copy(), dof_pos=dof_pos, dof_vel=dof_vel, qpos=qpos,
                          qvel=qvel, body_pos=body_pos, com=com, com_vel=com_vel, flight=found)
