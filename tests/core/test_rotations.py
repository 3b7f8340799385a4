"""Round trips of every rotation conversion (property tests with hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from blender_backflip.core import rotations as rot

settings.register_profile("core", deadline=None, max_examples=150)
settings.load_profile("core")

finite = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, allow_infinity=False)


@st.composite
def unit_quats(draw: st.DrawFn) -> np.ndarray:
    q = np.array([draw(finite) for _ in range(4)])
    n = np.linalg.norm(q)
    if n < 1e-3:
        q, n = np.array([1.0, 0.0, 0.0, 0.0]), 1.0
    return q / n


angle = st.floats(min_value=-np.pi, max_value=np.pi, allow_nan=False)
# Keep the middle Euler angle off gimbal lock for exact angle round trips.
middle_angle = st.floats(min_value=-np.pi / 2 + 1e-3, max_value=np.pi / 2 - 1e-3, allow_nan=False)


def same_rotation(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    """q and -q are the same rotation."""
    return bool(np.allclose(a, b, atol=atol) or np.allclose(a, -b, atol=atol))


@given(unit_quats())
def test_quat_matrix_round_trip(q: np.ndarray) -> None:
    m = rot.quat_to_matrix(q)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(m) > 0.0
    back = rot.matrix_to_quat(m)
    assert back[0] >= 0.0
    assert same_rotation(back, q)
    np.testing.assert_allclose(rot.quat_to_matrix(back), m, atol=1e-12)


@given(unit_quats(), st.lists(finite, min_size=3, max_size=3))
def test_matrix_agrees_with_quat_rotate(q: np.ndarray, v: list[float]) -> None:
    np.testing.assert_allclose(rot.quat_to_matrix(q) @ np.array(v), rot.quat_rotate(q, np.array(v)), atol=1e-12)


@given(unit_quats())
def test_quat_rotvec_round_trip(q: np.ndarray) -> None:
    r = rot.quat_to_rotvec(q)
    assert np.linalg.norm(r) <= np.pi + 1e-12
    assert same_rotation(rot.quat_from_rotvec(r), q)


@given(unit_quats(), unit_quats())
def test_rotvec_from_to_turns_current_into_target(current: np.ndarray, target: np.ndarray) -> None:
    r = rot.rotvec_from_to(current, target)
    assert np.linalg.norm(r) <= np.pi + 1e-12  # the shorter way round (at exactly pi either way is right)
    assert same_rotation(rot.quat_multiply(rot.quat_from_rotvec(r), current), target, atol=1e-9)


@given(st.lists(st.floats(min_value=-3.1, max_value=3.1, allow_nan=False), min_size=3, max_size=3))
def test_rotvec_quat_round_trip(r: list[float]) -> None:
    r = np.array(r)
    if np.linalg.norm(r) >= np.pi - 1e-6:  # beyond pi the shorter way round is another vector
        r = r * (np.pi - 1e-3) / np.linalg.norm(r)
    np.testing.assert_allclose(rot.quat_to_rotvec(rot.quat_from_rotvec(r)), r, atol=1e-9)


@given(st.sampled_from(["yxz", "zyx"]), angle, middle_angle, angle)
def test_euler_quat_round_trip(order: str, a: float, b: float, c: float) -> None:
    q = rot.quat_from_euler(np.array([a, b, c]), order)
    np.testing.assert_allclose(np.linalg.norm(q), 1.0, atol=1e-12)
    back = rot.euler_from_quat(q, order)
    # Angles of +pi and -pi are the same angle.
    diff = (back - np.array([a, b, c]) + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(diff, 0.0, atol=1e-6)


@given(st.sampled_from(["yxz", "zyx", "xyz", "zxy"]), unit_quats())
def test_quat_euler_quat_round_trip(order: str, q: np.ndarray) -> None:
    """Any rotation, gimbal lock included, survives quat -> euler -> quat."""
    back = rot.quat_from_euler(rot.euler_from_quat(q, order), order)
    assert same_rotation(back, q, atol=1e-6)


@given(st.sampled_from(["yxz", "zyx", "xyz", "zxy"]), angle, st.sampled_from([-np.pi / 2, np.pi / 2]), angle)
def test_euler_at_gimbal_lock(order: str, a: float, b: float, c: float) -> None:
    """With the middle angle at +/-90 degrees only a combination of the others is defined: the rotation is kept."""
    q = rot.quat_from_euler(np.array([a, b, c]), order)
    back = rot.euler_from_quat(q, order)
    np.testing.assert_allclose(abs(back[1]), np.pi / 2, atol=1e-6)
    assert same_rotation(rot.quat_from_euler(back, order), q, atol=1e-6)


def test_euler_composes_body_fixed_hinges() -> None:
    """'yxz' means Ry(a0) Rx(a1) Rz(a2): the order of three MuJoCo hinges in one body."""
    a = np.array([0.3, -0.4, 1.1])
    m = rot.quat_to_matrix(rot.quat_from_euler(a, "yxz"))
    ry = rot.quat_to_matrix(rot.quat_from_axis_angle(np.array([0, 1, 0]), a[0]))
    rx = rot.quat_to_matrix(rot.quat_from_axis_angle(np.array([1, 0, 0]), a[1]))
    rz = rot.quat_to_matrix(rot.quat_from_axis_angle(np.array([0, 0, 1]), a[2]))
    np.testing.assert_allclose(m, ry @ rx @ rz, atol=1e-12)


@given(unit_quats(), unit_quats())
def test_slerp_endpoints_and_midpoint(a: np.ndarray, b: np.ndarray) -> None:
    assert same_rotation(rot.quat_slerp(a, b, 0.0), a)
    assert same_rotation(rot.quat_slerp(a, b, 1.0), b)
    mid = rot.quat_slerp(a, b, 0.5)
    whole = rot.quat_angle(rot.quat_multiply(b, rot.quat_conjugate(a)))
    half = rot.quat_angle(rot.quat_multiply(mid, rot.quat_conjugate(a)))
    np.testing.assert_allclose(half, whole / 2.0, atol=1e-6)


@given(angle, st.floats(min_value=-2 * np.pi, max_value=2 * np.pi, allow_nan=False))
def test_yaw_quat_of_a_pitched_body(yaw: float, pitch: float) -> None:
    """Heading comes from the sideways axis, so it is the same upright, mid-flip and upside down."""
    z, y = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    q = rot.quat_multiply(rot.quat_from_axis_angle(z, yaw), rot.quat_from_axis_angle(y, pitch))
    assert same_rotation(rot.yaw_quat(q), rot.quat_from_axis_angle(z, yaw), atol=1e-9)


@given(angle)
def test_yaw_quat_upside_down(yaw: float) -> None:
    z, y = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    upside_down = rot.quat_multiply(rot.quat_from_axis_angle(z, yaw), rot.quat_from_axis_angle(y, np.pi))
    assert rot.quat_rotate(upside_down, z)[2] < -0.999
    assert same_rotation(rot.yaw_quat(upside_down), rot.quat_from_axis_angle(z, yaw), atol=1e-9)


def test_conversions_broadcast_over_batches() -> None:
    rng = np.random.default_rng(0)
    q = rot.quat_normalize(rng.normal(size=(5, 7, 4)))
    q_pos = q * np.sign(q[..., :1])  # the conversions answer with w >= 0
    assert rot.quat_to_matrix(q).shape == (5, 7, 3, 3)
    np.testing.assert_allclose(rot.matrix_to_quat(rot.quat_to_matrix(q)), q_pos, atol=1e-12)
    np.testing.assert_allclose(rot.quat_from_rotvec(rot.quat_to_rotvec(q)), q_pos, atol=1e-9)
    back = rot.quat_from_euler(rot.euler_from_quat(q, "yxz"), "yxz")
    np.testing.assert_allclose(np.abs(np.sum(back * q, axis=-1)), 1.0, atol=1e-12)


def test_angular_velocity_of_a_constant_spin() -> None:
    dt, w = 0.01, np.array([0.0, -6.0, 0.0])
    t = np.arange(50) * dt
    q = rot.quat_from_rotvec(t[:, None] * w)
    np.testing.assert_allclose(rot.angular_velocity(q, dt), np.broadcast_to(w, (50, 3)), atol=1e-9)


# Blender rotation modes (used by the add-on's bake). Blender's Euler 'XYZ' is Rz @ Ry @ Rx (checked against
# mathutils in tests/blender/test_bake_blender.py as well).
def _rx(a: float) -> np.ndarray:
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def _ry(a: float) -> np.ndarray:
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def _rz(a: float) -> np.ndarray:
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def test_blender_euler_xyz_is_rz_ry_rx() -> None:
    q = rot.quat_from_blender_euler(np.array([0.3, 0.5, 0.7]), "XYZ")
    np.testing.assert_allclose(rot.quat_to_matrix(q), _rz(0.7) @ _ry(0.5) @ _rx(0.3), atol=1e-12)
    q = rot.quat_from_blender_euler(np.array([0.3, 0.5, 0.7]), "ZXY")
    np.testing.assert_allclose(rot.quat_to_matrix(q), _ry(0.5) @ _rx(0.3) @ _rz(0.7), atol=1e-12)


@given(st.sampled_from(rot.BLENDER_EULER_MODES), unit_quats())
def test_blender_euler_round_trip(mode: str, q: np.ndarray) -> None:
    back = rot.quat_from_blender_euler(rot.blender_euler_from_quat(q, mode), mode)
    assert same_rotation(back, q, atol=1e-7)


@given(st.sampled_from(rot.BLENDER_EULER_MODES), unit_quats(), unit_quats())
def test_euler_make_continuous_keeps_rotations(mode: str, a: np.ndarray, b: np.ndarray) -> None:
    qs = rot.quat_slerp(a, b, np.linspace(0.0, 1.0, 40))
    raw = rot.blender_euler_from_quat(qs, mode)
    smooth = rot.euler_make_continuous(raw, mode)
    for q, e in zip(qs, smooth):
        assert same_rotation(rot.quat_from_blender_euler(e, mode), q, atol=1e-6)


def test_euler_make_continuous_unwraps_a_full_turn() -> None:
    turn = np.linspace(0.0, -2.0 * np.pi, 121)
    qs = rot.quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), turn)
    smooth = rot.euler_make_continuous(rot.blender_euler_from_quat(qs, "XYZ"), "XYZ")
    assert np.max(np.abs(np.diff(smooth, axis=0))) < 0.1
    assert abs(smooth[-1, 0] - smooth[0, 0] + 2.0 * np.pi) < 1e-6


@given(unit_quats())
def test_axis_angle_layout(q: np.ndarray) -> None:
    aa = rot.quat_to_axis_angle_wxyz(q)
    assert same_rotation(rot.quat_from_axis_angle(aa[1:], aa[0]), q, atol=1e-9)


@given(st.lists(finite, min_size=3, max_size=3), st.lists(finite, min_size=3, max_size=3))
def test_shortest_arc(a: list[float], b: list[float]) -> None:
    a_, b_ = np.array(a), np.array(b)
    if np.linalg.norm(a_) < 1e-3 or np.linalg.norm(b_) < 1e-3:
        return
    q = rot.shortest_arc(a_, b_)
    np.testing.assert_allclose(rot.quat_rotate(q, a_ / np.linalg.norm(a_)), b_ / np.linalg.norm(b_), atol=1e-7)
    assert same_rotation(rot.shortest_arc(a_, -a_ * 2.0), rot.shortest_arc(a_, -a_), atol=1e-12)
    np.testing.assert_allclose(rot.quat_rotate(rot.shortest_arc(a_, -a_), a_), -a_, atol=1e-7)
