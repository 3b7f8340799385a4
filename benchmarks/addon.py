"""Click to keys: the add-on's Backflip! on a 60-bone rig, with export, simulation and bake timed separately.

    PYTHONPATH=. .venv/bin/python benchmarks/addon.py [--policy FILE] [--repeat 5]

Uses the bundled policy (blender_backflip/assets) unless --policy is given; without either it makes a
zero-action policy from ../shared/motions/humanoid3d_backflip.txt. Target (issue 5): under 0.5 s in total
on 2 cores, the simulation at least 10x faster than real time.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def find_policy(arg: str | None) -> str:
    from blender_backflip.operators._pipeline import ASSETS

    if arg:
        return arg
    bundled = sorted(glob.glob(os.path.join(ASSETS, "backflip_final*.npz")))
    if bundled:
        return bundled[0]
    from blender_backflip.core.motion import load_deepmimic
    from blender_backflip.core.observation import NUM_ACTIONS, OBS_DIM
    from blender_backflip.core.policy_file import PolicyFile, save_policy

    clip = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "motions",
                        "humanoid3d_backflip.txt")
    zero = PolicyFile([np.zeros((32, OBS_DIM)), np.zeros((NUM_ACTIONS, 32))], [np.zeros(32), np.zeros(NUM_ACTIONS)],
                      np.zeros(OBS_DIM), np.ones(OBS_DIM), 1e-2, load_deepmimic(clip, loop="clamp"),
                      {"take": "final"})
    path = os.path.join(tempfile.mkdtemp(), "zero_policy.npz")
    save_policy(path, zero)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import bpy

    import blender_backflip
    from blender_backflip.operators import _pipeline as pipe
    from blender_backflip.operators._support import FlipSettings
    from tests.blender import rigs

    import_s = time.perf_counter() - t0
    blender_backflip.register()
    policy = find_policy(args.policy)
    bpy.ops.wm.read_homefile(use_empty=True)
    obj = rigs.build("generic_extras", unit=0.01)
    n_bones = len(obj.data.bones)
    settings = FlipSettings(policy_file=policy, allow_fall=True)

    rows: dict[str, list[float]] = {"export": [], "simulate": [], "bake": [], "click_to_keys": [],
                                    "again_new_seed": []}
    sim_seconds = 0.0
    keys = 0
    for _ in range(args.repeat):
        pipe.clear_cache()
        t = time.perf_counter()
        avatar = pipe.read_avatar(bpy.context, obj, settings)
        from blender_backflip.core.character import build_character

        build_character(avatar.body.simulated)
        rows["export"].append(time.perf_counter() - t)
        t = time.perf_counter()
        sim = pipe.simulate_avatar(avatar, settings)
        rows["simulate"].append(time.perf_counter() - t)
        sim_seconds = float(sim.result.times[-1])
        t = time.perf_counter()
        plan = pipe.plan_for(avatar, sim, settings, bpy.context.scene)
        pipe.write_action(obj, plan, sim.take, settings, {})
        rows["bake"].append(time.perf_counter() - t)
        keys = plan.num_keys

        pipe.clear_cache()
        t = time.perf_counter()
        assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy, allow_fall=True) == {"FINISHED"}
        rows["click_to_keys"].append(time.perf_counter() - t)
        t = time.perf_counter()  # another take on the same avatar: the reference track is reused
        assert bpy.ops.backflip.flip(armature=obj.name, policy_file=policy, allow_fall=True, seed=1) == {"FINISHED"}
        rows["again_new_seed"].append(time.perf_counter() - t)

    print(f"rig: {n_bones} bones ({obj.name}), scene {bpy.context.scene.render.fps} fps, {keys} keys per bake, "
          f"policy {os.path.basename(policy)}; bpy + add-on import {import_s:.2f} s (once per session)")
    print(f"{'step':<16}{'median s':>10}{'min s':>10}")
    for name, values in rows.items():
        print(f"{name:<16}{statistics.median(values):>10.3f}{min(values):>10.3f}")
    sim_med = statistics.median(rows["simulate"])
    print(f"simulation: {sim_seconds:.2f} s of motion in {sim_med:.3f} s = {sim_seconds / sim_med:.1f}x real time")
    total = statistics.median(rows["click_to_keys"])
    print(f"click to keys: {total:.3f} s (target < 0.5 s): {'OK' if total < 0.5 else 'OVER'}")
    blender_backflip.unregister()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
