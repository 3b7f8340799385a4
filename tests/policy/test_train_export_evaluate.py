"""Smoke training, checkpoint round trip, export, the numpy/torch runtime, evaluation and bad input."""

from __future__ import annotations

import copy

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from tensordict import TensorDict

from blender_backflip.core.controller import Controller
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.mirror import mirror_dofs, mirror_observation
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.policy_file import load_policy, save_policy
from blender_backflip.core.observation import NUM_ACTIONS, OBS_DIM
from policy import evaluate, export, mirror_augmentation, rewards, tracking_report, train
from policy.config import PPOConfig, TrainConfig
from policy.run_folder import CSV_FIELDS
from tests.policy.conftest import tiny_cli_run, tiny_config


def test_smoke_training_is_finite_and_writes_its_outputs(tiny_run: Path):
    rows = list(csv.DictReader(open(tiny_run / "log.csv")))
    assert len(rows) == 2
    for row in rows:
        assert np.isfinite(float(row["value_loss"])) and np.isfinite(float(row["surrogate_loss"]))
        assert float(row["samples_per_s"]) > 0
    assert (tiny_run / "learning_curve.png").stat().st_size > 1000
    assert any((tiny_run / "tensorboard").iterdir())


def test_checkpoint_round_trip(tiny_run: Path, clip_path: Path):
    state = train.load_checkpoint(tiny_run / "checkpoint.pt")
    assert state["iteration"] == 2 and state["samples"] == 2 * 8 * 8
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, tiny_run)
    trainer.load(tiny_run / "checkpoint.pt")
    for key, value in state["actor_state_dict"].items():
        assert torch.equal(trainer.alg.actor.state_dict()[key], value), key
    obs = trainer.env.observations()
    assert obs.shape == (8, trainer.env.num_obs) and np.all(np.isfinite(obs))


def test_adam_is_stepped_fused_with_the_same_arithmetic_and_stays_fused_after_an_older_checkpoint(
        tiny_run: Path, clip_path: Path, tmp_path: Path):
    torch.manual_seed(0)
    nets = [torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)]
    nets[1].load_state_dict(nets[0].state_dict())
    initial = [p.detach().clone() for p in nets[0].parameters()]
    plain = torch.optim.Adam(nets[0].parameters(), lr=1e-2)
    fused = train.fused_adam(torch.optim.Adam(nets[1].parameters(), lr=1e-2))
    x = torch.randn(16, 5)
    for optimizer, net in ((plain, nets[0]), (fused, nets[1])):
        for _ in range(5):
            optimizer.zero_grad()
            net(x).pow(2).sum().backward()
            optimizer.step()
    assert fused.param_groups[0]["fused"] is True and fused.param_groups[0]["lr"] == 1e-2
    for a, b, start in zip(nets[0].parameters(), nets[1].parameters(), initial):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
        assert (a - start).abs().max() > 1e-3  # both moved, the same way
    # A checkpoint saved by an unfused Adam (every run before stop 30) replaces the optimizer's settings on load:
    # the trainer fuses it again, keeping the moments it loaded.
    state = train.load_checkpoint(tiny_run / "checkpoint.pt")
    for group in state["optimizer_state_dict"]["param_groups"]:
        group["fused"], group["foreach"] = None, None
    older = tmp_path / "older.pt"
    train.save_checkpoint(state, older)
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, tmp_path)
    trainer.load(older)
    optimizer = trainer.alg.optimizer
    assert all(group["fused"] is True for group in optimizer.param_groups)
    saved = state["optimizer_state_dict"]["state"]
    loaded = optimizer.state_dict()["state"]
    assert saved.keys() == loaded.keys() and len(saved) > 0
    for key in saved:
        torch.testing.assert_close(loaded[key]["exp_avg_sq"], saved[key]["exp_avg_sq"])
    trainer.iterate()  # and it trains


def test_resume_continues_the_count(tmp_path: Path, tiny_run: Path, clip_path: Path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    with open(run / "log.csv", "a") as handle:  # a row logged after the last checkpoint, then a crash
        handle.write(",".join(["3"] + ["0"] * (len(CSV_FIELDS) - 1)) + "\n")
    train.train(TrainConfig(), run, clip_path, "cpu", resume=True, minutes=None, iterations=1, quiet=True)
    assert train.load_checkpoint(run / "checkpoint.pt")["iteration"] == 3
    assert [r["iteration"] for r in csv.DictReader(open(run / "log.csv"))] == ["1", "2", "3"]


@pytest.mark.parametrize("flag", [["--learning-rate", "1e-4"], ["--num-envs", "64"], ["--hidden-dims", "64", "32"],
                                  ["--snapshot-every", "0.5"], ["--max-foot-depth", "0.018"],
                                  ["--reference-feet", "stance_and_landing"], ["--late-learning-rate", "8", "1e-4"],
                                  ["--adaptive-body-kernel"], ["--init-std", "0.25"],
                                  ["--learning-epochs", "10"], ["--mini-batches", "8"], ["--mirror"], ["--no-mirror"],
                                  ["--no-adaptive-body-kernel"], ["--tiny"]])
def test_resume_refuses_a_flag_it_would_ignore(tmp_path: Path, tiny_run: Path, flag: list[str],
                                               capsys: pytest.CaptureFixture[str]):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    assert train.main(["--out", str(run), "--resume", "--quiet", *flag]) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} would be ignored" in err and "--init-from" in err
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before  # nothing touched


@pytest.fixture(scope="module")
def exported(tiny_run: Path, clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("policy") / "tiny.npz"
    assert export.main([str(tiny_run / "checkpoint.pt"), "--out", str(out), "--clip", str(clip_path),
                        "--take", "smoke", "--description", "two iterations"]) == 0
    return out


def test_numpy_and_torch_runtimes_agree_with_the_trained_actor(exported: Path, tiny_run: Path, clip_path: Path):
    policy = load_policy(exported)
    assert policy.metadata["take"] == "smoke" and policy.metadata["training_samples"] == 128
    state = train.load_checkpoint(tiny_run / "checkpoint.pt")
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, tiny_run)
    trainer.load(tiny_run / "checkpoint.pt")
    recorded = np.concatenate([trainer.env.step(np.zeros((8, 28)))[0] for _ in range(5)])
    from tensordict import TensorDict

    with torch.no_grad():
        td = TensorDict({"policy": torch.from_numpy(recorded)}, batch_size=[len(recorded)])
        expected = trainer.alg.actor(td).numpy()
    numpy_actions = Controller(policy, backend="numpy")(recorded)
    torch_actions = Controller(policy, backend="torch")(recorded)
    np.testing.assert_allclose(numpy_actions, torch_actions, atol=1e-5)
    np.testing.assert_allclose(numpy_actions, expected, atol=1e-5)


def test_the_policy_file_says_which_reference_it_imitates_and_the_rollout_follows_it(exported: Path):
    from blender_backflip.core.character import build_character
    from blender_backflip.core.reference import make_track
    from blender_backflip.core.rollout import simulate, tracking_error_cm
    from blender_backflip.core.skeleton import CANONICAL

    policy = load_policy(exported)
    assert policy.metadata["reference_flight"] == "ballistic" == policy.reference_flight
    assert policy.metadata["reference_feet"] == "planted" == policy.reference_feet
    character = build_character(CANONICAL)
    result = simulate(character, Controller(policy, backend="numpy"), seed=1)
    trained_on = make_track(policy.reference, character, flight="ballistic", feet="planted")
    assert result.verdict.tracking_error_cm == pytest.approx(tracking_error_cm(result.body_pos, trained_on))
    for flight, feet in [("ballistic", "clip"), ("clip", "clip")]:
        other = make_track(policy.reference, character, flight=flight, feet=feet)
        assert result.verdict.tracking_error_cm != pytest.approx(tracking_error_cm(result.body_pos, other))
    del policy.metadata["reference_flight"], policy.metadata["reference_feet"]  # files from before the fields
    assert (policy.reference_flight, policy.reference_feet) == ("clip", "clip")  # imitated the clip as captured


def test_checkpoints_from_before_the_flight_field_imitate_the_clip():
    d = TrainConfig().to_dict()
    assert d["env"]["reference_flight"] == "ballistic"
    del d["env"]["reference_flight"]
    assert TrainConfig.from_dict(d).env.reference_flight == "clip"


def test_checkpoints_from_before_the_feet_field_imitate_the_clips_feet():
    d = TrainConfig().to_dict()
    assert d["env"]["reference_feet"] == "planted"
    del d["env"]["reference_feet"]
    assert TrainConfig.from_dict(d).env.reference_feet == "clip"


def test_checkpoints_from_before_the_weights_field_keep_flip10s_weights():
    d = TrainConfig().to_dict()
    assert TrainConfig.from_dict(d).env.reward_weights == rewards.WEIGHTS
    del d["env"]["reward_weights"]
    assert TrainConfig.from_dict(d).env.reward_weights == rewards.WEIGHTS_UNTIL_FLIP10 != rewards.WEIGHTS


def test_checkpoints_from_before_the_kernel_field_keep_the_kernel_of_then():
    d = TrainConfig().to_dict()
    assert TrainConfig.from_dict(d).env.body_position_scale == 300.0
    del d["env"]["body_position_scale"]
    assert TrainConfig.from_dict(d).env.body_position_scale == 100.0


def test_policy_file_with_other_joint_order_is_refused(exported: Path, tmp_path: Path):
    policy = load_policy(exported)
    policy.metadata["dof_names"] = list(reversed(policy.metadata["dof_names"]))
    bad = tmp_path / "bad.npz"
    save_policy(bad, policy)  # save_policy stamps the core's metadata back on: tamper after saving instead
    data = dict(np.load(bad))
    meta = json.loads(str(data["metadata"]))
    meta["dof_names"] = list(reversed(meta["dof_names"]))
    data["metadata"] = np.array(json.dumps(meta))
    np.savez(bad, **data)
    with pytest.raises(BackflipError, match="dof names"):
        load_policy(bad)


@pytest.mark.parametrize("field,value,match", [("format_version", 99, "format version"), ("control_hz", 60, "control hz"),
                                               ("contact_timeconst", 0.02, "contact timeconst"),
                                               ("action_mapping", None, "action mapping")])
def test_policy_file_with_other_version_or_rate_is_refused(exported: Path, tmp_path: Path, field, value, match):
    data = dict(np.load(exported))
    meta = json.loads(str(data["metadata"]))
    meta[field] = value
    data["metadata"] = np.array(json.dumps(meta))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    with pytest.raises(BackflipError, match=match):
        load_policy(bad)


def test_corrupt_and_missing_policy_files_are_refused(tmp_path: Path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a policy")
    with pytest.raises(BackflipError, match="damaged"):
        load_policy(corrupt)
    with pytest.raises(BackflipError, match="not found"):
        load_policy(tmp_path / "missing.npz")


def test_evaluate_writes_the_protocol_json(exported: Path, tmp_path: Path):
    out = tmp_path / "eval.json"
    assert evaluate.main([str(exported), "--episodes", "2", "--json", str(out), "--workers", "1"]) == 0
    result = json.loads(out.read_text())
    assert set(result) >= {"canonical", "variants", "policy", "seeds"}
    for group in ("canonical", "variants"):
        block = result[group]
        assert len(block["episodes"]) == 2
        assert 0.0 <= block["success_rate"] <= 1.0
        assert block["tracking_error_cm"] > 0.0 and block["max_foot_penetration_cm"] >= 0.0
        # the tiny run imitates the ballistic flight, which the clip as captured differs from
        assert block["tracking_error_vs_clip_cm"] > 0.0
        assert block["tracking_error_vs_clip_cm"] != block["tracking_error_cm"]
    # variant bodies differ from the canonical one and from each other
    scales = [tuple(e["scale_factors"]) for e in result["variants"]["episodes"]]
    assert len(set(scales)) == 2 and all(s != (1.0, 1.0, 1.0, 1.0, 1.0) for s in scales)


def test_evaluate_on_other_seeds_for_choosing_among_snapshots(exported: Path, tmp_path: Path):
    out = tmp_path / "choose.json"
    assert evaluate.main([str(exported), "--episodes", "1", "--json", str(out), "--workers", "1",
                          "--first-seed", "1000", "--canonical-only"]) == 0
    result = json.loads(out.read_text())
    assert result["seeds"]["canonical"] == [evaluate.EVAL_SEED_OFFSET + 1000] * 2
    assert result["canonical"]["episodes"][0]["seed"] == evaluate.EVAL_SEED_OFFSET + 1000
    assert evaluate.main([str(exported), "--first-seed", "-1"]) == 2  # one line, non-zero, nothing written


def test_cli_bad_input_one_line_nonzero_and_no_output(tmp_path: Path, capsys, clip_path: Path):
    out = tmp_path / "p.npz"
    assert export.main([str(tmp_path / "nope.pt"), "--out", str(out)]) == 2
    assert "Checkpoint not found" in capsys.readouterr().err and not out.exists()

    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"\x00garbage")
    assert export.main([str(damaged), "--out", str(out)]) == 2
    assert "cannot be read" in capsys.readouterr().err and not out.exists()

    assert evaluate.main([str(tmp_path / "nope.npz"), "--episodes", "1"]) == 2
    assert "not found" in capsys.readouterr().err

    if not torch.cuda.is_available():
        run = tmp_path / "cuda_run"
        assert train.main(["--device", "cuda", "--out", str(run)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "CUDA" in err[0] and not run.exists()

    wrong_clip = tmp_path / "wrong.txt"
    wrong_clip.write_text(json.dumps({"Loop": "none", "Frames": [[0.1] * 40, [0.0] * 40]}))
    run = tmp_path / "clip_run"
    assert train.main(["--out", str(run), "--clip", str(wrong_clip), "--tiny", "--iterations", "1"]) == 2
    assert "width 40" in capsys.readouterr().err and not run.exists()


def test_snapshot_spacing_from_the_command_line(tmp_path: Path, clip_path: Path):
    """--snapshot-every (million samples) keeps snapshots that often: finer early on, to choose takes from."""
    run = tmp_path / "fine"
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--tiny", "--iterations", "3", "--quiet",
                       "--snapshot-every", "0.0002"]) == 0  # 200 samples; a tiny iteration is 128
    names = sorted(p.name for p in (run / "snapshots").glob("model_*.pt"))
    assert len(names) == 1 and train.load_checkpoint(run / "snapshots" / names[0])["samples"] == 256
    assert train.load_checkpoint(run / "checkpoint.pt")["config"]["snapshot_every_samples"] == 200


def test_foot_depth_limit_and_reference_feet_from_the_command_line(tmp_path: Path, clip_path: Path, capsys: pytest.CaptureFixture[str]):
    run = tmp_path / "limited"
    state = tiny_cli_run(run, clip_path, "--max-foot-depth", "0.018", "--reference-feet", "stance_and_landing")
    env = state["config"]["env"]
    assert env["max_foot_depth"] == 0.018 and env["reference_feet"] == "stance_and_landing"
    bad = tmp_path / "bad"
    assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", "--max-foot-depth", "-2"]) == 2
    err = capsys.readouterr().err
    assert "--max-foot-depth must be a depth in metres above 0" in err and not bad.exists()
    unlimited = tmp_path / "unlimited"
    assert tiny_cli_run(unlimited, clip_path, "--max-foot-depth", "0")["config"]["env"]["max_foot_depth"] is None


def test_init_from_trains_at_the_new_runs_learning_rate(tiny_run: Path, clip_path: Path, tmp_path: Path):
    cfg = tiny_config()
    cfg.ppo.learning_rate = 1e-4  # the parent trained at 3e-4; its optimizer state must not bring that back
    child = train.train(cfg, tmp_path / "child", clip_path, "cpu", resume=False, minutes=None, iterations=1,
                        quiet=True, init_from=tiny_run / "checkpoint.pt")
    assert [g["lr"] for g in child.alg.optimizer.param_groups] == [1e-4]
    assert torch.load(tmp_path / "child" / "checkpoint.pt", weights_only=False)["config"]["ppo"]["learning_rate"] == 1e-4


def test_a_learning_rate_asked_for_holds_past_the_default_late_switch(tiny_run: Path, clip_path: Path,
                                                                      tmp_path: Path):
    parent = train.load_checkpoint(tiny_run / "checkpoint.pt")
    parent["samples"] = 9_000_000  # past PPOConfig.late_after_samples
    train.save_checkpoint(parent, tmp_path / "parent.pt")
    run = tmp_path / "settle"
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--tiny", "--iterations", "2", "--quiet",
                       "--init-from", str(tmp_path / "parent.pt"), "--learning-rate", "5e-5"]) == 0
    assert [float(r["learning_rate"]) for r in csv.DictReader(open(run / "log.csv"))] == [5e-5, 5e-5]
    assert train.load_checkpoint(run / "checkpoint.pt")["config"]["ppo"]["late_learning_rate"] is None


def test_late_learning_rate_takes_over_after_its_samples(tmp_path: Path, clip_path: Path,
                                                         capsys: pytest.CaptureFixture[str]):
    run = tmp_path / "late"  # a tiny iteration is 128 samples: 3e-4 for the first two, 1e-5 from 256 on
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--tiny", "--iterations", "4", "--quiet",
                       "--late-learning-rate", "0.000256", "1e-5"]) == 0
    assert [float(r["learning_rate"]) for r in csv.DictReader(open(run / "log.csv"))] == [3e-4, 3e-4, 1e-5, 1e-5]
    state = train.load_checkpoint(run / "checkpoint.pt")
    assert state["config"]["ppo"]["late_learning_rate"] == 1e-5 and state["config"]["ppo"]["late_after_samples"] == 256
    assert [g["lr"] for g in state["optimizer_state_dict"]["param_groups"]] == [1e-5]
    bad = tmp_path / "bad"
    assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", "--late-learning-rate", "8", "0"]) == 2
    assert "--late-learning-rate takes MILLION_SAMPLES" in capsys.readouterr().err and not bad.exists()


def test_init_std_learning_epochs_and_mini_batches_shape_a_new_run(tmp_path: Path, clip_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]):
    run = tmp_path / "shaped"
    state = tiny_cli_run(run, clip_path, "--init-std", "0.25", "--learning-epochs", "2", "--mini-batches", "2")
    ppo = state["config"]["ppo"]
    assert (ppo["init_std"], ppo["num_learning_epochs"], ppo["num_mini_batches"]) == (0.25, 2, 2)
    std = state["actor_state_dict"]["distribution.std_param"]
    assert torch.all((std > 0.2) & (std < 0.3))  # one update away from 0.25, far from the default 0.5
    logged = float(next(csv.DictReader(open(run / "log.csv")))["action_std"])
    assert logged == pytest.approx(float(std.mean()), abs=1e-3)
    learner = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, run).alg
    assert (learner.num_learning_epochs, learner.num_mini_batches) == (2, 2)
    for flag, bad_value, message in [("--init-std", "0", "--init-std must be a noise level above 0"),
                                     ("--init-std", "-0.1", "--init-std must be a noise level above 0"),
                                     ("--learning-epochs", "0", "--learning-epochs must be 1 or more"),
                                     ("--mini-batches", "0", "--mini-batches must be 1 or more")]:
        bad = tmp_path / f"bad{flag}{bad_value}"
        assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", flag, bad_value]) == 2
        assert message in capsys.readouterr().err and not bad.exists()


def test_mirror_run_learns_from_both_sides_and_resumes_with_it(tmp_path: Path, clip_path: Path):
    run = tmp_path / "mirror"
    state = tiny_cli_run(run, clip_path, "--mirror")
    assert state["config"]["ppo"]["mirror_augmentation"] is True
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, run)
    trainer.load(run / "checkpoint.pt")
    seen = []

    def spy(env=None, obs=None, actions=None):
        result = mirror_augmentation.augment(env, obs, actions)
        seen.append((len(obs["policy"]), len(result[0]["policy"])) if obs is not None else None)
        return result

    trainer.alg.symmetry.data_augmentation_func = spy
    trainer.iterate()
    ppo = trainer.cfg.ppo
    batch = trainer.env.num_envs * ppo.num_steps_per_env // ppo.num_mini_batches
    # every mini-batch of every epoch is doubled for the update, and nothing else is mirrored: no mirror loss is
    # computed only to be logged (rsl-rl's own Symmetry mirrors the actor's actions once more per mini-batch);
    # the images' own old log-probabilities take one pass over the whole batch before the update
    assert ppo.mirror_rollout_log_prob
    whole = trainer.env.num_envs * ppo.num_steps_per_env
    assert seen[0] == (whole, 2 * whole)
    assert seen.count((batch, 2 * batch)) == ppo.num_learning_epochs * ppo.num_mini_batches
    assert len(seen) == ppo.num_learning_epochs * ppo.num_mini_batches + 1
    plain = tmp_path / "plain"
    config = TrainConfig.from_dict(tiny_cli_run(plain, clip_path, "--no-mirror")["config"])
    assert config.ppo.mirror_augmentation is False
    assert train.Trainer(config, clip_path, tmp_path / "plain_again").alg.symmetry is None


def _mini_batch_log_probs(trainer: train.Trainer) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """One iteration; from each of its mini-batches: the old log-probabilities PPO's ratio divides by and the
    log-probabilities of the same actions under the policy that collected the batch (a copy of the actor as the
    update begins), originals first, then mirror images."""
    symmetry, captured, rollout_actor = trainer.alg.symmetry, [], []
    remember, augment_batch = symmetry.remember_rollout_policy, symmetry.augment_batch

    def keep_a_copy(actor, storage):
        rollout_actor.append(copy.deepcopy(actor))
        remember(actor, storage)

    def capture(batch, original_batch_size):
        augment_batch(batch, original_batch_size)
        with torch.no_grad():
            rollout_actor[0](batch.observations, stochastic_output=True)
            own = rollout_actor[0].get_output_log_prob(batch.actions)
        captured.append((batch.old_actions_log_prob.reshape(-1).clone(), own.clone(), original_batch_size))

    symmetry.remember_rollout_policy, symmetry.augment_batch = keep_a_copy, capture
    trainer.iterate()
    return captured


def test_mirror_images_can_have_their_own_old_log_prob(tmp_path: Path, clip_path: Path):
    run = tmp_path / "own"
    state = tiny_cli_run(run, clip_path, "--mirror-rollout-log-prob")
    assert state["config"]["ppo"]["mirror_rollout_log_prob"] is True
    for own_log_prob in (True, False):
        config = TrainConfig.from_dict(state["config"])
        config.ppo.mirror_rollout_log_prob = own_log_prob
        trainer = train.Trainer(config, clip_path, run)
        trainer.load(run / "checkpoint.pt")
        torch.manual_seed(0)
        with torch.no_grad():  # a policy that treats the two sides unlike each other, as a trained one does
            trainer.alg.actor.mlp[-1].bias.add_(0.05 * torch.randn_like(trainer.alg.actor.mlp[-1].bias))
        batches = _mini_batch_log_probs(trainer)
        ppo = trainer.cfg.ppo
        assert len(batches) == ppo.num_learning_epochs * ppo.num_mini_batches
        # the first mini-batch, and the last, taken after every other gradient step of the update: the images' old
        # log-probabilities are still the rollout policy's, and each is its own image's (the shuffled indices hold)
        for old, own, n in (batches[0], batches[-1]):
            assert old.shape == own.shape == (2 * n,)
            if own_log_prob:  # the larger of an image's own and its original's: the likelier images start at 1
                torch.testing.assert_close(old[n:], torch.maximum(own[n:], old[:n]), atol=1e-4, rtol=1e-4)
                likelier = own[n:] > old[:n] + 0.1
                assert likelier.any() and (own[n:] < old[:n] - 0.1).any()
                torch.testing.assert_close(old[n:][likelier], own[n:][likelier], atol=1e-4, rtol=1e-4)
            else:  # rsl-rl's way: the originals' repeated, which the policy does not give the images
                torch.testing.assert_close(old[n:], old[:n])
                assert (old[n:] - own[n:]).abs().max() > 0.1
        assert len(trainer.alg.storage.distribution_params) == 2 + own_log_prob  # the images' entry, when used
    assert TrainConfig.from_dict({**state["config"], "ppo": {k: v for k, v in state["config"]["ppo"].items()
                                                            if k != "mirror_rollout_log_prob"}}
                                 ).ppo.mirror_rollout_log_prob is False  # runs from before the flag


def test_mirror_augmentation_appends_the_cores_mirror_images():
    rng = np.random.default_rng(0)
    obs, actions = rng.normal(size=(5, OBS_DIM)), rng.normal(size=(5, NUM_ACTIONS))
    td = TensorDict({"policy": torch.as_tensor(obs, dtype=torch.float32)}, batch_size=[5])
    both_obs, both_actions = mirror_augmentation.augment(None, td, torch.as_tensor(actions, dtype=torch.float32))
    np.testing.assert_allclose(both_obs["policy"].numpy(), np.concatenate([obs, mirror_observation(obs)]), atol=1e-6)
    np.testing.assert_allclose(both_actions.numpy(), np.concatenate([actions, mirror_dofs(actions)]), atol=1e-6)
    assert mirror_augmentation.augment(None, td, None)[1] is None


def test_adaptive_body_kernel_is_logged_and_resumes_where_it_was(tmp_path: Path, clip_path: Path):
    run = tmp_path / "adaptive"
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--tiny", "--iterations", "3", "--quiet",
                       "--adaptive-body-kernel"]) == 0
    scales = [float(r["body_position_scale"]) for r in csv.DictReader(open(run / "log.csv"))]
    assert len(set(scales)) == 3 and 300.0 not in scales  # it follows the policy from the first iteration
    state = train.load_checkpoint(run / "checkpoint.pt")
    assert state["config"]["env"]["adaptive_body_position_scale"] is True
    assert state["body_position_scale"] == pytest.approx(scales[-1], abs=0.05)
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, run)
    trainer.load(run / "checkpoint.pt")
    assert float(trainer.env.body_position_scale) == state["body_position_scale"]


def test_resume_keeps_where_starts_failed(tmp_path: Path, tiny_run: Path, clip_path: Path):
    state = train.load_checkpoint(tiny_run / "checkpoint.pt")
    failure = np.array(state["start_bin_failure"])
    assert not np.allclose(failure, 0.5)  # finished episodes moved it from its prior
    trainer = train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, tmp_path / "resumed")
    assert failure.shape == trainer.env.bin_failure.shape and not np.allclose(trainer.env.bin_failure, failure)
    trainer.load(tiny_run / "checkpoint.pt")
    np.testing.assert_allclose(trainer.env.bin_failure, failure)


def test_a_fixed_kernel_run_keeps_its_sharpness(tmp_path: Path, clip_path: Path):
    run = tmp_path / "fixed"
    assert train.main(["--out", str(run), "--clip", str(clip_path), "--tiny", "--iterations", "2", "--quiet",
                       "--no-adaptive-body-kernel"]) == 0
    assert [float(r["body_position_scale"]) for r in csv.DictReader(open(run / "log.csv"))] == [300.0, 300.0]
    assert train.load_checkpoint(run / "checkpoint.pt")["config"]["env"]["adaptive_body_position_scale"] is False


def test_a_new_run_trains_with_the_measured_recipe_and_old_checkpoints_keep_theirs(tmp_path: Path, clip_path: Path):
    run = tmp_path / "plain_flags"
    d = tiny_cli_run(run, clip_path)["config"]
    recipe = {"mirror_augmentation": True, "num_learning_epochs": 10, "num_mini_batches": 8,
              "late_learning_rate": 1e-4, "late_after_samples": 8_000_000, "privileged_critic": False}
    assert {k: d["ppo"][k] for k in recipe} == recipe  # scratch9's command, flags as defaults
    assert d["env"]["max_foot_depth"] == 0.016 and d["env"]["adaptive_body_position_scale"] is True
    for part, key in [("ppo", "mirror_augmentation"), ("ppo", "late_learning_rate"), ("ppo", "privileged_critic"),
                      ("env", "max_foot_depth"), ("env", "adaptive_body_position_scale")]:
        del d[part][key]  # a checkpoint from before the field was stored trained without it
    old = TrainConfig.from_dict(d)
    assert (old.ppo.mirror_augmentation, old.ppo.late_learning_rate, old.ppo.privileged_critic) == (False, None, False)
    assert (old.env.max_foot_depth, old.env.adaptive_body_position_scale) == (None, False)


def test_resume_upgrades_an_older_logs_header(tmp_path: Path, tiny_run: Path, clip_path: Path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    rows = list(csv.DictReader(open(run / "log.csv")))
    old_fields = [f for f in CSV_FIELDS if f != "body_position_scale"]
    with open(run / "log.csv", "w", newline="") as handle:  # a log written before the column existed
        writer = csv.DictWriter(handle, fieldnames=old_fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    train.train(TrainConfig(), run, clip_path, "cpu", resume=True, minutes=None, iterations=1, quiet=True)
    upgraded = list(csv.DictReader(open(run / "log.csv")))
    assert list(upgraded[0]) == CSV_FIELDS and [r["iteration"] for r in upgraded] == ["1", "2", "3"]
    resumed = train.load_checkpoint(run / "checkpoint.pt")["body_position_scale"]
    assert [r["body_position_scale"] for r in upgraded[:2]] == ["", ""]
    assert float(upgraded[2]["body_position_scale"]) == round(resumed, 1)


def test_tracking_report_splits_the_evaluators_figure(exported: Path, capsys: pytest.CaptureFixture[str]):
    seed = evaluate.episode_seeds("variants", 1000, 1)[0]
    report = tracking_report.episode_breakdown(str(exported), "variants", seed)
    assert report["mean_cm"] == pytest.approx(evaluate.run_episode(str(exported), "variants", seed)["tracking_error_cm"],
                                              abs=1e-3)
    assert tracking_report.main([str(exported), "--episodes", "1", "--group", "variants", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f"mean {report['mean_cm']:.2f} cm" in out and "right_foot" in out
    assert tracking_report.main([str(exported.with_name("nope.npz")), "--workers", "1"]) == 2


def test_export_takes_the_clip_the_checkpoint_records(tiny_run: Path, clip_path: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]):
    """A policy trained on an animator's own clip exports with that clip as its reference and credits it by
    name, without --clip; a recorded clip that has changed is refused."""
    state = train.load_checkpoint(tiny_run / "checkpoint.pt")
    assert Path(state["clip"]) == clip_path.resolve()
    own = tmp_path / "my_flip.txt"
    shutil.copy(clip_path, own)
    state["clip"], state["clip_sha256"] = str(own), train.file_sha256(own)
    checkpoint = tmp_path / "mine.pt"
    train.save_checkpoint(state, checkpoint)
    out = tmp_path / "mine.npz"
    assert export.main([str(checkpoint), "--out", str(out)]) == 0
    policy = load_policy(out)
    assert policy.metadata["clip_attribution"].startswith("Reference motion: my_flip.txt, a clip of the user's own")
    np.testing.assert_allclose(policy.reference.dof_pos, load_deepmimic(own, loop="clamp").dof_pos)

    text = own.read_text()
    own.write_text(text.replace("0.0", "0.1", 1))
    assert own.read_text() != text
    assert export.main([str(checkpoint), "--out", str(tmp_path / "again.npz")]) == 2
    assert "my_flip.txt has changed since the checkpoint was trained on it" in capsys.readouterr().err
    assert not (tmp_path / "again.npz").exists()


def test_noise_ceiling_falls_from_the_initial_noise_and_caps_a_run(tmp_path: Path, clip_path: Path, capsys):
    ppo = PPOConfig(init_std=0.5, noise_ceiling=(1_000_000, 3_000_000, 0.1))
    assert [train.noise_ceiling(ppo, n) for n in (0, 1_000_000, 2_000_000, 3_000_000, 9_000_000)] == \
        pytest.approx([0.5, 0.5, 0.3, 0.1, 0.1])
    assert train.noise_ceiling(PPOConfig(init_std=0.5), 9_000_000) == 0.5
    state = tiny_cli_run(tmp_path / "capped", clip_path, "--noise-ceiling", "0", "0", "0.1")
    assert state["config"]["ppo"]["noise_ceiling"] == (0, 0, 0.1)
    assert float(state["actor_state_dict"]["distribution.std_param"].max()) <= 0.1 + 1e-7
    free = tiny_cli_run(tmp_path / "free", clip_path)
    assert float(free["actor_state_dict"]["distribution.std_param"].min()) > 0.3
    bad = tmp_path / "bad"
    assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", "--noise-ceiling", "2", "1", "0.1"]) == 2
    assert "--noise-ceiling takes FROM and TO in million samples (0 <= FROM <= TO)" in capsys.readouterr().err
    assert not bad.exists()


def test_rollout_runs_torch_on_one_thread_and_the_update_on_all(tmp_path: Path, clip_path: Path):
    trainer = train.Trainer(tiny_config(), clip_path, tmp_path / "threads")
    threads = torch.get_num_threads()
    seen = {"act": set(), "update": set()}
    act, update = trainer.alg.act, trainer.alg.update

    def spy_act(obs):
        seen["act"].add(torch.get_num_threads())
        return act(obs)

    def spy_update():
        seen["update"].add(torch.get_num_threads())
        return update()

    trainer.alg.act, trainer.alg.update = spy_act, spy_update
    torch.set_num_threads(2)
    try:
        trainer.iterate()
        assert seen == {"act": {1}, "update": {2}}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_gamma_sets_a_new_runs_discount_and_a_bad_one_is_refused(tmp_path: Path, clip_path: Path, capsys):
    state = tiny_cli_run(tmp_path / "short_horizon", clip_path, "--gamma", "0.95")
    assert state["config"]["ppo"]["gamma"] == 0.95
    assert train.Trainer(TrainConfig.from_dict(state["config"]), clip_path, tmp_path / "again").alg.gamma == 0.95
    bad = tmp_path / "bad"
    assert train.main(["--out", str(bad), "--clip", str(clip_path), "--tiny", "--gamma", "1"]) == 2
    assert "--gamma is the discount per control step, between 0 and 1" in capsys.readouterr().err
    assert not bad.exists()
