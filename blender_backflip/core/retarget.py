"""Retarget a reference Motion to a body of other proportions: same joint rotations, root scaled by leg length."""

from __future__ import annotations

from dataclasses import replace

from .motion import Motion
from .skeleton import CANONICAL, Proportions


def retarget(motion: Motion, proportions: Proportions, source: Proportions = CANONICAL) -> Motion:
    """The motion for a body with `proportions`, made for a body with `source` proportions.

    Root height and travel scale with the leg length (hip joint to sole), which keeps the feet on the ground
    and the flip's arc in proportion to the body that jumps it.
    """
    ratio = proportions.validate().leg_length / source.leg_length
    return replace(motion, root_pos=motion.root_pos * ratio, name=f"{motion.name}@{ratio:.3f}")
