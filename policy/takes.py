"""Pick the takes of earlier training stages (the comic failed attempts) from a run's snapshots, by measured
behaviour, and export them beside the final policy.

`python -m policy.takes runs/flip --episodes 20 --out blender_backflip/assets`
`python -m policy.takes --remeasure blender_backflip/assets --episodes 20`: re-measure the bundled takes in
the current physics (after a change to it) and rewrite their measured figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.judge import PITCH_TARGET_DEG, PITCH_TOLERANCE_DEG
from blender_backflip.core.policy_file import core_metadata, read_policy_unchecked, save_policy

from .evaluate import evaluate
from .export import evaluate_checkpoint, policy_from_checkpoint, trained_clip
from .train import load_checkpoint

TAKES = {
    "fall": "falls during the flip: does not come round far enough and lands on its back or its front",
    "bad_landing": "comes round and touches down, then stumbles (backwards, or onto its knees and hands) and falls",
    "almost": "lands the flip some of the time; the rest it over- or under-rotates and falls",
}


def classify(canonical: dict) -> str | None:
    """Which take a snapshot's canonical episodes look like, or None if it fits none."""
    episodes = canonical["episodes"]
    rate = canonical["success_rate"]
    turn = float(np.median([abs(e["pitch_deg"]) for e in episodes]))
    if 0.2 <= rate < 0.9:
        return "almost"
    # Short of the landing window it never had its feet under it: a fall. Round to it or past it: it touched
    # down and lost the landing.
    short = turn < abs(PITCH_TARGET_DEG) - PITCH_TOLERANCE_DEG
    if rate < 0.2:
        return "fall" if short else "bad_landing"
    return None


def pick(take: str, fits: list[dict]) -> dict:
    """The snapshot for a take among those that behave like it: for 'almost' the one nearest a coin flip (a
    near miss about every other seed), otherwise the latest (the most polished version of that failure)."""
    if take == "almost":
        return min(fits, key=lambda r: (abs(r["success_rate"] - 0.5), -r["samples"]))
    return fits[-1]


def measure_snapshots(run: Path, clip: Path | None, episodes: int) -> list[dict]:
    rows = []
    for snap in sorted((run / "snapshots").glob("model_*.pt")):
        state = load_checkpoint(snap)
        c = evaluate_checkpoint(state, episodes, workers=2, groups=("canonical",), clip=clip)["canonical"]
        row = {"snapshot": snap.name, "samples": state["samples"], "success_rate": c["success_rate"],
               "median_turn_deg": float(np.median([e["pitch_deg"] for e in c["episodes"]])),
               "take": classify(c)}
        print(json.dumps(row))
        rows.append(row)
    return rows


def remeasure(folder: Path, episodes: int) -> list[dict]:
    """Evaluate each take file in `folder` in the current physics and rewrite its measured figures in place.

    A take is a snapshot of a finished training stage: its weights stay, its label follows what it does now.
    The file's previous physics settings are kept under "remeasured_from" so the history stays readable.
    """
    rows = []
    for take in TAKES:
        path = folder / f"backflip_{take}.npz"
        if not path.is_file():
            print(f"no take file {path}; skipped")
            continue
        policy = read_policy_unchecked(path)
        core = core_metadata()
        before = {k: policy.metadata.get(k) for k in core if policy.metadata.get(k) != core[k]}
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "p.npz"
            save_policy(probe, policy)
            result = evaluate(str(probe), episodes, workers=2, groups=("canonical",))
        c = result["canonical"]
        behaves_like = classify(c)
        row = {"take": take, "success_rate": c["success_rate"],
               "median_turn_deg": float(np.median([e["pitch_deg"] for e in c["episodes"]])),
               "behaves_like": behaves_like}
        policy.metadata.update({"measured_success": {"canonical": row["success_rate"]}, "measured_episodes": episodes,
                                "median_turn_deg": row["median_turn_deg"], "description": TAKES[take]})
        if before:
            policy.metadata["remeasured_from"] = before
        save_policy(path, policy)
        note = "" if behaves_like == take else f" (now behaves like '{behaves_like}')"
        print(f"take '{take}': {100 * row['success_rate']:.0f}% landed, "
              f"median turn {row['median_turn_deg']:.0f} deg{note}")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.takes", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", help="run folder whose snapshots/ to choose from")
    parser.add_argument("--remeasure", type=Path, metavar="FOLDER",
                        help="re-measure the take files in FOLDER in the current physics instead")
    parser.add_argument("--out", type=Path, default=Path("blender_backflip/assets"))
    parser.add_argument("--only", nargs="+", choices=list(TAKES), help="export only these takes")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--clip", type=Path, default=None,
                        help="the clip the run was trained on (default: the one its snapshots record)")
    args = parser.parse_args(argv)
    try:
        if args.remeasure:
            remeasure(args.remeasure, args.episodes)
            return 0
        if args.run is None:
            raise BackflipError("Give a run folder (e.g. runs/flip) or --remeasure FOLDER.")
        rows = measure_snapshots(args.run, args.clip, args.episodes)
        args.out.mkdir(parents=True, exist_ok=True)
        for take in args.only or list(TAKES):
            description = TAKES[take]
            fits = [r for r in rows if r["take"] == take]
            if not fits:
                print(f"no snapshot behaves like take '{take}' yet")
                continue
            row = pick(take, fits)
            state = load_checkpoint(args.run / "snapshots" / row["snapshot"])
            meta = {"take": take, "description": description,
                    "measured_success": {"canonical": row["success_rate"]},
                    "measured_episodes": args.episodes, "median_turn_deg": row["median_turn_deg"]}
            save_policy(args.out / f"backflip_{take}.npz",
                        policy_from_checkpoint(state, trained_clip(state, args.clip), meta))
            print(f"take '{take}': {row['snapshot']} ({row['samples']:,} samples, "
                  f"{100 * row['success_rate']:.0f}% landed, median turn {row['median_turn_deg']:.0f} deg)")
        record = args.out / "takes.json"  # every snapshot measured, from every run, for the record
        earlier = json.loads(record.read_text()) if record.is_file() else []
        new = [{"run": args.run.name, **r} for r in rows]
        keys = {(r["run"], r["snapshot"]) for r in new}
        record.write_text(json.dumps([r for r in earlier if (r.get("run"), r["snapshot"]) not in keys] + new, indent=1))
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
