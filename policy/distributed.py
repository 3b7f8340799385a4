"""Data-parallel training over several processes, started by torch's own launcher (torchrun).

`torchrun --nproc_per_node=N -m policy.train --device cuda --out runs/NAME`: each process steps its own
characters on its own GPU (cuda:LOCAL_RANK); rsl-rl-lib's PPO averages the gradients and the observation
statistics across processes, so every process holds the same networks. Process 0 alone writes the run folder.
On --device cpu the same code runs over the gloo backend (how the tests check it on a machine without GPUs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from blender_backflip.core.errors import BackflipError


@dataclass(frozen=True)
class Dist:
    rank: int
    local_rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, device: str) -> str:
        """This process's device: cuda:LOCAL_RANK for cuda, the CPU otherwise."""
        return f"cuda:{self.local_rank}" if device == "cuda" else device

    def rsl_rl_cfg(self) -> dict:
        return {"global_rank": self.rank, "local_rank": self.local_rank, "world_size": self.world_size}

    def any(self, flag: bool) -> bool:
        """True on every process when it is true on any (so all stop at the same iteration)."""
        t = torch.tensor([1.0 if flag else 0.0], device=self._collective_device())
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item() > 0.0)

    def _collective_device(self) -> str:
        return f"cuda:{self.local_rank}" if torch.distributed.get_backend() == "nccl" else "cpu"


def from_environment(device: str) -> Dist | None:
    """The process group torchrun describes in WORLD_SIZE, RANK and LOCAL_RANK, joined; None when run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    try:
        rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", os.environ["RANK"]))
    except (KeyError, ValueError) as exc:
        raise BackflipError("WORLD_SIZE is set but RANK is missing or not a number; start several processes with "
                            "torchrun --nproc_per_node=N -m policy.train ...") from exc
    if device == "cuda":
        if local >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise BackflipError(f"Process {local} of this machine needs cuda:{local}, but torch sees "
                                f"{count} GPU(s); use --nproc_per_node={count}.")
        torch.cuda.set_device(local)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device == "cuda" else "gloo")
    return Dist(rank, local, world)


def leave(dist: Dist | None) -> None:
    if dist is not None and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
