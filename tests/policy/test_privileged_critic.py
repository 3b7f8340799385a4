"""The critic's privileged observation (each body's offset from its reference), its mirror image, and the run
flags that shape the task's body pool and its tracking termination."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tensordict import TensorDict

from blender_backflip.core.mirror import mirror_body_vectors
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.observation import OBS_DIM
from blender_backflip.core.skeleton import BODIES
from policy import export, mirror_augmentation, train
from policy.config import TrainConfig
from policy.env import EnvConfig, ImitationEnv
from tests.policy.conftest import tiny_cli_run


def test_privileged_observation_is_each_bodys_offset_from_its_reference(clip_path: Path):
    env = ImitationEnv(load_deepmimic(clip_path), EnvConfig(num_envs=6, num_variants=3, nthread=1), seed=2)
    for _ in range(3):
        env.step(np.zeros((env.num_envs, env.num_actions)))
    offsets = env.privileged_observations()
    assert offsets.shape == (6, 3 * len(BODIES)) and offsets.dtype == np.float32
    body_pos = env.backend.xpos[:, env.body_ids]
    during_clip = env.frame < env.clip_frames
    assert during_clip.any()
    expected = body_pos - env.ref_body_pos[env.variant, env.frame]
    np.testing.assert_allclose(offsets[during_clip], expected[during_clip].reshape(-1, 45), atol=1e-6)
    # with no body moved off its reference, the offsets vanish
    env.place(np.arange(6), env.variant, np.full(6, 3), env.ref_qpos[env.variant, 3], env.ref_qvel[env.variant, 3])
    assert np.abs(env.privileged_observations()).max() < 0.05  # only the lift that clears the floor


def test_privileged_observation_follows_the_landing_spot_in_the_hold(clip_path: Path):
    env = ImitationEnv(load_deepmimic(clip_path), EnvConfig(num_envs=2, num_variants=1, nthread=1), seed=0)
    frame = env.clip_frames + 5
    env.place(np.arange(2), np.zeros(2, int), np.full(2, frame), env.ref_qpos[[0, 0], frame],
              env.ref_qvel[[0, 0], frame])
    env.hold_shift[:] = [[0.3, -0.1], [0.0, 0.0]]  # the first one landed 30 cm on and 10 cm to the right
    offsets = env.privileged_observations().reshape(2, -1, 3)
    np.testing.assert_allclose(offsets[0] - offsets[1], np.tile([-0.3, 0.1, 0.0], (len(BODIES), 1)), atol=1e-6)


def test_mirror_augmentation_mirrors_the_privileged_offsets():
    rng = np.random.default_rng(1)
    policy, offsets = rng.normal(size=(4, OBS_DIM)), rng.normal(size=(4, len(BODIES), 3))
    td = TensorDict({"policy": torch.as_tensor(policy, dtype=torch.float32),
                     "privileged": torch.as_tensor(offsets.reshape(4, -1), dtype=torch.float32)}, batch_size=[4])
    both, _ = mirror_augmentation.augment(None, td, None)
    assert both.batch_size == torch.Size([8])
    mirrored = both["privileged"][4:].numpy().reshape(4, -1, 3)
    np.testing.assert_allclose(mirrored, mirror_body_vectors(offsets), atol=1e-6)
    left_hand, right_hand = BODIES.index("left_hand"), BODIES.index("right_hand")
    np.testing.assert_allclose(mirrored[:, right_hand], offsets[:, left_hand] * [1, -1, 1], atol=1e-6)


def test_a_privileged_critic_run_exports_the_same_policy_interface(tmp_path: Path, clip_path: Path):
    run = tmp_path / "privileged"
    state = tiny_cli_run(run, clip_path, "--privileged-critic")
    assert state["config"]["ppo"]["privileged_critic"] is True
    assert state["critic_state_dict"]["mlp.0.weight"].shape[1] == OBS_DIM + 3 * len(BODIES)
    assert state["actor_state_dict"]["mlp.0.weight"].shape[1] == OBS_DIM
    exported = export.policy_from_checkpoint(state, clip_path)
    assert exported.weights[0].shape[1] == OBS_DIM and exported.obs_mean.shape == (OBS_DIM,)

    # a plain run started from it keeps its actor and learns a critic of its own inputs
    plain = tmp_path / "plain"
    child = tiny_cli_run(plain, clip_path, "--no-privileged-critic", "--init-from", str(run / "checkpoint.pt"))
    assert child["config"]["ppo"]["privileged_critic"] is False
    assert child["critic_state_dict"]["mlp.0.weight"].shape[1] == OBS_DIM
    assert old_checkpoint_config_has_no_privileged_critic(state["config"])


def old_checkpoint_config_has_no_privileged_critic(config: dict) -> bool:
    d = {**config, "ppo": {k: v for k, v in config["ppo"].items() if k != "privileged_critic"}}
    return TrainConfig.from_dict(d).ppo.privileged_critic is False


def test_body_pool_and_tracking_termination_flags(tmp_path: Path, clip_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    run = tmp_path / "canonical"
    config = tiny_cli_run(run, clip_path, "--canonical-fraction", "1", "--max-body-error", "0.4",
                          "--start-from-standing", "1")["config"]
    env = config["env"]
    assert (env["canonical_fraction"], env["max_body_error"], env["start_from_standing"]) == (1.0, 0.4, 1.0)
    trainer = train.Trainer(TrainConfig.from_dict(config), clip_path, run)
    started = []
    for _ in range(4):  # every episode begins standing: the first ones and those after each that ended
        trainer.iterate()
        started.append(int(trainer.env.start_frame.max()))
    assert started == [0, 0, 0, 0] and trainer.lengths
    for flag, value, message in [("--canonical-fraction", "1.5", "--canonical-fraction is a share of the body pool"),
                                 ("--max-body-error", "0", "--max-body-error is a distance in metres above 0"),
                                 ("--start-from-standing", "-0.1", "--start-from-standing is a share of episodes")]:
        bad = tmp_path / f"bad{flag}"
        assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", flag, value]) == 2
        assert message in capsys.readouterr().err and not bad.exists()
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--resume", "--privileged-critic",
                       "--canonical-fraction", "1"]) == 2
    err = capsys.readouterr().err
    assert "--privileged-critic" in err and "--canonical-fraction" in err
