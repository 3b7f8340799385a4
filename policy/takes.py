"""Pick the takes of earlier training stages (the comic failed attempts) from a run's snapshots, by measured
behaviour, and export them beside the final policy.

`python -m policy.takes runs/flip --episodes 20 --out blender_backflip/assets`
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.judge import PITCH_TARGET_DEG
from blender_backflip.core.policy_file import save_policy

from .evaluate import evaluate
from .export import policy_from_checkpoint
from .paths import DEFAULT_CLIP
from .train import load_checkpoint

TAKES = {
    "fall": "falls during the flip: does not turn over far enough and lands on its back",
    "bad_landing": "turns most of the way round, then lands on its knees or hands and stumbles",
    "almost": "lands the flip some of the time; the rest it over- or under-rotates and falls",
}


def classify(canonical: dict) -> str | None:
    """Which take a snapshot's canonical episodes look like, or None if it fits none."""
    episodes = canonical["episodes"]
    rate = canonical["success_rate"]
    turn = float(np.median([abs(e["pitch_deg"]) for e in episodes]))
    if 0.2 <= rate < 0.9:
        return "almost"
    if rate < 0.2 and turn >= abs(PITCH_TARGET_DEG) - 120:
        return "bad_landing"
    if rate < 0.2 and turn < abs(PITCH_TARGET_DEG) - 120:
        return "fall"
    return None


def measure_snapshots(run: Path, clip: Path, episodes: int) -> list[dict]:
    rows = []
    for snap in sorted((run / "snapshots").glob("model_*.pt")):
        state = load_checkpoint(snap)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "p.npz"
            save_policy(path, policy_from_checkpoint(state, clip))
            result = evaluate(str(path), episodes, workers=2, groups=("canonical",))
        c = result["canonical"]
        row = {"snapshot": snap.name, "samples": state["samples"], "success_rate": c["success_rate"],
               "median_turn_deg": float(np.median([e["pitch_deg"] for e in c["episodes"]])),
               "take": classify(c)}
        print(json.dumps(row))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.takes", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("blender_backflip/assets"))
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    args = parser.parse_args(argv)
    try:
        rows = measure_snapshots(args.run, args.clip, args.episodes)
        for take, description in TAKES.items():
            # the latest snapshot that shows this behaviour: the most polished version of that failure
            fits = [r for r in rows if r["take"] == take]
            if not fits:
                print(f"no snapshot behaves like take '{take}' yet")
                continue
            row = fits[-1]
            state = load_checkpoint(args.run / "snapshots" / row["snapshot"])
            meta = {"take": take, "description": description,
                    "measured_success": {"canonical": row["success_rate"]},
                    "measured_episodes": args.episodes, "median_turn_deg": row["median_turn_deg"]}
            save_policy(args.out / f"backflip_{take}.npz", policy_from_checkpoint(state, args.clip, meta))
            print(f"take '{take}': {row['snapshot']} ({row['samples']:,} samples, "
                  f"{100 * row['success_rate']:.0f}% landed, median turn {row['median_turn_deg']:.0f} deg)")
        (args.out / "takes.json").write_text(json.dumps(rows, indent=1))
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
