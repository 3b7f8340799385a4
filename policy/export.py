"""Export a training checkpoint as a policy file the add-on runs without torch.

`python -m policy.export CHECKPOINT --out blender_backflip/assets/NAME.npz [--take final --description "..."]`
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.policy_file import CLIP_ATTRIBUTION, PolicyFile, load_policy, save_policy

from .evaluate import evaluate
from .paths import DEFAULT_CLIP
from .train import file_sha256, load_checkpoint
from .widen import mlp_layers


def trained_clip(state: dict, clip: Path | None = None) -> Path:
    """The clip a checkpoint was trained on: `clip` when given, else the one it records (checkpoints from before
    it recorded one: the default clip). A recorded clip that is missing or has changed is refused."""
    if clip is not None:
        return clip
    recorded = state.get("clip")
    if recorded is None:
        return DEFAULT_CLIP
    path = Path(recorded)
    if not path.is_file():
        raise BackflipError(f"The checkpoint was trained on the clip {path}, which is not there. Pass it with --clip.")
    if state.get("clip_sha256") and file_sha256(path) != state["clip_sha256"]:
        raise BackflipError(f"The clip {path} has changed since the checkpoint was trained on it. Pass the clip it "
                            "was trained on with --clip.")
    return path


def attribution(clip: Path) -> str:
    """Where the reference motion comes from: the DeepMimic clip's credit, or the animator's own clip by name."""
    if clip.name == DEFAULT_CLIP.name:
        return CLIP_ATTRIBUTION
    return f"Reference motion: {clip.name}, a clip of the user's own (not the DeepMimic backflip)."


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
        "clip_attribution": attribution(clip),
        **(metadata or {}),
    }
    return PolicyFile(weights, biases, mean, std, 1e-2, load_deepmimic(clip, loop="clamp"), meta)


def evaluate_checkpoint(state: dict, episodes: int, workers: int, groups: tuple[str, ...] = ("canonical", "variants"),
                        first_seed: int = 0, clip: Path | None = None) -> dict:
    """policy.evaluate's result for a checkpoint (a snapshot, an average), through a temporary policy file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.npz"
        save_policy(path, policy_from_checkpoint(state, trained_clip(state, clip)))
        return evaluate(str(path), episodes, workers, groups, first_seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.export", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="policy file to write (.npz)")
    parser.add_argument("--clip", type=Path, default=None,
                        help="the clip the policy was trained on (default: the one its checkpoint records)")
    parser.add_argument("--take", default="final", help="take name shown in the add-on")
    parser.add_argument("--description", default="", help="one line on what this take does")
    parser.add_argument("--evaluation", type=Path, help="evaluation JSON whose success rates go in the metadata")
    args = parser.parse_args(argv)
    try:
        extra = {"take": args.take, "description": args.description}
        if args.evaluation:
            ev = json.loads(args.evaluation.read_text())
            extra["measured_success"] = {k: ev[k]["success_rate"] for k in ("canonical", "variants") if k in ev}
        state = load_checkpoint(args.checkpoint)
        policy = policy_from_checkpoint(state, trained_clip(state, args.clip), extra)
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
