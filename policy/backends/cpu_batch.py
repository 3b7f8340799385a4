"""The CPU backend: `mujoco.batch.Batch` on all cores, numpy float64 arrays that are live views of its state."""

from __future__ import annotations

import os
from typing import Sequence

import mujoco
import mujoco.batch
import numpy as np

from blender_backflip.core.xp import NUMPY


class BatchBackend:
    xp = NUMPY
    device = "cpu"

    def __init__(self, model: mujoco.MjModel, num_envs: int, nthread: int = 0):
        self.num_envs = num_envs
        self.batch = mujoco.batch.Batch(model, num_envs, nthread=nthread or os.cpu_count() or 1, persistent=True)
        self.qpos = self.batch.bind("qpos")
        self.qvel = self.batch.bind("qvel")
        self.ctrl = self.batch.bind("ctrl")
        self.xfrc_applied = self.batch.bind("xfrc_applied")
        self.xpos = self.batch.bind("xpos")
        self.geom_xpos = self.batch.bind("geom_xpos")
        self.geom_xmat = self.batch.bind("geom_xmat")
        self.subtree_com = self.batch.bind("subtree_com")
        self._pool: list[mujoco.MjModel] = [model]
        self._world_variant = np.zeros(num_envs, dtype=np.int64)

    def set_pool(self, models: Sequence[mujoco.MjModel]) -> None:
        self._pool = list(models)

    def set_variants(self, ids: np.ndarray, variant_ids: np.ndarray) -> None:
        self._world_variant[ids] = variant_ids
        self.batch.set_models([self._pool[i] for i in self._world_variant])

    def reset(self, ids: np.ndarray, qpos: np.ndarray, qvel: np.ndarray) -> None:
        self.batch.reset(ids=ids, stage=mujoco.mjtStage.mjSTAGE_NONE)
        self.qpos[ids] = qpos
        self.qvel[ids] = qvel
        self.batch.forward(ids=ids, stage=mujoco.mjtStage.mjSTAGE_POS)

    def step(self, nstep: int) -> None:
        self.batch.step(nstep=nstep, stage=mujoco.mjtStage.mjSTAGE_POS)

    def synchronize(self) -> None:
        pass
