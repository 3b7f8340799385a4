"""benchmarks/mirror_log_prob_gap.py: how far a policy's mirror images' PPO ratios start from 1."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tensordict import TensorDict

from benchmarks import mirror_log_prob_gap as gap


def _no_mirror(obs=None, actions=None, env=None):
    """An 'image' that is the sample itself, appended as the augmentation appends the real one."""
    both_obs = None if obs is None else TensorDict({k: torch.cat([obs[k], obs[k]]) for k in obs.keys()},
                                                   batch_size=[2 * obs.batch_size[0]])
    return both_obs, None if actions is None else torch.cat([actions, actions])


def test_the_gap_is_zero_for_the_sample_itself_and_not_for_its_mirror_image(tiny_run: Path, clip_path: Path,
                                                                             tmp_path: Path):
    same = gap.mirror_log_prob_gap(tiny_run / "checkpoint.pt", clip_path, envs=4, steps=5, out=tmp_path / "a",
                                   mirror=_no_mirror)
    assert same["samples"] == 20
    assert same["log_ratio_std"] == pytest.approx(0.0, abs=1e-5) and same["outside_clip"] == 0.0
    assert same["mean_asymmetry_in_std"] == pytest.approx(0.0, abs=1e-5)
    mirrored = gap.mirror_log_prob_gap(tiny_run / "checkpoint.pt", clip_path, envs=4, steps=5, out=tmp_path / "b")
    assert mirrored["log_ratio_std"] > 1e-3 and mirrored["mean_asymmetry_in_std"] > 1e-4
    assert 0.0 <= mirrored["outside_clip"] <= 1.0
