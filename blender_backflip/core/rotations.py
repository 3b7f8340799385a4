"""Every rotation conversion in the project lives here (quaternions are w, x, y, z).

Arrays broadcast over leading dimensions, so the trainer converts thousands of frames at once and the add-on
one bone at a time with the same code. The functions the observation and reward code call (normalize,
conjugate, multiply, rotate, rotation vector, angle, matrix) also take torch tensors (the GPU trainer); see xp.py.
"""

from __future__ import annotations

import numpy as np

from .xp import namespace

_EPS = 1e-12


def quat_normalize(q: np.ndarray) -> np.ndarray:
    xp = namespace(q)
    q = xp.as_float(q)
    return q / xp.maximum(xp.vector_norm(q, axis=-1, keepdims=True), _EPS)


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    xp = namespace(q)
    q = xp.asarray(q)
    return xp.concat([q[..., :1], -q[..., 1:]], axis=-1)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    xp = namespace(a, b)
    a = xp.as_float(a)
    b = xp.as_float(b)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return xp.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v by unit quaternions q."""
    xp = namespace(q, v)
    q = xp.as_float(q)
    v = xp.asarray(v, like=q) if xp.name == "torch" else xp.as_float(v)
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for 3-vectors (same arithmetic, so numpy results are bit for bit np.cross's), any namespace."""
    xp = namespace(a, b)
    if xp.name == "numpy":
        return np.cross(a, b)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return xp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def quat_from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), _EPS)
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def quat_to_rotvec(q: np.ndarray) -> np.ndarray:
    """Axis * angle (angle in [0, pi]) of unit quaternions; the shorter way round."""
    xp = namespace(q)
    q = quat_normalize(q)
    q = xp.where(q[..., :1] < 0.0, -q, q)
    s = xp.vector_norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * xp.atan2(s, q[..., :1])
    scale = xp.where(s > 1e-9, angle / xp.maximum(s, _EPS), 2.0)
    return q[..., 1:] * scale


def rotvec_from_to(current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """World-frame rotation vector turning one unit quaternion `current` into `target`: quat_to_rotvec(target *
    conjugate(current)), the shorter way round. Single quaternions only, in MuJoCo's C routines: for inner loops
    (inverse kinematics), where the broadcasting functions' per-call overhead dominates."""
    import mujoco  # here, not at the top: registering the add-on must not load MuJoCo

    inverse, difference, out = np.empty(4), np.empty(4), np.empty(3)
    mujoco.mju_negQuat(inverse, np.asarray(current, dtype=np.float64))
    mujoco.mju_mulQuat(difference, np.asarray(target, dtype=np.float64), inverse)
    mujoco.mju_normalize4(difference)
    mujoco.mju_quat2Vel(out, difference, 1.0)
    return out


def quat_from_rotvec(r: np.ndarray) -> np.ndarray:
    r = np.asarray(r, dtype=np.float64)
    angle = np.linalg.norm(r, axis=-1)
    half = 0.5 * angle
    k = np.where(angle > 1e-9, np.sin(half) / np.maximum(angle, _EPS), 0.5)
    return np.concatenate([np.cos(half)[..., None], r * k[..., None]], axis=-1)


def quat_angle(q: np.ndarray) -> np.ndarray:
    """Rotation angle in [0, pi] of unit quaternions."""
    return namespace(q).vector_norm(quat_to_rotvec(q), axis=-1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    xp = namespace(q)
    q = quat_normalize(q)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = xp.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(tuple(q.shape[:-1]) + (3, 3))


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternion (w >= 0) of rotation matrices, numerically safe for every angle."""
    m = np.asarray(m, dtype=np.float64)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    candidates = np.stack(
        [
            np.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], -1),
            np.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], -1),
            np.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], -1),
            np.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], -1),
        ],
        axis=-2,
    )
    pick = np.argmax(np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22,
                               1 - m00 - m11 + m22], -1), axis=-1)
    q = np.take_along_axis(candidates, pick[..., None, None], axis=-2)[..., 0, :]
    q = quat_normalize(q)
    return np.where(q[..., :1] < 0.0, -q, q)


_AXES = {"x": np.array([1.0, 0.0, 0.0]), "y": np.array([0.0, 1.0, 0.0]), "z": np.array([0.0, 0.0, 1.0])}


def quat_from_euler(angles: np.ndarray, order: str) -> np.ndarray:
    """Quaternion of successive rotations about body-fixed axes, e.g. order "yxz": Ry(a0) Rx(a1) Rz(a2).

    This is how a chain of three MuJoCo hinges in one body composes.
    """
    angles = np.asarray(angles, dtype=np.float64)
    q = quat_from_axis_angle(_AXES[order[0]], angles[..., 0])
    for i in (1, 2):
        q = quat_multiply(q, quat_from_axis_angle(_AXES[order[i]], angles[..., i]))
    return q


def euler_from_quat(q: np.ndarray, order: str) -> np.ndarray:
    """Inverse of quat_from_euler for any order of three distinct axes; middle angle in [-pi/2, pi/2]."""
    m = quat_to_matrix(q)
    i, j, k = ("xyz".index(c) for c in order)
    # Sign of the permutation (i, j, k) decides the signs in the closed form.
    sign = 1.0 if (j - i) % 3 == 1 else -1.0
    middle = np.arcsin(np.clip(sign * m[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * m[..., j, k], m[..., k, k])
    last = np.arctan2(-sign * m[..., i, j], m[..., i, i])
    # Gimbal lock (middle = +/-pi/2): only first + last (or first - last) is defined and the two atan2 above
    # read noise. Put the whole turn into the first angle and zero the last.
    locked = np.hypot(m[..., i, i], m[..., i, j]) < 1e-7
    if np.any(locked):
        first = np.where(locked, np.arctan2(sign * m[..., k, j], m[..., j, j]), first)
        last = np.where(locked, 0.0, last)
    return np.stack([first, middle, last], axis=-1)


def quat_slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    a = quat_normalize(a)
    b = quat_normalize(b)
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0.0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    wa = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / np.where(near, 1.0, sin_theta))
    wb = np.where(near, t, np.sin(t * theta) / np.where(near, 1.0, sin_theta))
    return quat_normalize(wa * a + wb * b)


def quat_make_continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 so that consecutive quaternions lie in the same hemisphere."""
    q = np.array(q, dtype=np.float64, copy=True)
    for i in range(1, len(q)):
        flip = np.sum(q[i] * q[i - 1], axis=-1) < 0.0
        q[i][flip] = -q[i][flip]
    return q


def angular_velocity(q: np.ndarray, dt: float) -> np.ndarray:
    """World-frame angular velocity between consecutive quaternions (central differences), shape like q[..., :3]."""
    q = quat_make_continuous(q)
    delta = quat_multiply(q[2:], quat_conjugate(q[:-2]))
    mid = quat_to_rotvec(delta) / (2.0 * dt)
    first = quat_to_rotvec(quat_multiply(q[1:2], quat_conjugate(q[:1]))) / dt
    last = quat_to_rotvec(quat_multiply(q[-1:], quat_conjugate(q[-2:-1]))) / dt
    return np.concatenate([first, mid, last], axis=0)


def yaw_quat(q: np.ndarray) -> np.ndarray:
    """Rotation about world Z only, taken from the body's sideways (Y) axis so it stays valid upside down."""
    side = quat_rotate(q, np.array([0.0, 1.0, 0.0]))
    yaw = np.arctan2(-side[..., 0], side[..., 1])
    return quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), yaw)


# Blender's rotation modes. Blender's Euler 'XYZ' rotates about world X first, then Y, then Z (extrinsic),
# so its matrix is Rz @ Ry @ Rx: the body-fixed order read backwards ("zyx") with the angles reversed.
BLENDER_EULER_MODES: tuple[str, ...] = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def quat_from_blender_euler(angles: np.ndarray, mode: str) -> np.ndarray:
    """Quaternion of Blender Euler angles (x, y, z angles as Blender stores them) in rotation mode `mode`."""
    angles = np.asarray(angles, dtype=np.float64)
    order = mode.lower()[::-1]
    return quat_from_euler(np.stack([angles[..., "xyz".index(c)] for c in order], axis=-1), order)


def blender_euler_from_quat(q: np.ndarray, mode: str) -> np.ndarray:
    """Blender Euler angles (x, y, z) of quaternions for rotation mode `mode` (e.g. 'XYZ')."""
    order = mode.lower()[::-1]
    body = euler_from_quat(q, order)
    out = np.empty_like(body)
    for i, c in enumerate(order):
        out[..., "xyz".index(c)] = body[..., i]
    return out


def euler_make_continuous(angles: np.ndarray, mode: str) -> np.ndarray:
    """Choose, frame by frame along axis 0, the Euler triple closest to the previous frame's (same rotation).

    Each frame has two triples for one rotation (the second: first and last angle + pi, middle pi - middle)
    and any multiple of 2 pi on each angle; keyframes interpolated across a +/-pi wrap would spin the wrong way.
    """
    angles = np.array(angles, dtype=np.float64, copy=True)
    order = mode.lower()[::-1]
    first, middle, last = ("xyz".index(c) for c in order)
    two_pi = 2.0 * np.pi
    for i in range(1, len(angles)):
        prev = angles[i - 1]
        a = angles[i]
        b = a.copy()
        b[..., first] += np.pi
        b[..., middle] = np.pi - b[..., middle]
        b[..., last] += np.pi
        best = []
        for cand in (a, b):
            cand = cand + two_pi * np.round((prev - cand) / two_pi)
            best.append(cand)
        da = np.sum(np.abs(best[0] - prev), axis=-1, keepdims=True)
        db = np.sum(np.abs(best[1] - prev), axis=-1, keepdims=True)
        angles[i] = np.where(db < da, best[1], best[0])
    return angles


def quat_to_axis_angle_wxyz(q: np.ndarray) -> np.ndarray:
    """Blender's AXIS_ANGLE mode layout (angle, x, y, z) of unit quaternions."""
    q = quat_normalize(q)
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    axis = np.where(s > 1e-9, q[..., 1:] / np.maximum(s, _EPS), np.array([0.0, 1.0, 0.0]))
    return np.concatenate([angle, axis], axis=-1)


def shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation that turns direction a onto direction b (quaternion)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    d = np.sum(a * b, axis=-1, keepdims=True)
    c = np.cross(a, b)
    # Opposite directions: turn half way round about any axis perpendicular to a.
    helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    perp = np.cross(a, helper)
    perp = perp / np.maximum(np.linalg.norm(perp, axis=-1, keepdims=True), _EPS)
    # Exactly opposite (no axis from the cross product): any perpendicular axis. Nearly opposite directions
    # keep their cross product as the axis (1 + d is tiny but the normalization below stays accurate).
    opposite = (d < 0.0) & (np.linalg.norm(c, axis=-1, keepdims=True) < 1e-12)
    q = np.where(opposite, np.concatenate([np.zeros_like(d), perp], axis=-1), np.concatenate([1.0 + d, c], axis=-1))
    return quat_normalize(q)
