"""Each reward term against a value computed by hand."""

import math

import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from policy import rewards


def test_pose_reward_hand_value():
    dof = np.zeros((1, 28))
    ref = np.zeros((1, 28))
    ref[0, 0], ref[0, 5] = 0.1, -0.2  # squared error 0.01 + 0.04 = 0.05
    assert math.isclose(rewards.pose_reward(dof, ref)[0], math.exp(-2.0 * 0.05), rel_tol=1e-12)


def test_velocity_reward_hand_value():
    vel = np.full((1, 28), 1.0)
    ref = np.zeros((1, 28))  # squared error 28
    assert math.isclose(rewards.velocity_reward(vel, ref)[0], math.exp(-0.1 * 28), rel_tol=1e-12)


def test_end_effector_reward_hand_value():
    ee = np.zeros((1, 4, 3))
    ref = np.zeros((1, 4, 3))
    ref[0, 2] = [0.03, 0.04, 0.0]  # 5 cm off: squared 0.0025
    assert math.isclose(rewards.end_effector_reward(ee, ref)[0], math.exp(-40.0 * 0.0025), rel_tol=1e-12)


def test_root_reward_hand_value():
    q = rot.quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.array([0.3]))
    ref_q = np.array([[1.0, 0.0, 0.0, 0.0]])
    pos, ref_pos = np.array([[0.1, 0.0, 0.9]]), np.array([[0.0, 0.0, 0.9]])
    expected = math.exp(-5.0 * (0.01 + 0.1 * 0.3**2))
    assert math.isclose(rewards.root_reward(pos, ref_pos, q, ref_q)[0], expected, rel_tol=1e-9)


def test_com_reward_hand_value():
    v, ref = np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, 0.0, 0.5]])
    assert math.isclose(rewards.com_reward(v, ref)[0], math.exp(-10.0 * 0.25), rel_tol=1e-12)


def test_body_position_reward_hand_value():
    pos = np.zeros((1, 2, 3))
    ref = np.zeros((1, 2, 3))
    ref[0, 1] = [0.0, 0.06, 0.08]  # one of two bodies 10 cm off: mean squared distance 0.005
    assert math.isclose(rewards.body_position_reward(pos, ref)[0], math.exp(-100.0 * 0.005), rel_tol=1e-12)


def test_total_reward_is_weighted_sum_and_perfect_tracking_scores_one():
    terms = {name: np.array([1.0]) for name in rewards.TERMS}
    assert math.isclose(rewards.total_reward(terms)[0], 1.0, rel_tol=1e-12)
    terms["pose"] = np.array([0.5])
    assert math.isclose(rewards.total_reward(terms)[0], 1.0 - 0.5 * rewards.WEIGHTS["pose"], rel_tol=1e-12)
    assert math.isclose(rewards.total_reward(terms, rewards.WEIGHTS_UNTIL_FLIP10)[0], 1.0 - 0.5 * 0.4, rel_tol=1e-12)


def test_every_weight_set_sums_to_one_over_known_terms():
    for weights in (rewards.WEIGHTS, rewards.WEIGHTS_UNTIL_FLIP10):
        rewards.check_weights(weights)
        assert set(weights) <= set(rewards.TERMS) and math.isclose(sum(weights.values()), 1.0, rel_tol=1e-12)


def test_a_weight_set_with_an_unknown_term_or_the_wrong_sum_is_refused():
    with pytest.raises(ValueError, match=r"unknown terms \['feet'\]"):
        rewards.check_weights({**rewards.WEIGHTS, "feet": 0.0})
    with pytest.raises(ValueError, match="not 1"):
        rewards.check_weights({**rewards.WEIGHTS, "pose": rewards.WEIGHTS["pose"] + 0.1})
