"""End-to-end training throughput (samples/s) beside the simulation-only ceiling, measured in the same run.

`python benchmarks/train_throughput.py [--device cpu|cuda] [--backend batch|warp] [--iterations 10] [--num-envs 256]`

--device cuda steps the physics with MuJoCo Warp on the GPU (use e.g. --num-envs 4096 there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blender_backflip.core import rates  # noqa: E402
from blender_backflip.core.motion import load_deepmimic  # noqa: E402
from policy.config import TrainConfig  # noqa: E402
from policy.env import ImitationEnv  # noqa: E402
from policy.paths import DEFAULT_CLIP  # noqa: E402
from policy.train import Trainer, pick_backend, pick_device  # noqa: E402


def simulation_ceiling(env: ImitationEnv, steps: int) -> float:
    """Control steps/s of the physics alone (PD targets at the reference, no policy, no rewards)."""
    ctrl = env.ref_dof_pos[env.variant, env.frame]
    env.backend.step(rates.SUBSTEPS)  # warm up (CUDA graph capture)
    env.backend.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        env.backend.ctrl[:] = ctrl
        env.backend.step(rates.SUBSTEPS)
    env.backend.synchronize()
    return steps * env.num_envs / (time.perf_counter() - start)


def environment_rate(env: ImitationEnv, steps: int) -> float:
    """Control steps/s of the environment (physics, observations, rewards, resets), zero actions."""
    import torch

    action = env.actions_in(torch.zeros((env.num_envs, env.num_actions), device=env.device))
    env.step(action)
    env.backend.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        env.step(action)
    env.backend.synchronize()
    return steps * env.num_envs / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", help="batch or warp (default: batch on cpu, warp on cuda)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    args = parser.parse_args()
    device = pick_device(args.device)
    backend = pick_backend(args.backend, device)
    cfg = TrainConfig()
    cfg.env.num_envs = args.num_envs
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, args.clip, Path(tmp), device, backend)
        trainer.iterate()  # warm up
        update, update_seconds = trainer.alg.update, []

        def timed_update() -> dict:
            start = time.perf_counter()
            losses = update()
            update_seconds.append(time.perf_counter() - start)
            return losses

        trainer.alg.update = timed_update
        rows = [trainer.iterate() for _ in range(args.iterations)]
    per_iteration = cfg.env.num_envs * cfg.ppo.num_steps_per_env
    iteration_seconds = [per_iteration / r["samples_per_s"] for r in rows]
    train_rate = len(rows) * per_iteration / sum(iteration_seconds)
    env = ImitationEnv(load_deepmimic(args.clip), cfg.env, seed=1, backend=backend,
                       device=device if backend == "warp" else "cpu")
    ceiling = simulation_ceiling(env, 100)
    env_rate = environment_rate(env, 100)
    print(f"device {device}, backend {backend}, {os.cpu_count()} CPU cores, {args.num_envs} envs, "
          f"physics {rates.PHYSICS_HZ} Hz, control {rates.CONTROL_HZ} Hz")
    print(f"{'simulation only (control steps/s)':<40} {ceiling:>10,.0f}")
    print(f"{'environment, zero actions (steps/s)':<40} {env_rate:>10,.0f}")
    print(f"{'training end to end (samples/s)':<40} {train_rate:>10,.0f}")
    print(f"{'training / simulation ceiling':<40} {train_rate / ceiling:>10.2f}")
    print(f"{'PPO update, s per iteration (median)':<40} {statistics.median(update_seconds):>10.2f}")
    print(f"{'whole iteration, s (median)':<40} {statistics.median(iteration_seconds):>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
