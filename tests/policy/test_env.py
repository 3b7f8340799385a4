"""Episode rules of the imitation task: where episodes start and what ends them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blender_backflip.core import rates
from blender_backflip.core.motion import load_deepmimic
from policy.bodies import canonical_variant
from policy.env import ADAPTIVE_SCALE_BOUNDS, ADAPTIVE_SCALE_RATE, EnvConfig, ImitationEnv


@pytest.fixture(scope="module")
def env(clip_path: Path) -> ImitationEnv:
    variants = [canonical_variant(np.random.default_rng(0))]
    # no foot-depth end and a fixed kernel: the tests that check those switch them on themselves
    cfg = EnvConfig(num_envs=3, num_variants=1, nthread=1, max_foot_depth=None, adaptive_body_position_scale=False)
    return ImitationEnv(load_deepmimic(clip_path), cfg, seed=0, variants=variants)


def _standing(env: ImitationEnv, sink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    qpos = env.ref_qpos[np.zeros(3, dtype=int), 0].copy()
    qpos[:, 2] -= sink
    return qpos, env.ref_qvel[np.zeros(3, dtype=int), 0].copy()


def test_a_start_below_the_floor_is_lifted_onto_it(env: ImitationEnv) -> None:
    ids = np.arange(3)
    env.place(ids, np.zeros(3, dtype=int), np.zeros(3, dtype=int), *_standing(env, np.array([0.0, 0.01, 0.05])))
    lowest = env.probe.lowest(env.backend.geom_xpos, env.backend.geom_xmat).min(axis=-1)
    np.testing.assert_allclose(lowest, 0.0, atol=1e-9)  # the reference stands on the floor; sunk starts come up


def test_a_foot_sunk_past_the_limit_ends_the_episode(env: ImitationEnv) -> None:
    ids = np.arange(3)
    depth = 0.018
    env.cfg.max_foot_depth = depth
    env.place(ids, np.zeros(3, dtype=int), np.zeros(3, dtype=int), *_standing(env, np.zeros(3)))
    env.backend.reset(ids, *_standing(env, np.array([0.0, depth - 0.005, depth + 0.005])))  # bypasses the lift
    try:
        _, _, terminated, _ = env.rewards_and_termination()
        assert terminated.tolist() == [False, False, True]
        env.cfg.max_foot_depth = None  # no limit: no such end
        _, _, terminated, _ = env.rewards_and_termination()
        assert terminated.tolist() == [False, False, False]
    finally:
        env.cfg.max_foot_depth = None


def test_a_foot_that_sank_during_the_step_ends_the_episode_though_it_came_back_up(env: ImitationEnv) -> None:
    ids = np.arange(3)
    env.place(ids, np.zeros(3, dtype=int), np.zeros(3, dtype=int), *_standing(env, np.zeros(3)))
    env.cfg.max_foot_depth = 0.018
    try:
        _, _, terminated, _ = env.rewards_and_termination(deepest_foot=np.array([0.0, 0.017, 0.019]))
        assert terminated.tolist() == [False, False, True]  # the current state stands clear in all three
    finally:
        env.cfg.max_foot_depth = None


def test_with_a_foot_depth_limit_the_step_checks_feet_at_the_record_rate(env: ImitationEnv,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit sees the evaluator's samples of a landing, not only the control rate's."""
    ids = np.arange(3)
    env.place(ids, np.zeros(3, dtype=int), np.zeros(3, dtype=int), *_standing(env, np.zeros(3)))
    env.backend.reset(ids, *_standing(env, np.full(3, 0.015)))  # sunk (bypassing the lift): the floor pushes back
    backend_step, calls, depths = env.backend.step, [], []

    def step(nstep: int) -> None:
        backend_step(nstep)
        calls.append(nstep)
        depths.append(env.probe.foot_penetration(env.probe.lowest(env.backend.geom_xpos, env.backend.geom_xmat)))

    monkeypatch.setattr(env.backend, "step", step)
    monkeypatch.setattr(env.cfg, "max_foot_depth", 0.018)
    deepest = env._advance_physics()
    assert calls == [rates.PHYSICS_HZ // rates.RECORD_HZ] * (rates.RECORD_HZ // rates.CONTROL_HZ)
    np.testing.assert_array_equal(deepest, np.max(depths, axis=0))
    assert np.all(deepest > depths[-1])  # deeper early in the step than at its end: the end alone would miss it
    calls.clear()
    monkeypatch.setattr(env.cfg, "max_foot_depth", None)
    assert env._advance_physics() is None and calls == [rates.SUBSTEPS]  # no limit: one call, nothing checked


def test_after_the_clip_the_final_pose_is_held_where_the_character_landed(env: ImitationEnv) -> None:
    """30 cm off the clip's spot as the clip ends: in the hold that costs nothing, moving on from there does."""
    ids, canonical = np.arange(3), np.zeros(3, dtype=int)
    last = np.full(3, env.clip_frames - 1)
    qpos = env.ref_qpos[canonical, last].copy()
    qpos[1:, 0] += 0.3
    env.place(ids, canonical, last, qpos, np.zeros_like(env.ref_qvel[canonical, last]))
    terms, _, _, _ = env.rewards_and_termination()  # still in the clip: the spot counts
    assert terms["body_position"][1] < 0.01 and terms["root"][1] < terms["root"][0]
    env.step(np.zeros((3, env.num_actions)))  # the hold begins; physics on a flat floor ignores the offset
    assert env.frame.tolist() == [env.clip_frames] * 3
    terms, _, _, body_error = env.rewards_and_termination()
    for name in ("body_position", "root"):
        assert terms[name][1] == pytest.approx(terms[name][0], abs=1e-6)
    assert body_error[1].max() == pytest.approx(body_error[0].max(), abs=1e-6)
    env.step(np.zeros((3, env.num_actions)))
    env.backend.qpos[2, 0] += 0.1  # then moving 10 cm on from the landing spot counts again
    env.backend.reset(ids, np.array(env.backend.qpos), np.array(env.backend.qvel))
    terms, _, _, _ = env.rewards_and_termination()
    assert terms["body_position"][2] < 0.5 * terms["body_position"][1]


def test_a_weight_set_with_a_misspelt_term_fails_before_anything_is_built(clip_path: Path) -> None:
    weights = {**EnvConfig().reward_weights}
    weights["body_positions"] = weights.pop("body_position")
    with pytest.raises(ValueError, match=r"unknown terms \['body_positions'\]"):
        ImitationEnv(load_deepmimic(clip_path), EnvConfig(num_envs=1, num_variants=1, nthread=1,
                                                          reward_weights=weights))


def test_a_refresh_replaces_random_bodies_no_world_uses(clip_path: Path) -> None:
    cfg = EnvConfig(num_envs=3, num_variants=4, canonical_fraction=0.25, variants_refreshed_per_reset_round=2,
                    nthread=1)
    env = ImitationEnv(load_deepmimic(clip_path), cfg, seed=0)
    start = np.zeros(3, dtype=int)
    env.place(np.arange(3), np.array([0, 1, 1]), start, env.ref_qpos[[0, 1, 1], 0].copy(),
              env.ref_qvel[[0, 1, 1], 0].copy())
    before = list(env.variants)
    env.refresh_variants()
    assert env.variants[0] is before[0] and env.variants[1] is before[1]  # canonical, and in use
    assert env.variants[2] is not before[2] and env.variants[3] is not before[3]
    for i in (2, 3):  # the references follow the new bodies
        np.testing.assert_array_equal(env.ref_body_pos[i], env.tracks[i].body_pos)
        assert env.tracks[i] is not None and env.variant_params[i].tolist() == list(
            env.variants[i].proportions.scale_factors())


def test_the_default_pool_leaves_bodies_free_to_refresh() -> None:
    # refresh_variants replaces only bodies no world uses; each world draws its body uniformly from the pool.
    cfg = EnvConfig()
    random_bodies = cfg.num_variants - round(cfg.canonical_fraction * cfg.num_variants)
    free = random_bodies * (1 - 1 / cfg.num_variants) ** cfg.num_envs
    assert free >= 2 * cfg.variants_refreshed_per_reset_round, (
        f"with {cfg.num_envs} worlds on {cfg.num_variants} bodies only {free:.2f} are free per refresh round")


def _body_error(env: ImitationEnv, mean_squared: list[float]) -> np.ndarray:
    """Per-body distances (3, bodies) whose mean square in each world is `mean_squared`: every body equally off."""
    return np.sqrt(np.array(mean_squared))[:, None] * np.ones((1, len(env.body_ids)))


def test_the_adaptive_body_kernel_moves_toward_one_over_the_running_squared_distance(env: ImitationEnv) -> None:
    ids = np.arange(3)
    env.place(ids, np.zeros(3, dtype=int), np.zeros(3, dtype=int), *_standing(env, np.zeros(3)))
    env.cfg.adaptive_body_position_scale = True
    try:
        env.body_position_scale = np.array(300.0)
        error = _body_error(env, [0.01, 0.03, 5.0])  # the third world has just fallen
        env._adapt_body_position_scale(error, np.array([False, False, True]))
        expected = 1.0 / (1 / 300 + ADAPTIVE_SCALE_RATE * (0.02 - 1 / 300))  # the fallen world is left out
        assert float(env.body_position_scale) == pytest.approx(expected)
        for _ in range(5000):  # held there, it settles at 1 / 0.02
            env._adapt_body_position_scale(error, np.array([False, False, True]))
        assert float(env.body_position_scale) == pytest.approx(1 / 0.02, rel=1e-3)
        error = _body_error(env, [1.0, 1.0, 1.0])
        for _ in range(5000):
            env._adapt_body_position_scale(error, np.array([False, False, False]))
        assert float(env.body_position_scale) == pytest.approx(ADAPTIVE_SCALE_BOUNDS[0])
        error = _body_error(env, [0.0, 0.0, 0.0])  # a perfect follower: sharpest bound, no division by zero
        for _ in range(5000):
            env._adapt_body_position_scale(error, np.array([False, False, False]))
        assert float(env.body_position_scale) == pytest.approx(ADAPTIVE_SCALE_BOUNDS[1])
    finally:
        env.cfg.adaptive_body_position_scale = False
        env.body_position_scale = np.array(env.cfg.body_position_scale)


def test_without_the_adaptive_kernel_a_step_keeps_the_configured_sharpness(env: ImitationEnv) -> None:
    env.step(np.zeros((3, env.num_actions)))
    assert float(env.body_position_scale) == env.cfg.body_position_scale == 300.0
