"""A rig's own motion (the animator's keys, or mocap on the rig) as a reference Motion for training.

The inverse of core.bake: where the bake turns each physics body's world rotation into its bone's,

    bone_world(t) = H * sim_body(t) * H^-1 * S_role * bone_rest_world,

this reads the bones' world rotations back into the physics bodies' (the body rest frames are axis-aligned
with the world, so a joint's rotation is its parent body's inverse times its own), places the pelvis with the
same Placement, and scales the root from the avatar's simulated body to the canonical one (the inverse of
core.retarget). The result is a Motion made for the canonical body, as a DeepMimic clip is, so the trainer
can imitate it (`policy.train --clip`).
"""

from __future__ import annotations

import numpy as np

from . import rotations as rot
from .bake import Placement
from .errors import BackflipError
from .motion import Motion, motion_from_keys
from .rig import RigSpec
from .skeleton import CANONICAL, JOINTS, Proportions

ROLES_READ: tuple[str, ...] = ("pelvis",) + tuple(j.body for j in JOINTS)
"""The bodies whose world rotations make a reference pose: the pelvis and every body a joint moves."""
_HINGE_AXIS = {"x": 1, "y": 2, "z": 3}  # quaternion component of each axis


def body_rotations(rig: RigSpec, bone_world: dict[str, np.ndarray], placement: Placement,
                   alignment: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """role -> (N, 3, 3) world rotation of the physics body in the flip's frame (facing +X), from the world
    rotations (N, 3, 3) of the roles' bones (plan_bake's rotation, inverted)."""
    h = placement.heading
    out = {}
    for role in ROLES_READ:
        rest = rig.rest_world_rotation(rig.mapping[role])
        out[role] = h.T @ bone_world[role] @ rest.T @ alignment[role].T @ h
    return out


def pelvis_positions(rig: RigSpec, pelvis_head_world: np.ndarray, pelvis_rotation: np.ndarray,
                     placement: Placement) -> np.ndarray:
    """(N, 3) the pelvis body's position in simulated metres, flip frame, from the pelvis bone's world head
    (N, 3) and the pelvis body's rotation (N, 3, 3) (plan_bake's pelvis target, inverted)."""
    h0 = rig.world(rig.bones[rig.mapping["pelvis"]].head)
    offset = h0 - rig.hip_center
    world_rot = placement.rotation(pelvis_rotation)
    world = (np.asarray(pelvis_head_world) - world_rot @ offset - np.array([0.0, 0.0, placement.height_offset])
             - np.asarray(placement.origin))
    return (world / placement.scale) @ placement.heading


def _joint_angles(local: np.ndarray, axes: str) -> np.ndarray:
    """(N, len(axes)) angles of a joint from its local rotations (N, 4): Euler angles for a ball joint, the
    twist about its axis for a hinge (a rig's knee or elbow that also turns sideways keeps only its bend)."""
    if len(axes) == 3:
        return rot.euler_from_quat(local, axes)
    q = np.where(local[:, :1] < 0.0, -local, local)
    return (2.0 * np.arctan2(q[:, _HINGE_AXIS[axes]], q[:, 0]))[:, None]


def motion_from_bodies(times: np.ndarray, root_pos: np.ndarray, rotations: dict[str, np.ndarray],
                       body: Proportions, name: str = "rig motion") -> Motion:
    """The reference Motion, made for the canonical body, of bodies moving as given on a body of `body`'s
    proportions: times (N,) in seconds, root_pos (N, 3) the pelvis in simulated metres, rotations role ->
    (N, 3, 3) world rotations of the bodies (ROLES_READ)."""
    times = np.asarray(times, dtype=np.float64)
    if len(times) < 2:
        raise BackflipError(f"Motion '{name}' needs at least 2 frames; give a frame range longer than one frame.")
    quats = {role: rot.quat_make_continuous(rot.matrix_to_quat(m)) for role, m in rotations.items()}
    dofs = []
    for joint in JOINTS:
        local = rot.quat_multiply(rot.quat_conjugate(quats[joint.parent]), quats[joint.body])
        dofs.append(_joint_angles(local, joint.axes))  # beyond a joint's range too, as a clip may be
    dof_pos = np.concatenate(dofs, axis=-1)
    root = np.asarray(root_pos, dtype=np.float64) * (CANONICAL.leg_length / body.leg_length)
    root[:, :2] -= root[0, :2]  # a clip starts at the origin (its height is kept)
    return motion_from_keys(times - times[0], root, quats["pelvis"], dof_pos, loop="clamp", name=name)


def check_moves(motion: Motion, frames: tuple[int, int]) -> None:
    """Refuse a reference that stands still: a policy cannot learn a flip from a pose."""
    turn = float(np.max(np.ptp(motion.dof_pos, axis=0)))
    travel = float(np.max(np.ptp(motion.root_pos, axis=0)))
    if turn < np.radians(1.0) and travel < 0.01:
        raise BackflipError(f"The armature does not move in frames {frames[0]}-{frames[1]} (joints turn at most "
                            f"{np.degrees(turn):.2f} degrees, the hips travel {100 * travel:.2f} cm). Key the "
                            "motion first, or give the frame range that holds it.")
