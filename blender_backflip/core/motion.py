"""Reference motions: load a DeepMimic clip, resample it smoothly, sample it at any time.

A Motion holds a uniform fine grid (root position, root rotation, the 28 joint angles of skeleton.DOF_NAMES
and their velocities) and interpolates between grid points. DeepMimic clips are Y up and face +X with the
character's right side +Z; they are converted at load to Z up, facing +X, left +Y.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from . import rotations as rot
from .errors import BackflipError
from .skeleton import JOINTS, NUM_DOFS, joint_dof_slices

LoopMode = Literal["wrap", "clamp"]
GRID_HZ = 120.0
# Width of one DeepMimic frame: duration, root position, root rotation, then the joints in clip order.
CLIP_FRAME_WIDTH = 1 + 3 + 4 + sum(4 if j.is_ball else 1 for j in JOINTS)


@dataclass(frozen=True)
class MotionFrame:
    """A reference state at one or many times (leading dimensions follow the times asked for)."""

    root_pos: np.ndarray  # (..., 3)
    root_quat: np.ndarray  # (..., 4) w, x, y, z
    dof_pos: np.ndarray  # (..., NUM_DOFS)
    root_linvel: np.ndarray  # (..., 3) world frame
    root_angvel: np.ndarray  # (..., 3) world frame
    dof_vel: np.ndarray  # (..., NUM_DOFS)
    phase: np.ndarray  # (...,) in [0, 1]


@dataclass(frozen=True)
class Motion:
    """A reference clip on a uniform grid; `loop` picks what happens after its end."""

    dt: float
    root_pos: np.ndarray  # (T, 3)
    root_quat: np.ndarray  # (T, 4), continuous in sign
    dof_pos: np.ndarray  # (T, NUM_DOFS), unwrapped
    loop: LoopMode = "clamp"
    name: str = "motion"

    def __post_init__(self) -> None:
        n = len(self.root_pos)
        if n < 2 or self.root_quat.shape != (n, 4) or self.dof_pos.shape != (n, NUM_DOFS):
            raise BackflipError(f"Motion '{self.name}' needs at least 2 frames of root position, rotation and "
                                f"{NUM_DOFS} joint angles.")
        object.__setattr__(self, "root_linvel", np.gradient(self.root_pos, self.dt, axis=0))
        object.__setattr__(self, "root_angvel", rot.angular_velocity(self.root_quat, self.dt))
        object.__setattr__(self, "dof_vel", np.gradient(self.dof_pos, self.dt, axis=0))

    @property
    def duration(self) -> float:
        return self.dt * (len(self.root_pos) - 1)

    @property
    def num_frames(self) -> int:
        return len(self.root_pos)

    def with_loop(self, loop: LoopMode) -> "Motion":
        return replace(self, loop=loop)

    def _cycle_power(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rotation and shift that carry cycle 0 onto cycle k: yaw and travel accumulate per cycle."""
        yaw = rot.quat_multiply(rot.yaw_quat(self.root_quat[-1]), rot.quat_conjugate(rot.yaw_quat(self.root_quat[0])))
        offset = self.root_pos[-1] - rot.quat_rotate(yaw, self.root_pos[0])
        offset[2] = 0.0
        if k < 0:
            yaw = rot.quat_conjugate(yaw)
            offset = -rot.quat_rotate(yaw, offset)
        q, shift = np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3)
        for _ in range(abs(k)):
            shift = rot.quat_rotate(yaw, shift) + offset
            q = rot.quat_multiply(yaw, q)
        return q, shift

    def sample(self, t: np.ndarray | float) -> MotionFrame:
        """The reference at times t (seconds): interpolated between grid points, looped or clamped."""
        t = np.asarray(t, dtype=np.float64)
        duration = self.duration
        if self.loop == "wrap":
            cycles = np.floor(t / duration)
            local = t - cycles * duration
        else:
            cycles = np.zeros_like(t)
            local = np.clip(t, 0.0, duration)
        x = local / self.dt
        i0 = np.clip(np.floor(x).astype(np.int64), 0, self.num_frames - 2)
        a = np.clip(x - i0, 0.0, 1.0)
        i1 = i0 + 1
        lerp = lambda arr: arr[i0] + a[..., None] * (arr[i1] - arr[i0])  # noqa: E731
        root_pos = lerp(self.root_pos)
        root_quat = rot.quat_slerp(self.root_quat[i0], self.root_quat[i1], a)
        dof_pos = lerp(self.dof_pos)
        root_linvel = lerp(self.root_linvel)
        root_angvel = lerp(self.root_angvel)
        dof_vel = lerp(self.dof_vel)
        if self.loop == "clamp":
            held = (t > duration)[..., None]
            root_linvel = np.where(held, 0.0, root_linvel)
            root_angvel = np.where(held, 0.0, root_angvel)
            dof_vel = np.where(held, 0.0, dof_vel)
        elif np.any(cycles != 0):
            n = cycles.astype(np.int64)
            for k in np.unique(n[n != 0]):
                mask = n == k
                q, shift = self._cycle_power(int(k))
                root_pos[mask] = rot.quat_rotate(q, root_pos[mask]) + shift
                root_quat[mask] = rot.quat_multiply(q, root_quat[mask])
                root_linvel[mask] = rot.quat_rotate(q, root_linvel[mask])
                root_angvel[mask] = rot.quat_rotate(q, root_angvel[mask])
        phase = local / duration
        return MotionFrame(root_pos, root_quat, dof_pos, root_linvel, root_angvel, dof_vel, phase)


def _cubic_resample(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Catmull-Rom (cubic Hermite with finite-difference tangents) through the keys, sampled on grid."""
    tangents = np.gradient(values, times, axis=0)
    i = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 2)
    h = times[i + 1] - times[i]
    s = ((grid - times[i]) / h)[:, None]
    h = h[:, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * values[i] + h10 * h * tangents[i] + h01 * values[i + 1] + h11 * h * tangents[i + 1]


def motion_from_keys(times: np.ndarray, root_pos: np.ndarray, root_quat: np.ndarray, dof_pos: np.ndarray,
                     loop: LoopMode = "clamp", name: str = "motion", grid_hz: float = GRID_HZ) -> Motion:
    """Resample keyed poses (any spacing) onto a uniform grid: cubic for positions and angles, slerp for the root."""
    times = np.asarray(times, dtype=np.float64)
    if np.any(np.diff(times) <= 0.0):
        raise BackflipError(f"Motion '{name}': key times must increase.")
    n = int(round((times[-1] - times[0]) * grid_hz)) + 1
    grid = np.linspace(times[0], times[-1], n)
    root_quat = rot.quat_make_continuous(rot.quat_normalize(root_quat))
    j = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 2)
    a = (grid - times[j]) / (times[j + 1] - times[j])
    quat_grid = rot.quat_make_continuous(rot.quat_slerp(root_quat[j], root_quat[j + 1], a))
    return Motion(
        dt=float(grid[1] - grid[0]),
        root_pos=_cubic_resample(times, np.asarray(root_pos, dtype=np.float64), grid),
        root_quat=quat_grid,
        dof_pos=_cubic_resample(times, np.unwrap(np.asarray(dof_pos, dtype=np.float64), axis=0), grid),
        loop=loop,
        name=name,
    )


def _yup_to_zup_quat(q: np.ndarray) -> np.ndarray:
    """DeepMimic (x forward, y up, z right) to ours (x forward, y left, z up)."""
    q = rot.quat_normalize(q)
    return np.stack([q[..., 0], q[..., 1], -q[..., 3], q[..., 2]], axis=-1)


def _yup_to_zup_vec(v: np.ndarray) -> np.ndarray:
    return np.stack([v[..., 0], -v[..., 2], v[..., 1]], axis=-1)


def _zup_to_yup_quat(q: np.ndarray) -> np.ndarray:
    return np.stack([q[..., 0], q[..., 1], q[..., 3], -q[..., 2]], axis=-1)


def _zup_to_yup_vec(v: np.ndarray) -> np.ndarray:
    return np.stack([v[..., 0], v[..., 2], -v[..., 1]], axis=-1)


def dofs_from_clip_row(joint_values: np.ndarray) -> np.ndarray:
    """The 28 DOF angles from the joint part of DeepMimic frames (..., 36), in skeleton.DOF_NAMES order."""
    out = []
    k = 0
    for joint in JOINTS:
        if joint.is_ball:
            q = _yup_to_zup_quat(joint_values[..., k:k + 4])
            out.append(rot.euler_from_quat(q, joint.axes))
            k += 4
        else:
            # DeepMimic hinges turn about their local +z, which is our -y.
            out.append(-joint_values[..., k:k + 1])
            k += 1
    return np.concatenate(out, axis=-1)


def clip_rows_from_dofs(dof_pos: np.ndarray) -> np.ndarray:
    """The joint part of DeepMimic frames (..., 36) from DOF angles (..., 28): the inverse of dofs_from_clip_row."""
    out = []
    slices = joint_dof_slices()
    for joint in JOINTS:
        angles = dof_pos[..., slices[joint.name]]
        if joint.is_ball:
            out.append(_zup_to_yup_quat(rot.quat_from_euler(angles, joint.axes)))
        else:
            out.append(-angles)
    return np.concatenate(out, axis=-1)


def deepmimic_data(motion: Motion) -> dict:
    """The JSON of a DeepMimic clip holding `motion` at its own frame spacing (parse_deepmimic reads it back)."""
    n = motion.num_frames
    rows = np.concatenate([np.full((n, 1), motion.dt), _zup_to_yup_vec(motion.root_pos),
                           _zup_to_yup_quat(motion.root_quat), clip_rows_from_dofs(motion.dof_pos)], axis=-1)
    rows[-1, 0] = 0.0  # DeepMimic's last frame has no duration
    return {"Loop": "wrap" if motion.loop == "wrap" else "none", "Frames": rows.tolist()}


def save_deepmimic(path: str | os.PathLike[str], motion: Motion) -> None:
    """Write `motion` as a DeepMimic clip file, one frame per line."""
    data = deepmimic_data(motion)
    # 8 decimals (0.01 mm, 1e-8 rad) keep the file small; the durations stay exact, or the clip would shorten.
    lines = ",\n".join("  " + json.dumps(row[:1] + [round(v, 8) for v in row[1:]]) for row in data["Frames"])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f'{{\n"Loop": "{data["Loop"]}",\n"Frames": [\n{lines}\n]\n}}\n')


def parse_deepmimic(data: dict, name: str = "clip", loop: LoopMode | None = None) -> Motion:
    """A Motion from the parsed JSON of a DeepMimic clip."""
    try:
        frames = np.asarray(data["Frames"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackflipError(f"Clip '{name}' is not a DeepMimic motion file: it needs a 'Frames' list of "
                            f"equal-length number rows ({exc}).") from exc
    if frames.ndim != 2 or frames.shape[1] != CLIP_FRAME_WIDTH:
        width = frames.shape[1] if frames.ndim == 2 else "ragged"
        raise BackflipError(f"Clip '{name}' has frames of width {width}; this skeleton expects "
                            f"{CLIP_FRAME_WIDTH} numbers per frame (humanoid3d: duration, root position, root "
                            f"rotation, 12 joints). Use a clip made for the DeepMimic humanoid.")
    if len(frames) < 2 or not np.all(np.isfinite(frames)):
        raise BackflipError(f"Clip '{name}' needs at least 2 frames of finite numbers.")
    durations = frames[:-1, 0]
    if np.any(durations <= 0.0):
        raise BackflipError(f"Clip '{name}' has a frame duration that is zero or negative.")
    times = np.concatenate([[0.0], np.cumsum(durations)])
    root_pos = _yup_to_zup_vec(frames[:, 1:4])
    root_pos[:, :2] -= root_pos[0, :2]  # the clip starts at the origin; height is kept
    root_quat = _yup_to_zup_quat(frames[:, 4:8])
    dof_pos = dofs_from_clip_row(frames[:, 8:])
    mode: LoopMode = loop or ("wrap" if str(data.get("Loop", "none")).lower() == "wrap" else "clamp")
    return motion_from_keys(times, root_pos, root_quat, dof_pos, loop=mode, name=name)


def load_deepmimic(path: str | os.PathLike[str], loop: LoopMode | None = None) -> Motion:
    """Load a DeepMimic clip file (JSON with Loop and Frames)."""
    name = os.path.basename(os.fspath(path))
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as exc:
        raise BackflipError(f"Clip file not found: {path}. Pass the path of a DeepMimic clip.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackflipError(f"Clip '{name}' is not valid JSON ({exc}).") from exc
    return parse_deepmimic(data, name=name, loop=loop)
