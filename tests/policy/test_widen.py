"""Widening a trained policy's networks keeps what it does, and a run continues from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from blender_backflip.core.errors import BackflipError
from policy.train import load_checkpoint, train
from policy.widen import widen_model
from tests.policy.conftest import tiny_config


def mlp_state(dims: list[int], seed: int) -> dict:
    torch.manual_seed(seed)
    state = {"obs_normalizer._mean": torch.randn(1, dims[0]), "obs_normalizer._std": torch.rand(1, dims[0]) + 0.5}
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        state[f"mlp.{2 * k}.weight"] = torch.randn(b, a) / a**0.5
        state[f"mlp.{2 * k}.bias"] = torch.randn(b)
    return state


def forward(state: dict, obs: torch.Tensor) -> torch.Tensor:
    x = (obs - state["obs_normalizer._mean"]) / state["obs_normalizer._std"]
    layers = sorted(int(k.split(".")[1]) for k in state if k.endswith(".weight"))
    for i in layers:
        x = x @ state[f"mlp.{i}.weight"].T + state[f"mlp.{i}.bias"]
        if i != layers[-1]:
            x = torch.nn.functional.elu(x)
    return x


def test_a_widened_network_computes_what_its_parent_did() -> None:
    parent, fresh = mlp_state([10, 16, 8, 4], seed=0), mlp_state([10, 32, 24, 4], seed=1)
    wide = widen_model(parent, fresh)
    assert wide["mlp.0.weight"].shape == (32, 10) and wide["mlp.4.weight"].shape == (4, 24)
    obs = torch.randn(64, 10) * 3
    assert torch.allclose(forward(wide, obs), forward(parent, obs), atol=1e-5)
    assert torch.equal(wide["mlp.2.weight"][8:], fresh["mlp.2.weight"][8:])  # new units can learn from the start
    assert torch.equal(wide["obs_normalizer._mean"], parent["obs_normalizer._mean"])


def test_a_narrower_or_deeper_network_is_refused() -> None:
    parent = mlp_state([10, 16, 8, 4], seed=0)
    with pytest.raises(BackflipError, match="at least the parent's"):
        widen_model(parent, mlp_state([10, 12, 8, 4], seed=1))
    with pytest.raises(BackflipError, match="keeps the number of layers"):
        widen_model(parent, mlp_state([10, 16, 8, 8, 4], seed=1))


def test_init_from_into_wider_networks_trains_on(tiny_run: Path, clip_path: Path, tmp_path: Path) -> None:
    cfg = tiny_config()
    cfg.ppo.hidden_dims = (24, 20)
    parent = load_checkpoint(tiny_run / "checkpoint.pt")
    trainer = train(cfg, tmp_path / "wide", clip_path, "cpu", resume=False, minutes=None, iterations=0, quiet=True,
                    init_from=tiny_run / "checkpoint.pt")
    obs = torch.randn(16, parent["actor_state_dict"]["mlp.0.weight"].shape[1])
    actor = trainer.alg.get_policy()
    assert actor.mlp[0].weight.shape == (24, obs.shape[1])
    parent_actor = {k: v for k, v in parent["actor_state_dict"].items() if k.startswith(("mlp.", "obs_normalizer._"))}
    with torch.no_grad():
        assert torch.allclose(forward(dict(actor.state_dict()), obs), forward(parent_actor, obs), atol=1e-5)
    train(cfg, tmp_path / "wide", clip_path, "cpu", resume=True, minutes=None, iterations=1, quiet=True)
    state = load_checkpoint(tmp_path / "wide" / "checkpoint.pt")
    assert state["actor_state_dict"]["mlp.2.weight"].shape == (20, 24)
    assert state["iteration"] == parent["iteration"] + 1
