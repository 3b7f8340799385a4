"""Where a training run stood against issue 4's bar after given minutes of training: the honest time-to-bar figure.

`python benchmarks/time_to_bar.py runs/NAME --minutes 20 45 90 [--average 4] [--episodes 200] [--first-seed 0]
[--workers 2] [--json out.json]`; `--million-samples 3.5 8.5` instead of `--minutes` compares runs made on
machines of other speeds.

For each time (or sample count) it takes the snapshots the run had kept by then (training minutes as the run's
log counts them: stepping, learning and building new bodies' references), averages the last `--average` of them
(policy.average), exports the result and evaluates it (policy.evaluate) on both body groups. A row says
whether each group meets the bar: landed >= 98% (canonical) / 95% (variants), tracking <= 5 cm, feet <= 2 cm.
Uses every core it is given; run it when no training shares them.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy.average import average_checkpoints  # noqa: E402
from policy.export import evaluate_checkpoint  # noqa: E402
from policy.train import load_checkpoint  # noqa: E402

LANDED = {"canonical": 0.98, "variants": 0.95}
TRACKING_CM = 5.0
FOOT_CM = 2.0


def meets_bar(group: str, result: dict) -> bool:
    return (result["success_rate"] >= LANDED[group] and result["tracking_error_cm"] <= TRACKING_CM
            and result["max_foot_penetration_cm"] <= FOOT_CM)


def samples_at(log: Path, minutes: float | None = None, samples: float | None = None) -> tuple[int, float]:
    """Samples and training minutes of the last logged iteration within `minutes` of training, or within
    `samples` samples (to compare runs made on machines of other speeds)."""
    rows = [(int(r["samples"]), float(r["wall_s"]) / 60) for r in csv.DictReader(open(log))]
    if samples is not None:
        within, limit = [r for r in rows if r[0] <= samples], f"{samples / 1e6:g}M samples"
    else:
        within, limit = [r for r in rows if r[1] <= minutes], f"{minutes:g} minutes of training"
    if not within:
        raise SystemExit(f"error: {log} has no iteration within {limit}.")
    return within[-1]


def kept_snapshots(run: Path) -> list[tuple[int, Path]]:
    """(samples, path) of each snapshot the run kept, oldest first."""
    return sorted((load_checkpoint(p)["samples"], p) for p in (run / "snapshots").glob("model_*.pt"))


def measure(run: Path, kept: list[tuple[int, Path]], minutes: float | None, average: int, episodes: int,
            first_seed: int, workers: int, samples: float | None = None) -> dict:
    samples, trained_minutes = samples_at(run / "log.csv", minutes, samples)
    chosen = [p for s, p in kept if s <= samples][-average:]
    if not chosen:
        raise SystemExit(f"error: {run}/snapshots has no snapshot of {samples} samples or fewer.")
    state = average_checkpoints([load_checkpoint(p) for p in chosen])
    result = evaluate_checkpoint(state, episodes, workers, first_seed=first_seed)
    row = {"minutes": round(trained_minutes, 1), "samples": int(state["samples"]),
           "snapshots": [p.name for p in chosen]}
    for group in ("canonical", "variants"):
        r = result[group]
        row[group] = {k: round(r[k], 4) for k in ("success_rate", "tracking_error_cm", "max_foot_penetration_cm")}
        row[group]["meets_bar"] = meets_bar(group, r)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder with log.csv and snapshots/")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--minutes", type=float, nargs="+", help="training minutes to measure at")
    when.add_argument("--million-samples", type=float, nargs="+", metavar="M",
                      help="or sample counts, in millions (to compare runs made on machines of other speeds)")
    parser.add_argument("--average", type=int, default=4, help="average this many of the latest snapshots")
    parser.add_argument("--episodes", type=int, default=200, help="episodes per body group")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    print(f"{'minutes':>7} {'samples':>9}  {'landed c/v %':>13} {'tracking c/v cm':>16} {'feet c/v cm':>12}  bar c/v")
    rows = []
    kept = kept_snapshots(args.run)
    points = [(m, None) for m in args.minutes or []] + [(None, m * 1e6) for m in args.million_samples or []]
    for minutes, samples in points:
        row = measure(args.run, kept, minutes, args.average, args.episodes, args.first_seed, args.workers, samples)
        c, v = row["canonical"], row["variants"]
        print(f"{row['minutes']:>7.1f} {row['samples'] / 1e6:>8.2f}M  "
              f"{100 * c['success_rate']:>6.1f}/{100 * v['success_rate']:<6.1f} "
              f"{c['tracking_error_cm']:>7.2f}/{v['tracking_error_cm']:<8.2f} "
              f"{c['max_foot_penetration_cm']:>5.2f}/{v['max_foot_penetration_cm']:<6.2f} "
              f"{'yes' if c['meets_bar'] else 'no'}/{'yes' if v['meets_bar'] else 'no'}", flush=True)
        rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
