"""Export a training checkpoint as a policy file the add-on runs without torch.

`python -m policy.export CHECKPOINT --out blender_backflip/assets/NAME.npz [--take final --description "..."]`
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.policy_file import PolicyFile, load_policy, save_policy

from .paths import DEFAULT_CLIP
from .train import load_checkpoint
from .widen import mlp_layers


def policy_from_checkpoint(state: dict, clip: Path, metadata: dict | None = None) -> PolicyFile:
    actor = state["actor_state_dict"]
    layers = mlp_layers(actor)
    weights = [actor[f"mlp.{i}.weight"].detach().cpu().numpy() for i in layers]
    biases = [actor[f"mlp.{i}.bias"].detach().cpu().numpy() for i in layers]
    mean = actor["obs_normalizer._mean"].detach().cpu().numpy().reshape(-1)
    std = actor["obs_normalizer._std"].detach().cpu().numpy().reshape(-1)
    cfg = state.get("config", {})
    meta = {
        "take": "final",
        "description": "",
        "training_samples": int(state.get("samples", 0)),
        "training_wall_s": float(state.get("wall_s", 0.0)),
        "training_iteration": int(state.get("iteration", 0)),
        "hidden_dims": list(cfg.get("ppo", {}).get("hidden_dims", [])),
        "reference_flight": cfg.get("env", {}).get("reference_flight", "clip"),
        "reference_feet": cfg.get("env", {}).get("reference_feet", "clip"),
        **(metadata or {}),
    }
    return PolicyFile(weights, biases, mean, std, 1e-2, load_deepmimic(clip, loop="clamp"), meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.export", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="policy file to write (.npz)")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the clip the policy was trained on")
    parser.add_argument("--take", default="final", help="take name shown in the add-on")
    parser.add_argument("--description", default="", help="one line on what this take does")
    parser.add_argument("--evaluation", type=Path, help="evaluation JSON whose success rates go in the metadata")
    args = parser.parse_args(argv)
    try:
        extra = {"take": args.take, "description": args.description}
        if args.evaluation:
            ev = json.loads(args.evaluation.read_text())
            extra["measured_success"] = {k: ev[k]["success_rate"] for k in ("canonical", "variants") if k in ev}
        policy = policy_from_checkpoint(load_checkpoint(args.checkpoint), args.clip, extra)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_policy(args.out, policy)
        load_policy(args.out)  # what we wrote must load
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {policy.metadata['training_samples']:,} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
