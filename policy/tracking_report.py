"""Where a policy's tracking error comes from: per body, relative to the pelvis, and per stretch of the flip.

`python -m policy.tracking_report POLICY --episodes 8 [--group variants] [--first-seed 1000]` simulates the
evaluator's episodes and splits the tracking bar's figure (the mean body distance from the reference, cm).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from blender_backflip.core.controller import Controller
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.reference import ReferenceTrack
from blender_backflip.core.rollout import at_control_frames, body_errors_m, policy_track, simulate
from blender_backflip.core.skeleton import BODIES

from .evaluate import cached_policy, episode_body, episode_seeds, map_episodes


def stretches(track: ReferenceTrack, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Masks over `frames`: before take-off, the flight, after touch-down (the whole clip when it has no flight)."""
    if track.flight is None:
        return {"whole clip": np.ones(len(frames), bool)}
    f = track.flight
    return {"before take-off": frames <= f.takeoff,
            "flight": (frames > f.takeoff) & (frames < f.touchdown),
            "after touch-down": frames >= f.touchdown}


def breakdown(body_pos: np.ndarray, track: ReferenceTrack) -> dict:
    """One episode's error (cm): the mean, per body (distance and mean signed offset x, y, z in the flip's frame:
    +X forward, +Y left, +Z up), the bodies relative to the pelvis, per stretch, and the worst body and time."""
    frames, err = body_errors_m(body_pos, track)
    sim = at_control_frames(body_pos, frames)
    ref = track.body_pos[frames]
    relative = np.linalg.norm((sim - sim[:, :1]) - (ref - ref[:, :1]), axis=-1)[:, 1:]
    offset = np.mean(sim - ref, axis=0)
    worst_frame, worst_body = np.unravel_index(np.argmax(err), err.shape)
    return {
        "mean_cm": 100.0 * float(err.mean()),
        "pelvis_relative_cm": 100.0 * float(relative.mean()),
        "per_body_cm": {name: 100.0 * float(err[:, i].mean()) for i, name in enumerate(BODIES)},
        "per_body_offset_cm": {name: [100.0 * float(v) for v in offset[i]] for i, name in enumerate(BODIES)},
        "per_stretch_cm": {name: 100.0 * float(err[mask].mean()) for name, mask in stretches(track, frames).items()
                           if mask.any()},
        "worst": {"body": BODIES[worst_body], "time_s": float(frames[worst_frame] * track.dt),
                  "cm": 100.0 * float(err[worst_frame, worst_body])},
    }


def episode_breakdown(policy_path: str, group: str, seed: int) -> dict:
    _, character = episode_body(group, seed)
    policy = cached_policy(policy_path)
    track = policy_track(policy, character)
    result = simulate(character, Controller(policy, backend="numpy"), seed=seed, track=track)
    return breakdown(result.body_pos, track)


def average(reports: list[dict]) -> dict:
    """The mean of episode breakdowns, field by field (the worst stays per episode)."""
    def mean(values: list) -> object:
        if isinstance(values[0], dict):
            return {k: mean([v[k] for v in values]) for k in values[0] if all(k in v for v in values)}
        return np.mean(values, axis=0).tolist() if isinstance(values[0], list) else float(np.mean(values))
    out = mean([{k: v for k, v in r.items() if k != "worst"} for r in reports])
    out["worst"] = [r["worst"] for r in reports]
    return out


def print_report(report: dict, episodes: int, group: str) -> None:
    print(f"{group}, {episodes} episodes: mean {report['mean_cm']:.2f} cm; relative to the pelvis "
          f"{report['pelvis_relative_cm']:.2f} cm")
    print(f"{'body':<16} {'cm':>6} {'offset x':>9} {'y':>6} {'z':>6}")
    for name, cm in report["per_body_cm"].items():
        x, y, z = report["per_body_offset_cm"][name]
        print(f"{name:<16} {cm:>6.2f} {x:>9.2f} {y:>6.2f} {z:>6.2f}")
    for name, cm in report["per_stretch_cm"].items():
        print(f"{name:<16} {cm:>6.2f}")
    for w in report["worst"]:
        print(f"worst: {w['body']} at {w['time_s']:.2f} s, {w['cm']:.1f} cm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.tracking_report", description=__doc__.splitlines()[0])
    parser.add_argument("policy", type=Path)
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--group", choices=("canonical", "variants"), default="canonical")
    parser.add_argument("--first-seed", type=int, default=1000, help="of the group's evaluation seeds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        cached_policy(os.fspath(args.policy))
        seeds = episode_seeds(args.group, args.first_seed, args.episodes)
        reports = map_episodes(episode_breakdown, os.fspath(args.policy), args.group, seeds, args.workers)
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_report(average(reports), args.episodes, args.group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
