"""Simulate a flip on one character with an exported policy (MuJoCo on the CPU, deterministic for a seed).

Used by the add-on and by the evaluator, so what is measured is what the animator gets. The flip starts
at the origin facing +X; the Blender layer places the result where the avatar stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mujoco
import numpy as np

from . import rates
from .character import Character
from .contacts import GroundProbe
from .controller import Controller
from .errors import BackflipError
from .judge import Verdict, judge
from .nudge import Nudge
from .observation import RefTarget, observe, pd_targets
from .policy_file import PolicyFile
from .reference import ReferenceTrack, make_track
from .skeleton import BODIES, JOINTS, joint_dof_slices
from . import rotations as rot


@dataclass(frozen=True)
class SimResult:
    """Per-frame results at `fps`, in the flip's frame (origin, facing +X, Z up)."""

    fps: float
    times: np.ndarray  # (T,)
    qpos: np.ndarray  # (T, nq)
    body_pos: np.ndarray  # (T, nbodies, 3) in skeleton.BODIES order
    body_quat: np.ndarray  # (T, nbodies, 4)
    dof_pos: np.ndarray  # (T, NUM_DOFS)
    verdict: Verdict
    seed: int
    take: str
    nudge: Nudge | None = None

    @property
    def root_pos(self) -> np.ndarray:
        return self.qpos[:, 0:3]

    @property
    def root_quat(self) -> np.ndarray:
        return self.qpos[:, 3:7]

    def joint_quats(self) -> np.ndarray:
        """(T, len(JOINTS), 4) local rotation of each joint (skeleton.JOINTS order) relative to its parent."""
        slices = joint_dof_slices()
        out = np.empty((len(self.times), len(JOINTS), 4))
        for k, joint in enumerate(JOINTS):
            angles = self.dof_pos[:, slices[joint.name]]
            if joint.is_ball:
                out[:, k] = rot.quat_from_euler(angles, joint.axes)
            else:
                out[:, k] = rot.quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), angles[:, 0])
        return out


def policy_track(policy: PolicyFile, character: Character) -> ReferenceTrack:
    """The reference a policy file's policy imitates, for this body (its flight and feet as it was trained)."""
    return make_track(policy.reference, character, flight=policy.reference_flight, feet=policy.reference_feet)


def at_control_frames(recorded: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The rows of a per-frame record (rates.RECORD_HZ, from t = 0) at these control frames."""
    return recorded[frames * (rates.RECORD_HZ // rates.CONTROL_HZ)]


def body_errors_m(body_pos: np.ndarray, track: ReferenceTrack) -> tuple[np.ndarray, np.ndarray]:
    """(frames, errors): the control frames after the start that lie within the clip, and the distance (m) of
    each body from the track's there, (len(frames), nbodies); body_pos is recorded at rates.RECORD_HZ from t = 0."""
    frames = np.arange(1, track.clip_frames)
    return frames, np.linalg.norm(at_control_frames(body_pos, frames) - track.body_pos[frames], axis=-1)


def tracking_error_cm(body_pos: np.ndarray, track: ReferenceTrack) -> float:
    """Mean distance (cm) of the bodies from the track's over the clip (DESIGN.md's tracking error)."""
    return 100.0 * float(np.mean(body_errors_m(body_pos, track)[1]))


def simulate(character: Character, controller: Controller, seed: int = 0, joint_noise: float = 0.05,
             track: ReferenceTrack | None = None, body_params: np.ndarray | None = None,
             progress: Callable[[float], bool] | None = None, nudge: Nudge | None = None) -> SimResult:
    """Run the flip from a standing start. `progress(fraction)` may return False to cancel (raises BackflipError).

    `nudge` pushes one body at a chosen moment; the policy reacts to it as to any other disturbance.
    """
    track = track or policy_track(controller.policy, character)
    if nudge is not None:
        nudge.validate((track.num_frames - 1) * rates.CONTROL_DT)
        nudged_body = int(character.body_ids[BODIES.index(nudge.body)])
    model = character.model
    data = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    data.qpos[:] = track.qpos[0]
    data.qpos[character.dof_qpos] += rng.uniform(-joint_noise, joint_noise, len(character.dof_qpos))
    data.qvel[:] = track.qvel[0]
    probe = GroundProbe(character)
    mujoco.mj_kinematics(model, data)  # the joint noise can push a foot into the floor: start clear of it
    data.qpos[2] += probe.lift_clear(probe.lowest_in(data))[0]
    mujoco.mj_forward(model, data)
    params = np.asarray(body_params if body_params is not None else character.proportions.scale_factors())[None]
    record_every = rates.PHYSICS_HZ // rates.RECORD_HZ
    n_control = track.num_frames - 1

    times, qpos, body_pos, body_quat, contact, depth = [], [], [], [], [], []

    def record(t: float) -> None:
        # After mj_step the body and geom poses are still those of the step's start; bring them to qpos (the
        # next step recomputes them anyway), so that bodies, contacts and joint angles are of the same instant.
        mujoco.mj_kinematics(model, data)
        times.append(t)
        qpos.append(data.qpos.copy())
        body_pos.append(data.xpos[character.body_ids].copy())
        body_quat.append(data.xquat[character.body_ids].copy())
        low = probe.lowest_in(data)
        contact.append(bool(probe.non_foot_touch(low)[0]))
        depth.append(float(probe.foot_penetration(low)[0]))

    record(0.0)
    for k in range(n_control):
        ref = RefTarget(track.root_pos[k][None], track.root_pos[k + 1][None], track.root_quat[k + 1][None],
                        track.dof_pos[k + 1][None])
        obs = observe(data.qpos[None], data.qvel[None], character.dof_qpos, character.dof_qvel, ref,
                      np.array([k * rates.CONTROL_DT]), track.clip_duration, rates.HOLD_SECONDS, params)
        data.ctrl[:] = pd_targets(track.dof_pos[k + 1], track.dof_vel[k + 1], controller(obs)[0])
        for s in range(rates.SUBSTEPS):
            if nudge is not None:
                data.xfrc_applied[nudged_body, :3] = nudge.force_at(k * rates.CONTROL_DT + s * rates.PHYSICS_DT)
            mujoco.mj_step(model, data)
            if (s + 1) % record_every == 0:
                record(k * rates.CONTROL_DT + (s + 1) * rates.PHYSICS_DT)
        if not np.all(np.isfinite(data.qpos)):
            raise BackflipError("The simulation diverged (NaN). Check the rig's proportions and masses; a body "
                                "with extreme proportions cannot be simulated.")
        if progress is not None and progress((k + 1) / n_control) is False:
            raise BackflipError("Simulation cancelled; nothing was changed.")

    times_a = np.array(times)
    qpos_a = np.array(qpos)
    body_pos_a = np.array(body_pos)
    verdict = judge(times_a, qpos_a[:, 0:3], qpos_a[:, 3:7], float(track.root_pos[-1, 2]), np.array(contact),
                    np.array(depth), tracking_error_cm(body_pos_a, track))
    return SimResult(fps=float(rates.RECORD_HZ), times=times_a, qpos=qpos_a, body_pos=body_pos_a,
                     body_quat=np.array(body_quat), dof_pos=qpos_a[:, character.dof_qpos], verdict=verdict,
                     seed=seed, take=controller.policy.take, nudge=nudge)
