"""Averaging snapshots: the mean of the weights, the last snapshot's everything else, and it exports."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from blender_backflip.core.errors import BackflipError
from policy import average, export
from policy.train import load_checkpoint


def shifted(state: dict, by: float) -> dict:
    out = {**state}
    for key in ("actor_state_dict", "critic_state_dict"):
        out[key] = {k: (v + by if k.startswith("mlp.") else v.clone()) for k, v in state[key].items()}
    return out


def test_the_average_is_the_mean_of_the_weights_and_keeps_the_last_statistics(tiny_run: Path) -> None:
    base = load_checkpoint(tiny_run / "checkpoint.pt")
    a, b = shifted(base, 0.0), shifted(base, 1.0)
    b["actor_state_dict"]["obs_normalizer._mean"] = base["actor_state_dict"]["obs_normalizer._mean"] + 5.0
    mean = average.average_checkpoints([a, b])
    w = "mlp.0.weight"
    assert torch.allclose(mean["actor_state_dict"][w], base["actor_state_dict"][w] + 0.5)
    assert torch.allclose(mean["critic_state_dict"][w], base["critic_state_dict"][w] + 0.5)
    assert torch.equal(mean["actor_state_dict"]["obs_normalizer._mean"], b["actor_state_dict"]["obs_normalizer._mean"])
    assert mean["samples"] == b["samples"]


def test_snapshots_of_other_shapes_are_refused(tiny_run: Path) -> None:
    base = load_checkpoint(tiny_run / "checkpoint.pt")
    other = shifted(base, 0.0)
    other["actor_state_dict"]["mlp.0.weight"] = torch.zeros(3, 3)
    with pytest.raises(BackflipError, match="different network shapes"):
        average.average_checkpoints([base, other])


def test_the_cli_writes_a_checkpoint_that_exports(tiny_run: Path, clip_path: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    snap = tiny_run / "checkpoint.pt"
    out = tmp_path / "mean.pt"
    assert average.main([str(out), str(snap), str(snap)]) == 0
    assert load_checkpoint(out)["averaged_from"] == ["checkpoint.pt", "checkpoint.pt"]
    assert export.main([str(out), "--out", str(tmp_path / "mean.npz"), "--clip", str(clip_path)]) == 0
    assert average.main([str(tmp_path / "m2.pt"), str(tmp_path / "missing.pt")]) == 2
    assert "Checkpoint not found" in capsys.readouterr().err and not (tmp_path / "m2.pt").exists()
