"""Retarget a simulated flip onto a rig as keyframe channels (pure numpy; the Blender layer only writes them).

For every mapped bone the world rotation follows its physics body:

    bone_world(t) = H * sim_body(t) * H^-1 * S_role * bone_rest_world

where H turns the flip's frame (facing +X) to the avatar's heading and S_role (rig.rest_alignment) turns the
rig's rest segment onto the physics body's rest direction (T- and A-pose arms swing down, bone roll and any
rest orientation stay the rig's own). The physics body's rest frames are axis-aligned with the world, so the
simulated world rotation is the change from rest. Each bone's pose-space rotation is then solved relative to
its parent's posed matrix with Blender's pose formula

    pose(bone) = pose(parent) @ rest(parent)^-1 @ rest(bone) @ basis(bone)

so unmapped bones in between (extra spine bones, a neck, a rig root) are keyed at rest and carried along.
Root motion goes on the pelvis bone, or its horizontal part on the rig's root bone when it has one.
Positions are scaled from simulated metres to the avatar (SimBody.scale) and placed where the avatar stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import rotations as rot
from .errors import BackflipError
from .rig import RigSpec
from .skeleton import BODIES

BODY_INDEX = {b: i for i, b in enumerate(BODIES)}


class SimLike(Protocol):
    times: np.ndarray
    body_pos: np.ndarray
    body_quat: np.ndarray


@dataclass(frozen=True)
class Placement:
    """Where the flip's frame (origin on the ground, facing +X) lands in the world."""

    origin: np.ndarray  # world point: the flip's origin (under the hips, at ground height)
    yaw: float  # radians about world Z: the avatar's facing
    scale: float = 1.0  # world metres per simulated metre
    height_offset: float = 0.0  # added to the pelvis height (avatar leg length minus scaled simulated leg)

    @property
    def heading(self) -> np.ndarray:
        return rot.quat_to_matrix(rot.quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), np.array(self.yaw)))

    def point(self, p: np.ndarray) -> np.ndarray:
        return self.scale * (np.asarray(p) @ self.heading.T) + np.asarray(self.origin)

    def rotation(self, r: np.ndarray) -> np.ndarray:
        h = self.heading
        return h @ r @ h.T


def resample(sim: SimLike, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, body_pos, body_quat) at the scene's frame rate from the simulation's (slerp for rotations)."""
    if not fps > 0:
        raise BackflipError(f"The scene frame rate is {fps}; set a positive frame rate in Output Properties.")
    t_sim = np.asarray(sim.times, dtype=np.float64)
    t = np.arange(0.0, t_sim[-1] - t_sim[0] + 1e-9, 1.0 / fps) + t_sim[0]
    k = np.clip(np.searchsorted(t_sim, t, side="right") - 1, 0, len(t_sim) - 2)
    alpha = np.clip((t - t_sim[k]) / (t_sim[k + 1] - t_sim[k]), 0.0, 1.0)
    pos = sim.body_pos[k] + alpha[:, None, None] * (sim.body_pos[k + 1] - sim.body_pos[k])
    quat = rot.quat_slerp(sim.body_quat[k], sim.body_quat[k + 1], np.broadcast_to(alpha[:, None], alpha.shape + (len(BODIES),)))
    return t - t_sim[0], pos, quat


@dataclass
class Channel:
    bone: str
    data_path: str  # 'location', 'rotation_quaternion', 'rotation_euler', 'rotation_axis_angle'
    index: int
    frames: np.ndarray
    values: np.ndarray

    @property
    def pose_path(self) -> str:
        return f'pose.bones["{self.bone}"].{self.data_path}'


@dataclass
class BakePlan:
    frames: np.ndarray  # scene frames of the samples
    channels: list[Channel]
    basis: dict[str, np.ndarray] = field(repr=False)  # bone -> (N, 4, 4) pose-space matrix_basis
    pose: dict[str, np.ndarray] = field(repr=False)  # bone -> (N, 4, 4) armature-space pose matrix
    target_world: dict[str, np.ndarray] = field(repr=False)  # role -> (N, 3, 3) world rotation aimed at
    world_points: np.ndarray = field(repr=False)  # (N, 15, 3) simulated bodies placed in the world
    reduced: bool = False

    @property
    def num_keys(self) -> int:
        return int(sum(len(c.frames) for c in self.channels))


def _inv(m: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4x4 matrices (rotation + translation), batched."""
    r = np.swapaxes(m[..., :3, :3], -1, -2)
    out = np.zeros_like(m)
    out[..., :3, :3] = r
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", r, m[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


def _orthonormal(m: np.ndarray) -> np.ndarray:
    """Rest matrices from Blender carry float32 noise: snap their rotation part to the nearest rotation."""
    m = np.array(m, dtype=np.float64)
    m[..., :3, :3] = rot.quat_to_matrix(rot.matrix_to_quat(m[..., :3, :3]))
    return m


def keyed_bones(rig: RigSpec) -> list[str]:
    """Mapped bones, their ancestors and the rig's root bone, parents first."""
    names: set[str] = set()
    for bone in rig.mapping.values():
        names.add(bone)
        names.update(rig.ancestors(bone))
    if rig.root_bone:
        names.add(rig.root_bone)
    return sorted(names, key=lambda n: (len(rig.ancestors(n)), n))


def plan_bake(rig: RigSpec, sim: SimLike, placement: Placement, alignment: dict[str, np.ndarray], fps: float,
              start_frame: float = 1.0, rotation_modes: dict[str, str] | None = None) -> BakePlan:
    """Every keyframe channel of the bake (values at every scene frame of the flip)."""
    times, body_pos, body_quat = resample(sim, fps)
    n = len(times)
    frames = start_frame + np.arange(n, dtype=np.float64)
    r_obj, s_obj, t_obj = rig.object_rotation, rig.object_scale, rig.object_matrix[:3, 3]
    sim_rot = rot.quat_to_matrix(body_quat)  # (N, 15, 3, 3)
    world_points = placement.point(body_pos)

    role_of = {bone: role for role, bone in rig.mapping.items()}
    order = keyed_bones(rig)
    rest = {name: _orthonormal(rig.bones[name].matrix) for name in order}
    pelvis_bone = rig.mapping["pelvis"]

    # World targets of the pelvis bone's head and of the root bone's head.
    h0 = rig.world(rig.bones[pelvis_bone].head)
    m0 = rig.hip_center
    pelvis_world_rot = placement.rotation(sim_rot[:, BODY_INDEX["pelvis"]])
    pelvis_target = (world_points[:, BODY_INDEX["pelvis"]] + np.array([0.0, 0.0, placement.height_offset])
                     + pelvis_world_rot @ (h0 - m0))
    root = rig.root_bone if rig.root_bone and rig.root_bone in rig.ancestors(pelvis_bone) else None
    root_target = None
    if root is not None:
        shift = pelvis_target - h0
        shift[:, 2] = 0.0
        root_target = rig.world(rig.bones[root].head) + shift

    def to_arm_point(x: np.ndarray) -> np.ndarray:
        return ((x - t_obj) @ r_obj) / s_obj

    pose: dict[str, np.ndarray] = {}
    basis: dict[str, np.ndarray] = {}
    targets: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(4), (n, 4, 4))
    for name in order:
        parent = rig.bones[name].parent
        if parent is None:
            base = np.broadcast_to(rest[name], (n, 4, 4)).copy()
        else:
            base = pose[parent] @ (_inv(rest[parent]) @ rest[name])
        role = role_of.get(name)
        if role is not None:
            world_rot = placement.rotation(sim_rot[:, BODY_INDEX[role]]) @ alignment[role] @ rig.rest_world_rotation(name)
            targets[role] = world_rot
            target = np.empty((n, 4, 4))
            target[:, 3] = (0.0, 0.0, 0.0, 1.0)
            target[:, :3, :3] = r_obj.T @ world_rot
            target[:, :3, 3] = to_arm_point(pelvis_target) if name == pelvis_bone else base[:, :3, 3]
            b = _inv(base) @ target
        elif name == root and root_target is not None:
            b = eye.copy()
            b[:, :3, 3] = np.einsum("nji,nj->ni", base[:, :3, :3], to_arm_point(root_target) - base[:, :3, 3])
        else:
            b = eye.copy()
        b[:, :3, :3] = rot.quat_to_matrix(rot.matrix_to_quat(b[:, :3, :3]))
        basis[name] = b
        pose[name] = base @ b
    if not all(np.all(np.isfinite(m)) for m in basis.values()):
        raise BackflipError("The simulated motion has NaN values and cannot be baked. Simulate again (another "
                            "seed) or check the rig's proportions.")

    channels: list[Channel] = []
    modes = rotation_modes or {}
    for name in order:
        b = basis[name]
        for i in range(3):
            channels.append(Channel(name, "location", i, frames, b[:, i, 3].copy()))
        q = rot.quat_make_continuous(rot.matrix_to_quat(b[:, :3, :3]))
        mode = modes.get(name, "QUATERNION")
        if mode == "QUATERNION":
            values, path = q, "rotation_quaternion"
        elif mode == "AXIS_ANGLE":
            values, path = rot.quat_to_axis_angle_wxyz(q), "rotation_axis_angle"
        elif mode in rot.BLENDER_EULER_MODES:
            values = rot.euler_make_continuous(rot.blender_euler_from_quat(q, mode), mode)
            path = "rotation_euler"
        else:
            raise BackflipError(f"Bone '{name}' uses rotation mode {mode!r}, which the bake does not know.")
        for i in range(values.shape[1]):
            channels.append(Channel(name, path, i, frames, values[:, i].copy()))
    return BakePlan(frames, channels, basis, pose, targets, world_points)


def rdp_keep(values: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the samples to keep so that straight lines between kept samples stay within `tolerance`
    of every dropped one (Ramer-Douglas-Peucker on evenly spaced samples, error measured in value)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n <= 2:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        idx = np.arange(a + 1, b)
        line = v[a] + (v[b] - v[a]) * (idx - a) / (b - a)
        err = np.abs(v[a + 1:b] - line)
        k = int(np.argmax(err))
        if err[k] > tolerance:
            m = a + 1 + k
            keep[m] = True
            stack.extend([(a, m), (m, b)])
    return np.flatnonzero(keep)


def reduce_keys(plan: BakePlan, max_error_deg: float, max_error_m: float, unit_scale: float = 1.0) -> BakePlan:
    """Drop keys that linear interpolation reproduces within the given errors (rotations in degrees: for
    quaternion components sin(err/2); locations in metres, converted to the bones' units by unit_scale)."""
    angle = np.radians(max_error_deg)
    out = []
    for c in plan.channels:
        if c.data_path == "location":
            tol = max_error_m / unit_scale
        elif c.data_path == "rotation_quaternion":
            tol = np.sin(angle / 2.0)
        elif c.data_path == "rotation_axis_angle" and c.index > 0:
            tol = np.sin(angle / 2.0)
        else:
            tol = angle
        keep = rdp_keep(c.values, tol)
        out.append(Channel(c.bone, c.data_path, c.index, c.frames[keep], c.values[keep]))
    return BakePlan(plan.frames, out, plan.basis, plan.pose, plan.target_world, plan.world_points, reduced=True)
