"""How far a policy is from treating both sides alike, as PPO's ratio sees it (policy/mirror_augmentation.py).

`python benchmarks/mirror_log_prob_gap.py runs/NAME/snapshots/model_0005005k.pt [--envs 64] [--steps 60]`

It runs the policy on a few characters of the run's own task for a while, samples its actions, and compares
each sample's log-probability with its mirror image's, under the same policy: rsl-rl's augmentation gives the
image its original's as the old log-probability, so the difference is the image's log PPO ratio before the
first gradient step. Prints their spread and the share of images whose ratio is already outside the clip
range (PPOConfig.clip_param), and how far the mean action of an image is from the image of the mean action,
in units of the action noise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy.config import TrainConfig  # noqa: E402
from policy.mirror_augmentation import augment  # noqa: E402
from policy.paths import DEFAULT_CLIP  # noqa: E402
from policy.train import Trainer, load_checkpoint  # noqa: E402


def mirror_log_prob_gap(checkpoint: Path, clip: Path = DEFAULT_CLIP, envs: int = 64, steps: int = 60,
                        out: Path = Path("/tmp/mirror_log_prob_gap"), mirror=augment) -> dict[str, float]:
    state = load_checkpoint(checkpoint)
    cfg = TrainConfig.from_dict(state["config"])
    cfg.env.num_envs, cfg.env.num_variants, cfg.env.nthread = envs, 8, 1
    trainer = Trainer(cfg, clip, out)
    trainer.alg.load(state, None, strict=True)
    actor, obs, seen, actions, log_probs = trainer.alg.actor, trainer.obs, [], [], []
    with torch.inference_mode():
        for _ in range(steps):
            action = actor(obs, stochastic_output=True)
            seen.append(obs)
            actions.append(action)
            log_probs.append(actor.get_output_log_prob(action))
            obs = trainer.observation_dict(trainer.env.step(trainer.env.actions_in(action))[0])
        n = envs * steps
        both_obs, both_actions = mirror(obs=torch.cat(seen), actions=torch.cat(actions))
        actor(both_obs, stochastic_output=True)
        mean, std = actor.output_distribution_params[:2]
        gap = actor.get_output_log_prob(both_actions)[n:] - torch.cat(log_probs)
        _, image_of_mean = mirror(actions=mean[:n])
        asymmetry = ((mean[n:] - image_of_mean[n:]) / std[n:]).abs()
    clip_param = cfg.ppo.clip_param
    return {"samples": n, "log_ratio_mean": float(gap.mean()), "log_ratio_std": float(gap.std()),
            "outside_clip": float(((gap.exp() - 1).abs() > clip_param).float().mean()),
            "mean_asymmetry_in_std": float(asymmetry.mean()), "action_std": float(std.mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a run's checkpoint or snapshot")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60, help="control steps (30 per second)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    gap = mirror_log_prob_gap(args.checkpoint, args.clip, args.envs, args.steps)
    print(f"{args.checkpoint}: {gap['samples']} samples; log ratio of the mirror images before any step "
          f"{gap['log_ratio_mean']:+.3f} +/- {gap['log_ratio_std']:.3f}, {100 * gap['outside_clip']:.1f}% outside "
          f"the clip range; mean action of an image off the image of the mean by {gap['mean_asymmetry_in_std']:.3f} "
          f"action noise on average (noise {gap['action_std']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
