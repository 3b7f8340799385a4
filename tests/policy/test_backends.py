"""The two stepping backends agree: MuJoCo's CPU batch (numpy, float64) and MuJoCo Warp (torch, float32).

The same states (the canonical body and a proportion variant, standing with its feet on the floor and in the
air mid-flip) are placed in both backends through the environment's own reset path; the observations, reward
terms and terminations computed from them, and after two control steps with the same actions, must agree.

Tolerance: Warp simulates in float32, so positions carry relative rounding of about 1e-7 and every substep
adds some; measured over three control steps (24 substeps, with foot contacts), observations differ by at
most 2e-5 and rewards by under 5e-6 relative. The checks allow 1e-3 (rewards, relative) and 1e-3 + 1e-3
relative (observations): fifty times the float32 drift or more, while a wrong body, a missing contact or a
frame out of step changes rewards by 1e-2 or more (a world left on the canonical body fails them).

Runs wherever MuJoCo Warp imports (its CPU device here, slowly), and also on CUDA when a GPU is present.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mujoco_warp", reason="MuJoCo Warp is not installed (pip install -e '.[gpu]')")

from blender_backflip.core.errors import BackflipError  # noqa: E402
from blender_backflip.core.motion import load_deepmimic  # noqa: E402
from policy.bodies import canonical_variant, random_variant  # noqa: E402
from policy.env import EnvConfig, ImitationEnv  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
WORLDS = 5
VARIANT = np.array([0, 1, 0, 1, 1])  # canonical body, proportion variant
FRAME = np.array([0, 0, 15, 24, 100])  # standing on the floor (twice), take-off, mid-flip, holding the end pose


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(11)
    variant = random_variant(rng)
    assert not np.allclose(variant.proportions.scale_factors(), 1.0)
    return [canonical_variant(rng), variant]


@pytest.fixture(scope="module")
def motion(clip_path: Path):
    return load_deepmimic(clip_path)


@pytest.fixture(scope="module")
def cpu_env(motion, pool) -> ImitationEnv:
    return ImitationEnv(motion, EnvConfig(num_envs=WORLDS, num_variants=2, nthread=1), seed=0, variants=pool)


def _states(env: ImitationEnv) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    qpos = env.ref_qpos[VARIANT, FRAME].copy()
    qpos[:, env.dof_qpos] += rng.uniform(-0.05, 0.05, (WORLDS, env.num_actions))
    return qpos, env.ref_qvel[VARIANT, FRAME].copy()


def _place_both(cpu_env: ImitationEnv, warp_env: ImitationEnv) -> None:
    qpos, qvel = _states(cpu_env)
    cpu_env.place(np.arange(WORLDS), VARIANT, FRAME, qpos, qvel)
    dev = warp_env.device
    warp_env.place(torch.arange(WORLDS, device=dev), torch.as_tensor(VARIANT, device=dev),
                   torch.as_tensor(FRAME, device=dev), torch.as_tensor(qpos, device=dev).float(),
                   torch.as_tensor(qvel, device=dev).float())


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float64)


@pytest.mark.parametrize("device", DEVICES)
def test_same_states_give_the_same_observations_and_rewards(device: str, motion, pool, cpu_env: ImitationEnv):
    warp_env = ImitationEnv(motion, EnvConfig(num_envs=WORLDS, num_variants=2), seed=0, variants=pool,
                            backend="warp", device=device)
    assert isinstance(warp_env.observations(), torch.Tensor) and warp_env.observations().device.type == device
    _place_both(cpu_env, warp_env)

    # Identical states: observations and reward terms differ only by float32 rounding.
    np.testing.assert_allclose(_numpy(warp_env.observations()), cpu_env.observations(), atol=1e-5)
    privileged = warp_env.privileged_observations()
    assert privileged.device.type == device and privileged.dtype == torch.float32
    np.testing.assert_allclose(_numpy(privileged), cpu_env.privileged_observations(), atol=1e-5)
    lowest = cpu_env.probe.lowest(cpu_env.backend.geom_xpos, cpu_env.backend.geom_xmat)
    assert np.all(lowest[:2][:, cpu_env.probe.is_foot].min(axis=1) < 0.01)  # the standing worlds touch down
    terms_cpu, reward_cpu, term_cpu, error_cpu = cpu_env.rewards_and_termination()
    terms_gpu, reward_gpu, term_gpu, error_gpu = warp_env.rewards_and_termination()
    for name in terms_cpu:
        np.testing.assert_allclose(_numpy(terms_gpu[name]), terms_cpu[name], rtol=1e-4, err_msg=name)
    np.testing.assert_allclose(_numpy(error_gpu), error_cpu, atol=1e-5)
    np.testing.assert_array_equal(_numpy(term_gpu), term_cpu)
    # rewards_and_termination() moved com_prev on: place again before stepping.
    _place_both(cpu_env, warp_env)

    # Two control steps (16 physics substeps, foot contacts included) with the same actions.
    actions = np.random.default_rng(6).normal(scale=0.5, size=(WORLDS, cpu_env.num_actions))
    for _ in range(2):
        obs_cpu, reward_cpu, term_cpu, timeout_cpu, _ = cpu_env.step(actions)
        obs_gpu, reward_gpu, term_gpu, timeout_gpu, _ = warp_env.step(torch.as_tensor(actions, device=device).float())
        assert not term_cpu.any() and not timeout_cpu.any()  # no world was reset: the comparison is of physics
        np.testing.assert_array_equal(_numpy(term_gpu), term_cpu)
        np.testing.assert_array_equal(_numpy(timeout_gpu), timeout_cpu)
        np.testing.assert_allclose(_numpy(reward_gpu), reward_cpu, rtol=1e-3)
        np.testing.assert_allclose(_numpy(obs_gpu), obs_cpu, rtol=1e-3, atol=1e-3)
    assert np.all(reward_cpu > 0.1)
    # The two bodies really differ: the variant world is not simulating the canonical body.
    assert np.abs(obs_cpu[1, -5:]).max() > 0.02 and np.abs(obs_cpu[0, -5:]).max() == 0.0


def test_warp_worlds_carry_their_own_bodies(motion, pool, cpu_env: ImitationEnv):
    """Each world's model fields are those of its pool body, on the device, for the fields variants change."""
    import mujoco_warp as mjw
    import warp as wp

    from policy.backends.warp_gpu import VARIANT_FIELDS

    env = ImitationEnv(motion, EnvConfig(num_envs=WORLDS, num_variants=2), seed=0, variants=pool, backend="warp")
    env.place(torch.arange(WORLDS), torch.as_tensor(VARIANT), torch.as_tensor(FRAME),
              *(torch.as_tensor(x).float() for x in _states(cpu_env)))
    with wp.ScopedDevice("cpu"):
        expected = [mjw.put_model(m) for m in env.variant_models]
    changed = 0
    for name in VARIANT_FIELDS:
        per_world = _numpy(env.backend._fields[name])
        for world, v in enumerate(VARIANT):
            np.testing.assert_array_equal(per_world[world], _numpy(wp.to_torch(getattr(expected[v], name)))[0],
                                          err_msg=f"{name} of world {world}")
        changed += not np.array_equal(per_world[0], per_world[1])
    assert changed >= 10  # frames, masses, inertias, geom sizes, gains, friction...


def test_warp_refuses_a_variant_that_changes_a_shared_field(motion, pool):
    env = ImitationEnv(motion, EnvConfig(num_envs=2, num_variants=2), seed=0, variants=pool, backend="warp")
    odd = copy.deepcopy(env.variant_models[0])
    odd.jnt_range[3] *= 0.5
    with pytest.raises(BackflipError, match="jnt_range"):
        env.backend.set_pool([env.variant_models[0], odd])


def test_trainer_runs_on_the_warp_backend(tmp_path: Path, clip_path: Path):
    """--backend warp on the CPU: the trainer's loop takes torch observations and rewards straight from Warp."""
    from policy.train import Trainer
    from tests.policy.conftest import tiny_config

    cfg = tiny_config()
    cfg.env.num_envs, cfg.ppo.num_steps_per_env = 4, 4
    trainer = Trainer(cfg, clip_path, tmp_path, "cpu", backend="warp")
    row = trainer.iterate()
    assert row["samples"] == 16 and np.isfinite(row["value_loss"]) and np.isfinite(row["mean_reward"])
    assert trainer.obs["policy"].shape == (4, trainer.env.num_obs)
