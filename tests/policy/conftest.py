"""Fixtures of the trainer tests: a clip file (the real one when ../shared has it, else the synthetic one) and a
tiny trained checkpoint, made once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy.config import TrainConfig
from policy.train import load_checkpoint, main, train
from tests.core.conftest import BACKFLIP_PATH, synthetic_backflip_dict


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if BACKFLIP_PATH.exists():
        return BACKFLIP_PATH
    path = tmp_path_factory.mktemp("clip") / "synthetic_backflip.txt"
    path.write_text(json.dumps(synthetic_backflip_dict()))
    return path


def tiny_config() -> TrainConfig:
    cfg = TrainConfig(seed=3)
    cfg.env.num_envs, cfg.env.num_variants, cfg.env.nthread = 8, 3, 1
    cfg.ppo.hidden_dims, cfg.ppo.num_steps_per_env = (16, 16), 8
    return cfg


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, clip_path: Path) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(tiny_config(), out, clip_path, "cpu", resume=False, minutes=None, iterations=2, quiet=True)
    return out


def tiny_cli_run(out: Path, clip: Path, *flags: str) -> dict:
    """Train one tiny iteration through the command line (`python -m policy.train ... FLAGS`) and return the
    checkpoint it wrote."""
    assert main(["--out", str(out), "--clip", str(clip), "--tiny", "--iterations", "1", "--quiet", *flags]) == 0
    return load_checkpoint(out / "checkpoint.pt")
