"""Random bodies: proportion and mass variants the policy trains on (and the evaluator tests on)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blender_backflip.core.skeleton import CANONICAL, Proportions

SCALE_RANGE = (0.85, 1.15)  # legs, arms, trunk, head, each drawn independently
MASS_RANGE = (0.8, 1.2)
FRICTION_RANGE = (0.8, 1.2)
EVAL_SEED_OFFSET = 1_000_000  # evaluation seeds start here; training seeds stay below


@dataclass(frozen=True)
class BodyVariant:
    proportions: Proportions
    friction: float


def random_variant(rng: np.random.Generator) -> BodyVariant:
    legs, arms, trunk, head = rng.uniform(*SCALE_RANGE, size=4)
    mass = rng.uniform(*MASS_RANGE)
    return BodyVariant(CANONICAL.scaled(legs=legs, arms=arms, trunk=trunk, head=head, mass=mass),
                       float(rng.uniform(*FRICTION_RANGE)))


def canonical_variant(rng: np.random.Generator) -> BodyVariant:
    return BodyVariant(CANONICAL, float(rng.uniform(*FRICTION_RANGE)))
