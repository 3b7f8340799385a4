"""Evaluate a policy file the way DESIGN.md judges a flip, in the add-on's own runtime (MuJoCo CPU, numpy).

`python -m policy.evaluate POLICY --episodes N --json out.json`: N episodes on the canonical body and N on
random proportion variants drawn from seeds training never uses; prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from blender_backflip.core.character import Character, build_character
from blender_backflip.core.controller import Controller
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.policy_file import PolicyFile, load_policy
from blender_backflip.core.reference import make_track
from blender_backflip.core.rollout import simulate, tracking_error_cm

from .bodies import EVAL_SEED_OFFSET, BodyVariant, canonical_variant, random_variant

VARIANT_SEED_OFFSET = EVAL_SEED_OFFSET + 500_000
T = TypeVar("T")


def episode_seeds(group: str, first_seed: int, episodes: int) -> list[int]:
    """The seeds of an evaluation group: the reported figures use first_seed 0."""
    offset = EVAL_SEED_OFFSET if group == "canonical" else VARIANT_SEED_OFFSET
    return [offset + first_seed + i for i in range(episodes)]


def episode_body(group: str, seed: int) -> tuple[BodyVariant, Character]:
    """The body an evaluation episode simulates: the canonical one or a random proportion variant."""
    rng = np.random.default_rng(seed)
    variant = canonical_variant(rng) if group == "canonical" else random_variant(rng)
    return variant, build_character(variant.proportions, friction=variant.friction)


def run_episode(policy_path: str, group: str, seed: int) -> dict:
    variant, character = episode_body(group, seed)
    policy = cached_policy(policy_path)
    controller = Controller(policy, backend="numpy")
    result = simulate(character, controller, seed=seed)
    v = result.verdict
    vs_clip = v.tracking_error_cm
    if (policy.reference_flight, policy.reference_feet) != ("clip", "clip"):
        vs_clip = tracking_error_cm(result.body_pos, make_track(policy.reference, character, flight="clip"))
    return {
        "seed": seed,
        "landed": v.landed,
        "tracking_error_cm": round(v.tracking_error_cm, 3),
        "tracking_error_vs_clip_cm": round(vs_clip, 3),
        "max_foot_penetration_cm": round(v.max_foot_penetration_cm, 3),
        "pitch_deg": round(v.pitch_deg, 1),
        "final_height_fraction": round(v.final_height_fraction, 3),
        "non_foot_contact": v.non_foot_contact,
        "fall_time": v.fall_time,
        "scale_factors": [round(x, 4) for x in variant.proportions.scale_factors()],
        "friction": round(variant.friction, 3),
    }


_CACHE: dict = {}


def cached_policy(path: str) -> PolicyFile:
    """The policy file at `path`, loaded once per process (the evaluation workers reuse it)."""
    if path not in _CACHE:
        _CACHE[path] = load_policy(path)
    return _CACHE[path]


def summarize(episodes: list[dict]) -> dict:
    return {
        "episodes": episodes,
        "success_rate": float(np.mean([e["landed"] for e in episodes])),
        "tracking_error_cm": float(np.mean([e["tracking_error_cm"] for e in episodes])),
        "tracking_error_vs_clip_cm": float(np.mean([e["tracking_error_vs_clip_cm"] for e in episodes])),
        "max_foot_penetration_cm": float(np.max([e["max_foot_penetration_cm"] for e in episodes])),
    }


def evaluate(policy_path: str, episodes: int, workers: int = 1, groups: tuple[str, ...] = ("canonical", "variants"),
             first_seed: int = 0) -> dict:
    """`episodes` per group from seeds first_seed, first_seed + 1, ... of each group's range (the reported
    figures use first_seed 0; choosing among snapshots on other seeds keeps the choice out of the figures)."""
    cached_policy(policy_path)  # fail early with a clear message
    seeds = {g: episode_seeds(g, first_seed, episodes) for g in ("canonical", "variants")}
    out: dict = {"policy": os.fspath(policy_path), "seeds": {g: [seeds[g][0], seeds[g][-1]] for g in groups}}
    for group in groups:
        out[group] = summarize(map_episodes(run_episode, policy_path, group, seeds[group], workers))
    return out


def map_episodes(episode: Callable[[str, str, int], T], policy_path: str, group: str, seeds: list[int],
                 workers: int) -> list[T]:
    """episode(policy_path, group, seed) for each seed, in order, over `workers` processes (1: in this one)."""
    jobs = [(policy_path, group, s) for s in seeds]
    if workers <= 1:
        return [episode(*job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(episode, *zip(*jobs), chunksize=8))


def print_table(result: dict) -> None:
    """Tracking is measured against the policy's own reference and against the clip as captured (the same
    figure when the policy imitates the clip as is)."""
    print(f"{'bodies':<10} {'episodes':>8} {'landed':>8} {'tracking cm':>12} {'vs clip cm':>11} "
          f"{'max foot depth cm':>18}")
    for group in ("canonical", "variants"):
        if group in result:
            r = result[group]
            print(f"{group:<10} {len(r['episodes']):>8} {100 * r['success_rate']:>7.1f}% "
                  f"{r['tracking_error_cm']:>12.2f} {r['tracking_error_vs_clip_cm']:>11.2f} "
                  f"{r['max_foot_penetration_cm']:>18.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("policy", type=Path)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--canonical-only", action="store_true")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="start at this seed of each range (e.g. 1000 to choose a snapshot on unreported seeds)")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        groups = ("canonical",) if args.canonical_only else ("canonical", "variants")
        if not 0 <= args.first_seed < 400_000:
            raise BackflipError(f"--first-seed {args.first_seed} is outside 0-399999, the evaluation's own seeds.")
        result = evaluate(os.fspath(args.policy), args.episodes, args.workers, groups, args.first_seed)
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table(result)
    print(f"({time.time() - start:.0f} s)")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
