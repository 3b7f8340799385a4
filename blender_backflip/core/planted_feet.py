"""Take the foot skate out of a reference: from touch-down on, each foot stays where the clip leaves it, and
(feet "stance_and_landing") from the start to take-off, each toe stays where it stands.

Measured on the backflip clip through the canonical body: after touch-down the feet slide over the floor
while they bear weight, the right one 17 cm back and 8 cm sideways (it lands 23 cm ahead of the pelvis and
ends under it). No foot on a floor with friction can follow that. The policy plants its feet where the clip's
end up, and so it was 15-30 cm off on each foot for 0.3 s, the largest share of its tracking error.

Here each foot is moved in x and y onto the spot where the clip's last frame has it: from touch-down to the
clip's end, blended in over the last frames of the flight. Inverse kinematics on that leg (hip, knee, ankle)
does it. The foot keeps the clip's height and orientation, and the pelvis path and every other joint stay the
clip's.

The stance before take-off skates too: on the toes through the crouch, the clip's toes slide 17 cm forward and
back again by take-off. A simulated foot bearing the crouch cannot slide back, so the policy took off with its
feet 14 cm ahead of the reference's and landed short by as much on bodies it had not seen. Feet
"stance_and_landing" also holds each foot's toe (the front of its sole) on its spot in the first frame, from
the start to take-off, and releases it over the first frames of the flight; the foot keeps the clip's pitch,
so it still rolls onto its toes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mujoco
import numpy as np

from . import rotations as rot
from .character import Character
from .skeleton import BODIES, FOOT_BODIES, JOINTS, joint_dof_slices

FEET_MODES = ("clip", "planted", "stance_and_landing")
BLEND_FRAMES = 3  # flight frames before touch-down over which the feet move onto their spots
# Metres per radian: how much the foot's orientation counts against its position. Where a straight leg cannot
# reach the spot at the clip's height, the foot reaches it a little lower, and make_track's lift raises the
# whole frame clear of the floor (about 1 cm in the backflip's last frames): the foot stays planted.
_ROTATION_WEIGHT = 0.3
_DAMPING = 1e-3
_ITERATIONS = 200  # a straight knee sits at its limit, where the first steps barely move it


def leg_dofs(foot: str) -> np.ndarray:
    """Indices into the DOF vector of the joints from the hip down to `foot` (a FOOT_BODIES name)."""
    chain, body = [], foot
    while body != "pelvis":
        chain.append(body)
        body = next(j.parent for j in JOINTS if j.body == body)
    slices = joint_dof_slices()
    return np.concatenate([np.arange(slices[j.name].start, slices[j.name].stop) for j in JOINTS if j.body in chain])


def reach(character: Character, qpos: np.ndarray, foot: str, target_pos: np.ndarray, target_quat: np.ndarray,
          data: mujoco.MjData | None = None) -> np.ndarray:
    """qpos with the leg of `foot` bent so that the foot body sits at target_pos in orientation target_quat
    (damped least squares from the given pose, within the joints' ranges). Other joints are untouched.
    data: scratch MjData of the character's model (default: a new one)."""
    model = character.model
    data = data or mujoco.MjData(model)
    dofs = leg_dofs(foot)
    qadr, vadr = character.dof_qpos[dofs], character.dof_qvel[dofs]
    lower, upper = character.dof_lower[dofs], character.dof_upper[dofs]
    body = int(character.body_ids[BODIES.index(foot)])
    jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    q = qpos.copy()
    for _ in range(_ITERATIONS):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        position_error = target_pos - data.xpos[body]
        rotation_error = rot.rotvec_from_to(data.xquat[body], target_quat)
        error = np.concatenate([position_error, _ROTATION_WEIGHT * rotation_error])
        if np.linalg.norm(error) < 1e-5:
            break
        mujoco.mj_jacBody(model, data, jacp, jacr, body)
        jac = np.concatenate([jacp[:, vadr], _ROTATION_WEIGHT * jacr[:, vadr]])
        step = jac.T @ np.linalg.solve(jac @ jac.T + _DAMPING * np.eye(6), error)
        q[qadr] = np.clip(q[qadr] + step, lower, upper)
    return q


def _move_onto(character: Character, out: np.ndarray, foot: str, point: Callable[[mujoco.MjData], np.ndarray],
               spot: np.ndarray, frames: Sequence[tuple[int, float]], data: mujoco.MjData) -> None:
    """In each (frame, weight), bend the leg of `foot` so that point(data) moves that fraction of the way to
    spot in x and y, the foot keeping its orientation (out is changed in place)."""
    body = int(character.body_ids[BODIES.index(foot)])
    for i, weight in frames:
        data.qpos[:] = out[i]
        mujoco.mj_kinematics(character.model, data)
        target = data.xpos[body].copy()
        target[0:2] += weight * (spot[0:2] - point(data)[0:2])
        out[i] = reach(character, out[i], foot, target, data.xquat[body].copy(), data)


def plant_feet(character: Character, qpos: np.ndarray, touchdown: int, clip_frames: int) -> np.ndarray:
    """qpos (N, nq) of a clip's frames followed by its final pose held, with both feet held at their x, y in
    that final pose from touch-down to the clip's end (see the module docstring). The frames before
    touchdown - BLEND_FRAMES and the hold are unchanged."""
    data = mujoco.MjData(character.model)
    out = qpos.copy()
    first = max(touchdown - BLEND_FRAMES, 0)
    frames = [(i, min((i - first + 1) / (BLEND_FRAMES + 1), 1.0)) for i in range(first, clip_frames)]
    for foot in FOOT_BODIES:
        body = int(character.body_ids[BODIES.index(foot)])
        data.qpos[:] = qpos[-1]
        mujoco.mj_kinematics(character.model, data)
        _move_onto(character, out, foot, lambda d, b=body: d.xpos[b], data.xpos[body].copy(), frames, data)
    return out


def toe(character: Character, data: mujoco.MjData, foot: str) -> np.ndarray:
    """World position of the front edge of `foot`'s sole (its box geom), in a pose already put through kinematics."""
    body = int(character.body_ids[BODIES.index(foot)])
    geom = int(np.flatnonzero(character.model.geom_bodyid == body)[0])
    size = character.model.geom_size[geom]
    return data.geom_xpos[geom] + data.geom_xmat[geom].reshape(3, 3) @ np.array([size[0], 0.0, -size[2]])


def plant_stance(character: Character, qpos: np.ndarray, takeoff: int) -> np.ndarray:
    """qpos (N, nq) with each foot moved so that its toe stays at its x, y in frame 0 up to take-off, then let go
    over BLEND_FRAMES frames of the flight (see the module docstring). Later frames are unchanged."""
    data = mujoco.MjData(character.model)
    out = qpos.copy()
    last = min(takeoff + BLEND_FRAMES, len(qpos) - 1)
    frames = [(i, 1.0 if i <= takeoff else 1.0 - (i - takeoff) / (BLEND_FRAMES + 1)) for i in range(1, last + 1)]
    for foot in FOOT_BODIES:
        data.qpos[:] = qpos[0]
        mujoco.mj_kinematics(character.model, data)
        _move_onto(character, out, foot, lambda d, f=foot: toe(character, d, f), toe(character, data, foot),
                   frames, data)
    return out
