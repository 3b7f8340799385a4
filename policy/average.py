"""Average the network weights of late snapshots of one run (stochastic weight averaging).

`python -m policy.average OUT.pt SNAPSHOT.pt [SNAPSHOT.pt ...]`: at a fixed learning rate the snapshots of a
settled run wander around a good region; their mean usually sits nearer its middle than any one of them.
The normalizers, optimizer, counters and config are the last snapshot's; the result exports like any checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from blender_backflip.core.errors import BackflipError

from .train import load_checkpoint, save_checkpoint

_AVERAGED = ("mlp.", "distribution.")  # the weights and the action noise; not the observation statistics


def average_checkpoints(states: list[dict]) -> dict:
    """The last state with the actor's and critic's weights replaced by the mean over `states`."""
    if not states:
        raise BackflipError("name at least one snapshot to average")
    last = states[-1]
    shapes = [{(net, k): tuple(v.shape) for net in ("actor_state_dict", "critic_state_dict") for k, v in s[net].items()}
              for s in states]
    if any(s != shapes[-1] for s in shapes):
        raise BackflipError("the snapshots have different network shapes; average snapshots of one run only")
    out = {**last}
    for key in ("actor_state_dict", "critic_state_dict"):
        out[key] = {name: (torch.stack([s[key][name] for s in states]).mean(0) if name.startswith(_AVERAGED)
                           else value.clone())
                    for name, value in last[key].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.average", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the averaged checkpoint to write")
    parser.add_argument("snapshots", type=Path, nargs="+", help="checkpoints of one run, oldest first")
    args = parser.parse_args(argv)
    try:
        states = [load_checkpoint(p) for p in args.snapshots]
        averaged = average_checkpoints(states)
        averaged["averaged_from"] = [p.name for p in args.snapshots]
        save_checkpoint(averaged, args.out)
    except BackflipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"averaged {len(states)} snapshots into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
