"""Left-right mirror images of degree-of-freedom vectors, observations and actions.

The flip's frame faces +X with left at +Y (skeleton.py), and the humanoid is left-right symmetric, so
reflecting y (the sagittal plane) maps every state to one the physics treats alike. A hinge about a joint's
local y axis (flexion) keeps its angle under the reflection; hinges about x and z (roll and twist) change
sign; left and right swap. The trainer uses this for symmetry augmentation (each sample also teaches its
mirror image); the maps are built from the layouts here, so a layout change that they do not cover fails loudly.
"""

from __future__ import annotations

import numpy as np

from .observation import NUM_ACTIONS, OBS_LAYOUT
from .skeleton import BODIES, DOF_NAMES, JOINTS


def _other_side(name: str) -> str:
    for a, b in (("right_", "left_"), ("left_", "right_")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


def _dof_map() -> tuple[np.ndarray, np.ndarray]:
    index = np.array([DOF_NAMES.index(_other_side(name)) for name in DOF_NAMES])
    sign = np.array([1.0 if axis == "y" else -1.0 for joint in JOINTS for axis in joint.axes])  # DOF order
    return index, sign


# mirrored[i] = sign[i] * x[index[i]]
DOF_INDEX, DOF_SIGN = _dof_map()

_Y = (1.0, -1.0, 1.0)  # a world vector: y flips
_PSEUDO = (-1.0, 1.0, -1.0)  # an angular velocity (a pseudo-vector): x and z flip
_TANGENT_NORMAL = _Y + _Y  # two columns of a rotation matrix, each a world vector
_UNCHANGED = ("root_height", "ref_root_height", "phase", "body_params")  # body_params scale both sides alike
_SIGNS = {"root_xy_error": (1.0, -1.0), "ref_root_xy_delta": (1.0, -1.0), "root_linvel": _Y,
          "root_angvel_local": _PSEUDO, "root_tangent_normal": _TANGENT_NORMAL,
          "ref_root_tangent_normal": _TANGENT_NORMAL}
_DOF_PARTS = ("dof_pos", "dof_vel", "ref_dof_pos")


def _observation_map() -> tuple[np.ndarray, np.ndarray]:
    index, sign, start = [], [], 0
    for name, width in OBS_LAYOUT:
        if name in _DOF_PARTS:
            index.extend(start + DOF_INDEX)
            sign.extend(DOF_SIGN)
        elif name in _SIGNS or name in _UNCHANGED:
            index.extend(range(start, start + width))
            sign.extend(_SIGNS.get(name, (1.0,) * width))
        else:
            raise AssertionError(f"core.mirror has no mirror image for observation part '{name}'")
        start += width
    assert len(index) == start, "a mirrored observation part has the wrong width"
    return np.array(index), np.array(sign)


OBS_INDEX, OBS_SIGN = _observation_map()
BODY_INDEX = np.array([BODIES.index(_other_side(name)) for name in BODIES])  # mirrored[i] = x[BODY_INDEX[i]]
assert NUM_ACTIONS == len(DOF_INDEX)  # an action is a residual per degree of freedom


def mirror_dofs(x: np.ndarray) -> np.ndarray:
    """(..., NUM_DOFS) joint angles, velocities or actions of the mirror image."""
    return x[..., DOF_INDEX] * DOF_SIGN


def mirror_observation(obs: np.ndarray) -> np.ndarray:
    """(..., OBS_DIM) observation of the mirror image."""
    return obs[..., OBS_INDEX] * OBS_SIGN


def mirror_body_vectors(v: np.ndarray) -> np.ndarray:
    """(..., len(BODIES), 3) world vectors, one per body (positions, offsets), of the mirror image."""
    return v[..., BODY_INDEX, :] * np.array(_Y)


def mirror_vector(v: np.ndarray) -> np.ndarray:
    """(..., 3) world position or velocity of the mirror image."""
    return v * np.array(_Y)


def mirror_quat(q: np.ndarray) -> np.ndarray:
    """(..., 4) orientation (w, x, y, z) of the mirror image."""
    return q * np.array((1.0, *_PSEUDO))


def mirror_angular_velocity(w: np.ndarray) -> np.ndarray:
    """(..., 3) angular velocity (world or body frame) of the mirror image."""
    return w * np.array(_PSEUDO)
