"""benchmarks/time_to_bar.py: the snapshots a run had by a given training time, averaged and measured against the bar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import time_to_bar
from policy import train
from policy.config import TrainConfig

from .conftest import tiny_config


def group(success: float, tracking: float, feet: float) -> dict:
    return {"success_rate": success, "tracking_error_cm": tracking, "max_foot_penetration_cm": feet}


def test_the_bar_of_each_group() -> None:
    assert time_to_bar.meets_bar("canonical", group(0.98, 5.0, 2.0))
    assert not time_to_bar.meets_bar("canonical", group(0.975, 4.0, 1.0))
    assert time_to_bar.meets_bar("variants", group(0.95, 4.9, 1.9))
    assert not time_to_bar.meets_bar("variants", group(1.0, 5.01, 1.0))
    assert not time_to_bar.meets_bar("variants", group(1.0, 4.0, 2.01))


def test_measures_the_snapshots_kept_by_that_time(tmp_path: Path, clip_path: Path) -> None:
    cfg: TrainConfig = tiny_config()
    cfg.ppo.num_steps_per_env = 128  # 1024 samples an iteration: one snapshot (named in thousands) each
    cfg.snapshot_every_samples = 1000
    run = tmp_path / "run"
    train.train(cfg, run, clip_path, "cpu", resume=False, minutes=None, iterations=3, quiet=True)
    out = tmp_path / "rows.json"
    assert time_to_bar.main([str(run), "--minutes", "60", "--average", "2", "--episodes", "1", "--workers", "1",
                             "--json", str(out)]) == 0
    [row] = json.loads(out.read_text())
    assert row["samples"] == 3072
    assert row["snapshots"] == ["model_0000002k.pt", "model_0000003k.pt"]
    for name in ("canonical", "variants"):
        assert not row[name]["meets_bar"]  # three tiny iterations cannot land a flip
        assert 0.0 <= row[name]["success_rate"] <= 1.0 and row[name]["tracking_error_cm"] > 0.0
    assert time_to_bar.main([str(run), "--million-samples", "0.0025", "--average", "1", "--episodes", "1",
                             "--workers", "1", "--json", str(out)]) == 0
    [row] = json.loads(out.read_text())
    assert (row["samples"], row["snapshots"]) == (2048, ["model_0000002k.pt"])  # the last kept by 2,500 samples
    with pytest.raises(SystemExit, match="no iteration within"):
        time_to_bar.measure(run, time_to_bar.kept_snapshots(run), 0.0, 1, 1, 0, 1)
    with pytest.raises(SystemExit, match="no iteration within 0.0005M samples"):
        time_to_bar.measure(run, time_to_bar.kept_snapshots(run), None, 1, 1, 0, 1, samples=500)
