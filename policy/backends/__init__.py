"""Stepping backends: many worlds of one character topology, each world on a body variant of a pool.

Two implementations behind one interface, so the imitation task (policy/env.py) is written once:

- "batch" (cpu_batch.BatchBackend): MuJoCo's threaded CPU batch (`mujoco.batch.Batch`, threads = cores);
  arrays are numpy float64, live views of the batch's state.
- "warp" (warp_gpu.WarpBackend): MuJoCo Warp, on CUDA (or on Warp's CPU device, slowly, for tests); arrays
  are torch float32 tensors that are zero-copy views of Warp's device memory (no host copies).

Every backend exposes:

- `xp`: the array namespace of its arrays (blender_backflip.core.xp), `device` (torch device string or "cpu").
- `set_pool(models)`: the body variants, compiled MjModels of one spec with different parameters.
- `set_variants(ids, variant_ids)`: worlds `ids` simulate pool bodies `variant_ids` from now on.
- `reset(ids, qpos, qvel)`: clear those worlds (controls, forces, warm starts) and set their state; positions
  and centre-of-mass quantities are then current.
- `ctrl`, `xfrc_applied`: writable (nworld, nu) and (nworld, nbody, 6) arrays.
- `step(nstep)`: nstep physics steps of every world; afterwards the position-dependent quantities below
  describe the new state (not, as after mj_step, the state before the last substep).
- `qpos`, `qvel`, `xpos`, `geom_xpos`, `geom_xmat` (nworld, ngeom, 9), `subtree_com`: readable arrays.
- `synchronize()`: wait for queued device work (for timing only; ordering with torch is implicit).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import mujoco

from blender_backflip.core.errors import BackflipError

BACKENDS = ("batch", "warp")


class Backend(Protocol):
    xp: Any
    device: str
    num_envs: int
    ctrl: Any
    xfrc_applied: Any
    qpos: Any
    qvel: Any
    xpos: Any
    geom_xpos: Any
    geom_xmat: Any
    subtree_com: Any

    def set_pool(self, models: Sequence[mujoco.MjModel]) -> None: ...

    def set_variants(self, ids: Any, variant_ids: Any) -> None: ...

    def reset(self, ids: Any, qpos: Any, qvel: Any) -> None: ...

    def step(self, nstep: int) -> None: ...

    def synchronize(self) -> None: ...


def default_backend(device: str) -> str:
    """The backend a torch device implies: MuJoCo Warp on CUDA, the CPU batch otherwise."""
    return "warp" if device.startswith("cuda") else "batch"


def make_backend(name: str, model: mujoco.MjModel, num_envs: int, device: str = "cpu", nthread: int = 0) -> Backend:
    """A backend of `num_envs` worlds of `model`'s topology; device is a torch device for "warp"."""
    if name == "batch":
        if device != "cpu":
            raise BackflipError(f"The MuJoCo batch backend runs on the CPU, not on '{device}'. Use --backend warp "
                                f"for a GPU, or --device cpu.")
        from .cpu_batch import BatchBackend

        return BatchBackend(model, num_envs, nthread=nthread)
    if name == "warp":
        try:
            from .warp_gpu import WarpBackend
        except ImportError as exc:
            raise BackflipError(f"The warp backend needs MuJoCo Warp ({exc.name} is missing): "
                                f"pip install -e '.[gpu]'.") from exc
        return WarpBackend(model, num_envs, device=device)
    raise BackflipError(f"Unknown backend '{name}'. Use one of: {', '.join(BACKENDS)}.")
