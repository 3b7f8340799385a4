"""benchmarks/compare_logs.py: training runs side by side at equal samples, from their logs."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from benchmarks import compare_logs
from policy.run_folder import CSV_FIELDS


def write_log(path: Path, rows: list[tuple[int, str, float, float]]) -> Path:
    """rows: (samples, success_from_standing as logged, mean_body_error_m, action_std)."""
    path.parent.mkdir(parents=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, restval="0")
        writer.writeheader()
        for samples, success, error, std in rows:
            writer.writerow({"samples": samples, "success_from_standing": success, "mean_body_error_m": error,
                             "action_std": std})
    return path


def test_averages_the_iterations_near_each_sample_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    fast = write_log(tmp_path / "fast" / "log.csv", [(1_900_000, "0.2", 0.10, 0.4), (2_100_000, "nan", 0.08, 0.3),
                                                      (3_000_000, "0.9", 0.05, 0.2)])
    slow = write_log(tmp_path / "slow" / "log.csv", [(2_000_000, "0.1", 0.20, 0.4)])
    at = compare_logs.near(compare_logs.read_log(fast), 2.0, 0.25)
    assert at["success_from_standing"] == pytest.approx(0.2)  # an iteration with no standing episode is skipped
    assert at["body_error_cm"] == pytest.approx(9.0) and at["action_std"] == pytest.approx(0.35)
    assert compare_logs.near(compare_logs.read_log(slow), 3.0, 0.25) is None
    young = compare_logs.read_log(write_log(tmp_path / "young" / "log.csv", [(10, "", 0.3, 0.5)]))
    assert math.isnan(compare_logs.near(young, 0.0, 0.25)["success_from_standing"])

    assert compare_logs.main([str(fast), str(slow), "--million-samples", "2", "3", "9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["samples", "fast", "slow"]
    assert lines[1].split() == ["2M", "0.20", "9.0", "cm", "std", "0.35", "0.10", "20.0", "cm", "std", "0.40"]
    assert lines[2].split() == ["3M", "0.90", "5.0", "cm", "std", "0.20"]
    assert not any(line.startswith("     9M") for line in lines)  # no run reached it


def test_a_missing_log_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as stop:
        compare_logs.main([str(tmp_path / "nowhere" / "log.csv")])
    assert stop.value.code == 2
    assert "no log file at" in capsys.readouterr().err
