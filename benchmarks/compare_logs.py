"""Training runs side by side at equal samples, from their log.csv files alone (no evaluation, no CPU to speak of).

`python benchmarks/compare_logs.py runs/a/log.csv runs/b/log.csv [--million-samples 2 3 3.5 5] [--window 0.25]`

For each sample count and run it averages the logged iterations within `--window` million samples of it:
standing starts that landed and stood (`success_from_standing`), the mean body distance from the reference in
training (with the action noise, so above what the evaluator measures on the mean action) and the action
noise. Runs made on machines of other speeds compare fairly this way; `time_to_bar.py` measures the policies.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

DEFAULT_MARKS = (1.0, 2.0, 2.5, 3.0, 3.5, 5.0, 8.5, 11.5, 14.0, 17.0)


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def read_log(log: Path) -> list[dict[str, str]]:
    with open(log, newline="") as handle:
        return list(csv.DictReader(handle))


def near(log_rows: list[dict[str, str]], million_samples: float, window: float) -> dict[str, float] | None:
    """Averages of the iterations logged within `window` million samples of `million_samples`; None if none."""
    rows = [r for r in log_rows if abs(float(r["samples"]) / 1e6 - million_samples) <= window]
    if not rows:
        return None
    return {"success_from_standing": _mean([float(r["success_from_standing"] or "nan") for r in rows]),
            "body_error_cm": 100 * _mean([float(r["mean_body_error_m"]) for r in rows]),
            "action_std": _mean([float(r["action_std"]) for r in rows])}


def run_name(log: Path) -> str:
    return log.parent.name or str(log)


def table(logs: list[Path], marks: list[float], window: float) -> list[str]:
    width = 30
    lines = ["samples " + "".join(f"{run_name(log):>{width}}" for log in logs)]
    rows = [read_log(log) for log in logs]
    for mark in marks:
        cells = []
        for log_rows in rows:
            at = near(log_rows, mark, window)
            cells.append("" if at is None else
                         f"{at['success_from_standing']:.2f} {at['body_error_cm']:5.1f} cm std {at['action_std']:.2f}")
        if any(cells):
            lines.append(f"{mark:>6g}M " + "".join(f"{c:>{width}}" for c in cells))
    lines.append("each cell: standing starts landed and stood, body error in training, action noise "
                 f"(iterations within {window:g}M samples, averaged)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+", type=Path, help="runs' log.csv files")
    parser.add_argument("--million-samples", type=float, nargs="+", default=list(DEFAULT_MARKS), metavar="M")
    parser.add_argument("--window", type=float, default=0.25, help="million samples either side (default 0.25)")
    args = parser.parse_args(argv)
    missing = [str(log) for log in args.logs if not log.is_file()]
    if missing:
        parser.error(f"no log file at {', '.join(missing)}: give each run's log.csv (runs/NAME/log.csv)")
    print("\n".join(table(args.logs, args.million_samples, args.window)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
