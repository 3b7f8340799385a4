"""Data-parallel training (torchrun; gloo on the CPU here, NCCL on GPUs): every process ends with the same
networks, each process simulates its own bodies, and process 0 alone writes the run folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from policy.distributed import from_environment, leave
from policy.train import load_checkpoint, train
from tests.policy.conftest import tiny_config

ITERATIONS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, world: int, port: int, clip: str, out: str, report: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
                      LOCAL_RANK=str(rank))
    dist = from_environment("cpu")
    try:
        trainer = train(tiny_config(), Path(out), Path(clip), "cpu", resume=False, minutes=None,
                        iterations=ITERATIONS, quiet=True, dist=dist)
        torch.save({"actor": trainer.alg.actor.state_dict(), "bodies": torch.as_tensor(trainer.env.variant_params),
                    "samples": trainer.samples}, Path(report) / f"rank{rank}.pt")
    finally:
        leave(dist)


def test_two_processes_train_one_policy(clip_path: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "run", tmp_path / "report"
    report.mkdir()
    mp.spawn(_rank, args=(2, _free_port(), str(clip_path), str(out), str(report)), nprocs=2, join=True)
    r0, r1 = (torch.load(report / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert r0["actor"].keys() == r1["actor"].keys()
    for key in r0["actor"]:  # weights and observation statistics agree after two updates
        torch.testing.assert_close(r0["actor"][key], r1["actor"][key], rtol=1e-6, atol=1e-7, msg=key)
    assert not torch.allclose(r0["bodies"], r1["bodies"])  # each process simulates its own bodies
    cfg = tiny_config()
    per_rank = ITERATIONS * cfg.env.num_envs * cfg.ppo.num_steps_per_env
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["samples"] == r0["samples"] == 2 * per_rank
    assert len((out / "log.csv").read_text().strip().splitlines()) == 1 + ITERATIONS  # one writer


def test_torchrun_launches_the_trainer(clip_path: Path, tmp_path: Path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    out = tmp_path / "run"
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "policy.train", "--device",
                           "cpu", "--tiny", "--iterations", "1", "--quiet", "--clip", str(clip_path), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2],
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert load_checkpoint(out / "checkpoint.pt")["samples"] == 2 * 16 * 8  # --tiny: 16 envs x 8 steps, twice
