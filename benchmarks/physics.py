"""Physics steps per second of the canonical character: one thread (mj_step) and mujoco.batch.Batch on all cores.

Two loads: "stand" holds the rest pose (ctrl = 0); "random" draws new PD targets (rest +/- 0.5 rad) every
control step, so the body stumbles and falls and the contact count varies as it does in training. Worlds are
reset every 2 simulated seconds, like episodes. Run from the repository root:

    python benchmarks/physics.py --seconds 3 --nsim 256
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import mujoco
import mujoco.batch
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blender_backflip.core import rates  # noqa: E402
from blender_backflip.core.character import build_character  # noqa: E402
from blender_backflip.core.skeleton import CANONICAL  # noqa: E402

EPISODE_STEPS = int(round(2.0 / rates.PHYSICS_DT))


def _targets(rng: np.random.Generator, load: str, shape: tuple[int, ...]) -> np.ndarray:
    if load == "stand":
        return np.zeros(shape)
    return rng.uniform(-0.5, 0.5, size=shape)


def bench_single(model: mujoco.MjModel, load: str, seconds: float) -> float:
    """Physics steps/s of one world stepped with mujoco.mj_step on this thread."""
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        data.ctrl[:] = _targets(rng, load, (model.nu,))
        for _ in range(rates.SUBSTEPS):
            mujoco.mj_step(model, data)
        steps += rates.SUBSTEPS
        if steps % EPISODE_STEPS == 0:
            mujoco.mj_resetData(model, data)
    return steps / (time.perf_counter() - start)


def bench_batch(model: mujoco.MjModel, load: str, seconds: float, nsim: int, nthread: int) -> float:
    """Physics steps/s summed over nsim worlds of a mujoco.batch.Batch on nthread threads."""
    batch = mujoco.batch.Batch(model, nsim, nthread=nthread)
    ctrl = batch.bind("ctrl")
    qpos = batch.bind("qpos")
    rng = np.random.default_rng(0)
    batch.step(nstep=rates.SUBSTEPS)  # warm-up: threads started, arrays registered
    batch.reset()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        ctrl[:] = _targets(rng, load, (nsim, model.nu))
        batch.step(nstep=rates.SUBSTEPS)
        steps += rates.SUBSTEPS
        if steps % EPISODE_STEPS == 0:
            batch.reset()
    elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(qpos)):
        raise RuntimeError("a simulation diverged")
    return nsim * steps / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall-clock seconds per measurement (default 3)")
    parser.add_argument("--nsim", type=int, default=256, help="worlds in the batch (default 256)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads of the all-cores batch (default: os.cpu_count())")
    args = parser.parse_args(argv)

    model = build_character(CANONICAL).model
    rows = []
    for load in ("stand", "random"):
        rows.append(("mj_step", 1, 1, load, bench_single(model, load, args.seconds)))
        rows.append(("Batch", 1, args.nsim, load, bench_batch(model, load, args.seconds, args.nsim, 1)))
        if args.threads > 1:
            rows.append(("Batch", args.threads, args.nsim, load,
                         bench_batch(model, load, args.seconds, args.nsim, args.threads)))

    print(f"MuJoCo {mujoco.__version__}, canonical character ({model.nbody - 1} bodies, {model.nu} actuators), "
          f"dt 1/{rates.PHYSICS_HZ} s, control {rates.CONTROL_HZ} Hz ({rates.SUBSTEPS} physics steps), "
          f"{os.cpu_count()} CPUs, {args.seconds:g} s per row")
    header = f"{'backend':<8} {'threads':>7} {'worlds':>6} {'load':<7} {'physics steps/s':>16} " \
             f"{'control steps/s':>16} {'x real time':>12}"
    print(header)
    print("-" * len(header))
    for backend, threads, worlds, load, sps in rows:
        print(f"{backend:<8} {threads:>7} {worlds:>6} {load:<7} {sps:>16,.0f} {sps / rates.SUBSTEPS:>16,.0f} "
              f"{sps * rates.PHYSICS_DT:>12,.1f}")
    print("x real time: simulated seconds per wall-clock second, summed over the worlds.")


if __name__ == "__main__":
    main()
