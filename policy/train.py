"""Train the backflip policy: `python -m policy.train --device cpu|cuda --out runs/NAME [--resume]`.

Several GPUs: `torchrun --nproc_per_node=N -m policy.train --device cuda --out runs/NAME` (policy/distributed.py).

PPO from rsl-rl-lib over the imitation environment: MuJoCo's CPU batch on --device cpu, MuJoCo Warp on the
GPU with --device cuda (observations, rewards and actions stay on the GPU); --backend picks one explicitly.
Writes runs/NAME/checkpoint.pt every few minutes, numbered snapshots (for the takes), log.csv, TensorBoard
scalars and learning_curve.png as it trains (policy/run_folder.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import sys
import time
from collections import deque
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
from tensordict import TensorDict

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.planted_feet import FEET_MODES

from .backends import BACKENDS, default_backend
from .config import PPOConfig, TrainConfig
from .distributed import Dist, from_environment, leave
from .env import ImitationEnv
from .mirror_augmentation import remember_rollout_policy, skip_logged_mirror_loss
from .paths import DEFAULT_CLIP
from .run_folder import RunFolder
from .widen import widened_checkpoint


class _EnvInfo:
    """What rsl-rl's PPO constructor reads from an environment."""

    def __init__(self, env: ImitationEnv, device: str):
        self.num_envs = env.num_envs
        self.num_actions = env.num_actions
        self.max_episode_length = env.max_episode_length
        self.device = device
        self.cfg = {}


def _mean(values: list) -> float:
    """Mean of per-step scalars (numpy scalars, or 0-d tensors read back once per iteration)."""
    return float(np.mean([float(v) for v in values]))


def _mean_or_nan(values: deque, warm: bool = True) -> float:
    """Mean of the episodes finished so far; NaN (a gap in the curve, not a fake 0) while none or only a biased
    few (warm False) have."""
    return float(np.mean(values)) if values and warm else float("nan")


def pick_device(requested: str) -> str:
    if requested == "cuda" and not torch.cuda.is_available():
        raise BackflipError("--device cuda was asked for, but torch sees no CUDA GPU here. Use --device cpu.")
    if requested not in ("cpu", "cuda"):
        raise BackflipError(f"Unknown device '{requested}'. Use cpu or cuda.")
    return requested


def pick_backend(requested: str | None, device: str) -> str:
    backend = requested or default_backend(device)
    if backend not in BACKENDS:
        raise BackflipError(f"Unknown backend '{backend}'. Use one of: {', '.join(BACKENDS)}.")
    return backend


class Trainer:
    def __init__(self, cfg: TrainConfig, clip: Path, out: Path, device: str = "cpu", backend: str | None = None,
                 dist: Dist | None = None):
        from rsl_rl.algorithms import PPO

        self.cfg = cfg
        self.out = out
        self.clip = Path(clip).resolve()
        self.clip_sha256 = file_sha256(self.clip)  # export finds the clip by path and checks it is the same
        self.dist = dist
        self.world_size = dist.world_size if dist else 1
        device = dist.device(device) if dist else device
        self.device = device
        torch.manual_seed(cfg.seed)
        backend = pick_backend(backend, device.split(":")[0])
        # The warp backend's arrays live on the training device (CUDA), or on the CPU when forced there.
        # Each process of a distributed run draws its own bodies and starts.
        env_seed = cfg.seed + 7919 * (dist.rank if dist else 0)
        self.env = ImitationEnv(load_deepmimic(clip), cfg.env, seed=env_seed, backend=backend,
                                device=device if backend == "warp" else "cpu")
        self.rsl_cfg = cfg.ppo.rsl_rl_cfg()
        self.rsl_cfg["multi_gpu"] = dist.rsl_rl_cfg() if dist else None
        self.obs = self.observation_dict(self.env.observations())
        self.alg = PPO.construct_algorithm(self.obs, _EnvInfo(self.env, device), self.rsl_cfg, device)
        skip_logged_mirror_loss(self.alg, rollout_log_prob=cfg.ppo.mirror_rollout_log_prob)
        self._fuse_adam_on_cpu()
        self._shrink_initial_actions()
        if dist:
            self.alg.broadcast_parameters()  # every process starts from process 0's networks
        self._prime_normalizers()
        self.iteration = 0
        self.samples = 0
        self.wall = 0.0
        self.next_snapshot = cfg.snapshot_every_samples
        self.lengths: deque[float] = deque(maxlen=500)
        self.standing: deque[float] = deque(maxlen=200)
        self.standing_length: deque[float] = deque(maxlen=200)
        # Until a whole episode fits in what this process has run, only early failures can have finished: the
        # episode statistics would read 0% survival after every start. They are logged as NaN until then.
        self._iterations_run = 0
        self._warm_up = -(-self.env.max_episode_length // cfg.ppo.num_steps_per_env)

    def _shrink_initial_actions(self, scale: float = 0.01) -> None:
        """Start from pure reference tracking: the mean head's weights times 0.01 (DeepMimic's output scale)."""
        last = self.alg.actor.mlp[-1]
        with torch.no_grad():
            last.weight.mul_(scale)
            last.bias.zero_()

    def _prime_normalizers(self, steps: int = 32) -> None:
        """Fill the observation statistics before the first update, so the first step is not taken on raw inputs."""
        seen = [self.obs]
        with torch.inference_mode():
            for _ in range(steps):
                actions = self.alg.act(self.obs)
                self.alg.transition.clear()
                obs, *_ = self.env.step(self.env.actions_in(actions))
                self.obs = self.observation_dict(obs)
                seen.append(self.obs)
        batch = torch.cat(seen)
        self.alg.actor.update_normalization(batch)
        self.alg.critic.update_normalization(batch)

    def observation_dict(self, obs: object) -> TensorDict:
        """The env's observation (and, for a privileged critic, the critic's extra one) as rsl-rl's TensorDict."""
        groups = {"policy": self.env.as_torch(obs, self.device)}
        if self.cfg.ppo.privileged_critic:
            groups["privileged"] = self.env.as_torch(self.env.privileged_observations(), self.device)
        return TensorDict(groups, batch_size=[groups["policy"].shape[0]], device=self.device)

    # -- persistence -----------------------------------------------------------------------------------------
    def state(self) -> dict:
        return {**self.alg.save(), "iteration": self.iteration, "samples": self.samples, "wall_s": self.wall,
                "config": self.cfg.to_dict(), "format": "blender_backflip.checkpoint/1",
                "body_position_scale": float(self.env.body_position_scale),
                "start_bin_failure": self.env.bin_failure.tolist(),
                "clip": str(self.clip), "clip_sha256": self.clip_sha256}

    def save(self, path: Path) -> None:
        save_checkpoint(self.state(), path)

    def load(self, path: Path) -> None:
        """Weights, normalizers, optimizer and counters of a checkpoint (this run's own, or a parent run's; a
        parent with narrower hidden layers is widened, keeping what it does, and its optimizer state is not kept;
        a parent whose critic saw other inputs passes on its actor alone)."""
        state = load_checkpoint(path)
        if state["config"]["ppo"].get("privileged_critic", False) != self.cfg.ppo.privileged_critic:
            # The critic reads other inputs than the parent's: it starts afresh, and so do the optimizer's moments.
            fresh = self.alg.save()
            state = {**state, "critic_state_dict": fresh["critic_state_dict"],
                     "optimizer_state_dict": fresh["optimizer_state_dict"]}
        if tuple(state["config"]["ppo"]["hidden_dims"]) != tuple(self.cfg.ppo.hidden_dims):
            state = widened_checkpoint(state, self.alg.save())  # --init-from into wider networks
        self.alg.load(state, None, strict=True)
        self._fuse_adam_on_cpu()  # a state dict saved unfused replaces the optimizer's settings
        self.iteration, self.samples, self.wall = state["iteration"], state["samples"], state["wall_s"]
        if self.cfg.env.adaptive_body_position_scale and "body_position_scale" in state:
            self.env.body_position_scale = self.env.xp.asarray(np.array(state["body_position_scale"]),
                                                               like=self.env.body_position_scale)
        failure = state.get("start_bin_failure")  # the adaptive start sampler's estimate (absent before stop 25)
        if failure is not None and len(failure) == len(self.env.bin_failure):
            self.env.bin_failure[:] = failure
        self.next_snapshot = (self.samples // self.cfg.snapshot_every_samples + 1) * self.cfg.snapshot_every_samples

    def _fuse_adam_on_cpu(self) -> None:
        if str(self.device).startswith("cpu"):
            self.alg.optimizer = fused_adam(self.alg.optimizer)

    def set_learning_rate(self, rate: float) -> None:
        for group in self.alg.optimizer.param_groups:
            group["lr"] = rate
        self.alg.learning_rate = rate

    def _apply_late_learning_rate(self) -> None:
        ppo = self.cfg.ppo
        if ppo.late_learning_rate is not None and self.samples >= ppo.late_after_samples \
                and self.alg.learning_rate != ppo.late_learning_rate:
            self.set_learning_rate(ppo.late_learning_rate)

    def _apply_noise_ceiling(self) -> None:
        ppo = self.cfg.ppo
        if ppo.noise_ceiling is not None:
            with torch.no_grad():
                self.alg.actor.distribution.std_param.clamp_(max=noise_ceiling(ppo, self.samples))

    # -- learning --------------------------------------------------------------------------------------------
    def iterate(self) -> dict:
        start = time.time()
        rewards, errors = [], []
        env, device = self.env, self.device
        self.alg.train_mode()
        # The policy's forward passes are small and sit between MuJoCo's threaded steps: torch's own threads,
        # spinning beside MuJoCo's, cost more than they gain there (rollout 1.07 s against 1.22 per iteration).
        one_thread = torch_threads(1) if str(device).startswith("cpu") else nullcontext()
        with torch.inference_mode(), one_thread:
            for _ in range(self.cfg.ppo.num_steps_per_env):
                actions = self.alg.act(self.obs)
                obs, reward, terminated, timed_out, info = env.step(env.actions_in(actions))
                self.obs = self.observation_dict(obs)
                dones = env.as_torch(terminated | timed_out, device)
                extras = {"time_outs": env.as_torch(timed_out, device).to(torch.float32)}
                self.alg.process_env_step(self.obs, env.as_torch(reward, device).to(torch.float32), dones, extras)
                rewards.append(reward.mean())
                errors.append(info["mean_body_error"])
                lengths = info["done_frame"] - info["done_start"]
                self.lengths.extend(lengths.tolist())
                from_standing = info["done_start"] == 0
                self.standing.extend(float(x) for x in info["done_timeout"][from_standing].tolist())
                self.standing_length.extend((info["done_frame"][from_standing] / 30.0).tolist())
            self.alg.compute_returns(self.obs)
        self._apply_late_learning_rate()
        remember_rollout_policy(self.alg)
        losses = self.alg.update()
        self.iteration += 1
        self._iterations_run += 1
        warm = self._iterations_run > self._warm_up
        n = self.env.num_envs * self.cfg.ppo.num_steps_per_env * self.world_size
        self.samples += n
        self._apply_noise_ceiling()
        if self.iteration % self.cfg.refresh_variants_every == 0:
            self.env.refresh_variants()  # builds new bodies' references: training time, so it is counted
        elapsed = time.time() - start
        self.wall += elapsed
        return {
            "iteration": self.iteration,
            "samples": self.samples,
            "wall_s": round(self.wall, 1),
            "samples_per_s": round(n / elapsed, 1),
            "mean_reward": round(_mean(rewards), 4),
            "mean_episode_length": round(_mean_or_nan(self.lengths, warm), 1),
            "success_from_standing": round(_mean_or_nan(self.standing, warm), 3),
            "standing_survival_s": round(_mean_or_nan(self.standing_length, warm), 3),
            "standing_episodes": len(self.standing),
            "mean_body_error_m": round(_mean(errors), 4),
            "value_loss": round(float(losses.get("value", losses.get("value_function", np.nan))), 5),
            "surrogate_loss": round(float(losses.get("surrogate", np.nan)), 5),
            "learning_rate": float(self.alg.learning_rate),
            "action_std": round(float(self.alg.get_policy().output_std.detach().mean()), 4),
            "body_position_scale": round(float(self.env.body_position_scale), 1),
        }


def fused_adam(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The same Adam over the same parameters, stepped by torch's fused kernel: on the CPU torch's default steps
    one parameter tensor at a time (2.4 ms a step for the two 256-128 networks here, against 0.4-0.6 fused; 80
    steps an iteration). Its moments and step counts are kept. Needed again after loading a state dict saved by an
    unfused Adam, whose settings replace the loading optimizer's. Any other optimizer is returned as it is."""
    if type(optimizer) is not torch.optim.Adam or all(group.get("fused") for group in optimizer.param_groups):
        return optimizer
    implementation = ("foreach", "fused", "capturable", "differentiable")
    groups = [{k: v for k, v in group.items() if k not in implementation} for group in optimizer.param_groups]
    fused = torch.optim.Adam(groups, fused=True)
    fused.state = optimizer.state
    return fused


@contextmanager
def torch_threads(n: int):
    """Run the block with n torch CPU threads, then restore the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def noise_ceiling(ppo: PPOConfig, samples: int) -> float:
    """The cap on the action noise after this many samples (PPOConfig.noise_ceiling; init_std without one)."""
    if ppo.noise_ceiling is None:
        return ppo.init_std
    start, end, std = ppo.noise_ceiling
    share = min(max((samples - start) / max(end - start, 1), 0.0), 1.0)
    return ppo.init_std + share * (std - ppo.init_std)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_checkpoint(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint


def load_checkpoint(path: Path) -> dict:
    if not Path(path).is_file():
        raise BackflipError(f"Checkpoint not found: {path}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a damaged file
        raise BackflipError(f"Checkpoint {path} cannot be read ({type(exc).__name__}); it is damaged or not a "
                            f"checkpoint of this trainer.") from exc
    if not isinstance(state, dict) or state.get("format") != "blender_backflip.checkpoint/1":
        raise BackflipError(f"{path} is not a checkpoint of this trainer (no blender_backflip format tag).")
    return state


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def train(cfg: TrainConfig, out: Path, clip: Path, device: str, resume: bool, minutes: float | None,
          iterations: int | None, quiet: bool = False, backend: str | None = None,
          init_from: Path | None = None, dist: Dist | None = None) -> Trainer:
    """Train into `out`. resume: continue out/checkpoint.pt with its own config; init_from: a new run with
    `cfg` that starts from another checkpoint's weights and counters (after a change to the task). In a
    distributed run (dist) every process trains and process 0 alone writes the run folder."""
    checkpoint = out / "checkpoint.pt"
    main_process = dist is None or dist.is_main
    if resume and init_from:
        raise BackflipError("--resume continues OUT's own run and --init-from starts a new one; use one of them.")
    if resume:
        cfg = TrainConfig.from_dict(load_checkpoint(checkpoint)["config"])
    elif init_from:
        load_checkpoint(init_from)  # a missing or damaged parent fails before anything is written
    trainer = Trainer(cfg, clip, out, device, backend, dist)  # bad clip or device fails here, before any output
    if resume:
        trainer.load(checkpoint)
    elif init_from:
        trainer.load(init_from)
        trainer.set_learning_rate(cfg.ppo.learning_rate)  # the new run's rate, not the parent's optimizer's
    if not main_process:
        _train_loop(trainer, iterations, minutes, None)
        return trainer

    out.mkdir(parents=True, exist_ok=True)
    append = resume
    if init_from and not resume:
        parent_log = init_from.parent / "log.csv"
        csv_path = out / "log.csv"
        if parent_log.is_file() and parent_log.resolve() != csv_path.resolve():
            shutil.copyfile(parent_log, csv_path)  # the learning curve shows the whole history
            append = True
    folder = RunFolder(out, trainer, append=append, iterations=iterations, quiet=quiet)
    try:
        if _train_loop(trainer, iterations, minutes, folder.record):
            print(f"stopped at iteration {trainer.iteration}; checkpoint saved to {checkpoint}", file=sys.stderr)
    finally:
        folder.close()
    return trainer


def _train_loop(trainer: Trainer, iterations: int | None, minutes: float | None, record) -> bool:
    """Iterate until the iteration count or the time is up (every process stops at the same iteration).
    Returns True when stopped by Ctrl-C or SIGTERM (a job queue's kill still leaves a checkpoint)."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    deadline = time.time() + minutes * 60 if minutes else None
    done = 0
    try:
        while iterations is None or done < iterations:
            out_of_time = deadline is not None and time.time() >= deadline
            if trainer.dist is not None:
                out_of_time = trainer.dist.any(out_of_time)
            if out_of_time:
                break
            done += 1
            row = trainer.iterate()
            if record is not None:
                record(row)
    except KeyboardInterrupt:
        return True
    return False


# Flags that shape a new run (their values are stored in its checkpoint's config); each defaults to None.
NEW_RUN_FLAGS = ("--num-envs", "--learning-rate", "--late-learning-rate", "--init-std", "--noise-ceiling",
                 "--gamma", "--learning-epochs", "--mini-batches", "--mirror", "--mirror-rollout-log-prob",
                 "--privileged-critic", "--hidden-dims",
                 "--snapshot-every", "--max-foot-depth", "--reference-feet", "--canonical-fraction",
                 "--max-body-error", "--start-from-standing", "--adaptive-body-kernel", "--tiny")


def _refuse_new_run_flags_on_resume(args: argparse.Namespace) -> None:
    values = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in NEW_RUN_FLAGS}
    given = [_switch(flag, value) for flag, value in values.items() if value is not None]
    if args.resume and given:
        raise BackflipError(f"--resume continues with the configuration in OUT's checkpoint, so {', '.join(given)} "
                            "would be ignored; drop it, or start a new run from the checkpoint with --init-from.")


def new_run_config(args: argparse.Namespace) -> TrainConfig:
    """The configuration of a new run: PPOConfig's and EnvConfig's defaults, changed by the flags given."""
    cfg = TrainConfig(seed=args.seed)
    if args.num_envs:
        cfg.env.num_envs = args.num_envs
    if args.learning_rate is not None:
        # a rate asked for holds throughout: a run --init-from a parent past late_after_samples would otherwise
        # switch to the default late rate at once
        cfg.ppo.learning_rate, cfg.ppo.late_learning_rate = args.learning_rate, None
    if args.late_learning_rate is not None:
        after, rate = args.late_learning_rate
        if not (after >= 0 and rate > 0):
            raise BackflipError(f"--late-learning-rate takes MILLION_SAMPLES (0 or more) and RATE (above 0), "
                                f"e.g. 8 1e-4; got {after:g} {rate:g}.")
        cfg.ppo.late_after_samples, cfg.ppo.late_learning_rate = int(after * 1e6), rate
    if args.init_std is not None:
        if not args.init_std > 0:
            raise BackflipError(f"--init-std must be a noise level above 0, e.g. 0.25; got {args.init_std:g}.")
        cfg.ppo.init_std = args.init_std
    if args.noise_ceiling is not None:
        start, end, std = args.noise_ceiling
        if not (0 <= start <= end and 0 < std <= cfg.ppo.init_std):
            raise BackflipError(f"--noise-ceiling takes FROM and TO in million samples (0 <= FROM <= TO) and STD "
                                f"(above 0, at most the initial noise {cfg.ppo.init_std:g}), e.g. 1.5 3.5 0.15; "
                                f"got {start:g} {end:g} {std:g}.")
        cfg.ppo.noise_ceiling = (int(start * 1e6), int(end * 1e6), std)
    if args.gamma is not None:
        if not 0 < args.gamma < 1:
            raise BackflipError(f"--gamma is the discount per control step, between 0 and 1, e.g. 0.97; got "
                                f"{args.gamma:g}.")
        cfg.ppo.gamma = args.gamma
    if args.learning_epochs is not None:
        if not args.learning_epochs >= 1:
            raise BackflipError(f"--learning-epochs must be 1 or more, e.g. 10; got {args.learning_epochs}.")
        cfg.ppo.num_learning_epochs = args.learning_epochs
    if args.mini_batches is not None:
        if not args.mini_batches >= 1:
            raise BackflipError(f"--mini-batches must be 1 or more, e.g. 4; got {args.mini_batches}.")
        cfg.ppo.num_mini_batches = args.mini_batches
    if args.mirror is not None:
        cfg.ppo.mirror_augmentation = args.mirror
    if args.privileged_critic is not None:
        cfg.ppo.privileged_critic = args.privileged_critic
    if args.mirror_rollout_log_prob is not None:
        cfg.ppo.mirror_rollout_log_prob = args.mirror_rollout_log_prob
    if args.hidden_dims:
        cfg.ppo.hidden_dims = tuple(args.hidden_dims)
    if args.max_foot_depth is not None:
        if not args.max_foot_depth >= 0:
            raise BackflipError(f"--max-foot-depth must be a depth in metres above 0, e.g. 0.016 (or 0: no "
                                f"limit); got {args.max_foot_depth}.")
        cfg.env.max_foot_depth = args.max_foot_depth or None
    if args.reference_feet:
        cfg.env.reference_feet = args.reference_feet
    if args.canonical_fraction is not None:
        if not 0.0 <= args.canonical_fraction <= 1.0:
            raise BackflipError(f"--canonical-fraction is a share of the body pool, 0 to 1, e.g. 0.25 (1: canonical "
                                f"bodies only); got {args.canonical_fraction:g}.")
        cfg.env.canonical_fraction = args.canonical_fraction
    if args.max_body_error is not None:
        if not args.max_body_error > 0:
            raise BackflipError(f"--max-body-error is a distance in metres above 0, e.g. 0.8; got "
                                f"{args.max_body_error:g}.")
        cfg.env.max_body_error = args.max_body_error
    if args.start_from_standing is not None:
        if not 0.0 <= args.start_from_standing <= 1.0:
            raise BackflipError(f"--start-from-standing is a share of episodes, 0 to 1, e.g. 0.25 (1: every episode "
                                f"starts standing); got {args.start_from_standing:g}.")
        cfg.env.start_from_standing = args.start_from_standing
    if args.adaptive_body_kernel is not None:
        cfg.env.adaptive_body_position_scale = args.adaptive_body_kernel
    if args.snapshot_every:
        cfg.snapshot_every_samples = int(args.snapshot_every * 1e6)
    if args.tiny:
        cfg.env.num_envs, cfg.env.num_variants = 16, 4
        cfg.ppo.hidden_dims, cfg.ppo.num_steps_per_env = (32, 32), 8
    return cfg


def _switch(flag: str, value: object) -> str:
    """The spelling of a flag as given: --no-flag for an on/off flag turned off (only False itself: a value
    of 0, as in --max-foot-depth 0, keeps --flag), otherwise --flag."""
    return flag if value is not False else "--no-" + flag[2:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.train", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--backend", choices=BACKENDS, help="physics: batch (MuJoCo CPU threads; default on cpu) or "
                        "warp (MuJoCo Warp; default on cuda, slow on cpu: for tests)")
    parser.add_argument("--out", required=True, type=Path, help="run folder, e.g. runs/flip")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                        help="start a new run (this code's config) from another run's checkpoint")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="DeepMimic backflip clip")
    parser.add_argument("--minutes", type=float, help="stop after this many minutes")
    parser.add_argument("--iterations", type=int, help="stop after this many iterations")
    parser.add_argument("--num-envs", type=int, help="parallel characters (default from EnvConfig)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshot-every", type=float, metavar="MILLION_SAMPLES",
                        help="keep a numbered snapshot this often (default 2; finer early on to choose takes)")
    parser.add_argument("--learning-rate", type=float, help="Adam step size of a new run (default from PPOConfig; "
                        "lower to settle a run continued with --init-from); held throughout unless "
                        "--late-learning-rate is given too")
    parser.add_argument("--late-learning-rate", type=float, nargs=2, metavar=("MILLION_SAMPLES", "RATE"),
                        help="a new run's Adam step size from this many samples on (default 8 1e-4: a third of "
                        "the rate once landing holds; PPOConfig.late_learning_rate)")
    parser.add_argument("--init-std", type=float, metavar="STD",
                        help="a new run's initial action noise, in action units (default from PPOConfig)")
    parser.add_argument("--noise-ceiling", type=float, nargs=3, metavar=("FROM", "TO", "STD"),
                        help="cap a new run's action noise by a ceiling that falls from the initial noise to STD "
                        "between FROM and TO million samples (default: the noise is learned freely)")
    parser.add_argument("--gamma", type=float, help="a new run's discount per control step (default from PPOConfig)")
    parser.add_argument("--learning-epochs", type=int, metavar="N",
                        help="a new run's PPO passes over each batch (default from PPOConfig)")
    parser.add_argument("--mini-batches", type=int, metavar="N",
                        help="a new run's gradient steps per PPO pass: the batch split in N (default from PPOConfig)")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction,
                        help="whether a new run also learns from the left-right mirror image of every sample "
                        "(default: it does; PPOConfig.mirror_augmentation)")
    parser.add_argument("--mirror-rollout-log-prob", action=argparse.BooleanOptionalAction,
                        help="whether a new run gives each mirror image the larger of its own old log-probability "
                        "under the policy that collected it and its original's, where rsl-rl repeats its original's "
                        "(default: it does; PPOConfig.mirror_rollout_log_prob)")
    parser.add_argument("--privileged-critic", action=argparse.BooleanOptionalAction,
                        help="whether a new run's critic also sees each body's offset from its reference (default: "
                        "it does not; PPOConfig.privileged_critic; the exported policy is the same either way)")
    parser.add_argument("--hidden-dims", type=int, nargs="+", metavar="N",
                        help="hidden layer sizes of a new run (default from PPOConfig); with --init-from, at least "
                        "the parent's: its networks are widened, keeping what they do")
    parser.add_argument("--max-foot-depth", type=float, metavar="METRES",
                        help="a new run ends episodes where a foot sinks deeper than this into the floor "
                        "(EnvConfig.max_foot_depth; default 0.016; 0: no limit)")
    parser.add_argument("--reference-feet", choices=FEET_MODES,
                        help="feet of a new run's reference (EnvConfig.reference_feet; core.planted_feet)")
    parser.add_argument("--canonical-fraction", type=float, metavar="SHARE",
                        help="share of a new run's body pool with the canonical proportions (EnvConfig."
                        "canonical_fraction; default 0.25; 1: the canonical body only)")
    parser.add_argument("--max-body-error", type=float, metavar="METRES",
                        help="a new run ends episodes where a body is this far from its reference (EnvConfig."
                        "max_body_error; default 0.8)")
    parser.add_argument("--start-from-standing", type=float, metavar="SHARE",
                        help="share of a new run's episodes that start standing, at the clip's first frame, as the "
                        "evaluation's do; the rest start along the reference (EnvConfig.start_from_standing; "
                        "default 0.5; 0.25 until scratch28)")
    parser.add_argument("--adaptive-body-kernel", action=argparse.BooleanOptionalAction,
                        help="whether a new run's body-position sharpness follows its own tracking error (default: "
                        "it does; EnvConfig.adaptive_body_position_scale) or stays at body_position_scale")
    parser.add_argument("--tiny", action="store_true", default=None, help="tiny networks and few envs (smoke tests)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        device = pick_device(args.device)
        _refuse_new_run_flags_on_resume(args)
        cfg = new_run_config(args)
        dist = from_environment(device)  # torchrun: one process per GPU (or CPU process over gloo)
        try:
            train(cfg, args.out, args.clip, device, args.resume, args.minutes, args.iterations,
                  args.quiet or not (dist is None or dist.is_main), pick_backend(args.backend, device),
                  args.init_from, dist)
        finally:
            leave(dist)
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
