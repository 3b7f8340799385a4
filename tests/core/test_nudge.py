"""A nudge pushes one body for a short window; the simulation answers it, and bad values are refused clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blender_backflip.core import rates
from blender_backflip.core.character import Character
from blender_backflip.core.controller import Controller
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.nudge import MAX_IMPULSE, NUDGE_SECONDS, Nudge
from blender_backflip.core.policy_file import load_policy
from blender_backflip.core.rollout import simulate
from blender_backflip.core.skeleton import BODIES

BUNDLED = Path(__file__).parents[2] / "blender_backflip" / "assets" / "backflip_final.npz"


@pytest.fixture(scope="module")
def controller() -> Controller:
    return Controller(load_policy(str(BUNDLED)), backend="numpy")


def test_the_force_over_the_physics_steps_adds_up_to_the_impulse() -> None:
    nudge = Nudge(0.5, "torso", (10.0, -30.0, 5.0))
    steps = np.arange(0.0, 1.0, rates.PHYSICS_DT)
    total = sum(nudge.force_at(t) for t in steps) * rates.PHYSICS_DT
    np.testing.assert_allclose(total, nudge.impulse, rtol=0.02)
    assert not nudge.force_at(0.5 - rates.PHYSICS_DT).any() and not nudge.force_at(0.5 + NUDGE_SECONDS).any()


def test_a_zero_push_changes_nothing(canonical_character: Character, controller: Controller) -> None:
    plain = simulate(canonical_character, controller, seed=3)
    zero = simulate(canonical_character, controller, seed=3, nudge=Nudge(0.4, "pelvis", (0.0, 0.0, 0.0)))
    np.testing.assert_array_equal(plain.qpos, zero.qpos)
    assert plain.nudge is None and zero.nudge is not None


def test_a_push_to_the_left_moves_the_body_left(canonical_character: Character, controller: Controller) -> None:
    plain = simulate(canonical_character, controller, seed=0)
    pushed = simulate(canonical_character, controller, seed=0, nudge=Nudge(0.3, "torso", (0.0, 20.0, 0.0)))
    window = (plain.times >= 0.3) & (plain.times <= 0.3 + NUDGE_SECONDS + 0.05)
    torso = BODIES.index("torso")
    drift = pushed.body_pos[window, torso, 1] - plain.body_pos[window, torso, 1]
    assert drift[-1] > 0.005  # left (+Y) by more than half a centimetre within 50 ms of the push
    assert np.all(pushed.qpos[plain.times < 0.3] == plain.qpos[plain.times < 0.3])  # nothing before it
    assert pushed.nudge is not None and pushed.nudge.describe() == "pushed the torso 20 N s left at 0.30 s"


def test_a_hard_push_in_flight_knocks_it_over(canonical_character: Character, controller: Controller) -> None:
    result = simulate(canonical_character, controller, seed=0, nudge=Nudge(0.9, "torso", (0.0, 150.0, 0.0)))
    assert not result.verdict.landed


@pytest.mark.parametrize("nudge, message", [
    (Nudge(0.3, "tail", (0.0, 20.0, 0.0)), "Unknown body 'tail' for the nudge. Pick one of: pelvis, torso"),
    (Nudge(5.0, "torso", (0.0, 20.0, 0.0)), r"The nudge at 5.00 s is outside the simulated 3.7\d s. Pick a time"),
    (Nudge(-0.1, "torso", (0.0, 20.0, 0.0)), "outside the simulated"),
    (Nudge(0.3, "torso", (0.0, 2 * MAX_IMPULSE, 0.0)), "impulse of 800 N s is more than 400 N s. Use a smaller"),
    (Nudge(0.3, "torso", (0.0, float("nan"), 0.0)), "three finite numbers"),
])
def test_bad_nudges_are_refused_by_name(canonical_character: Character, controller: Controller, nudge: Nudge,
                                        message: str) -> None:
    with pytest.raises(BackflipError, match=message):
        simulate(canonical_character, controller, seed=0, nudge=nudge)


def test_the_description_names_each_direction_of_the_push() -> None:
    assert Nudge(0.5, "pelvis", (-10.0, 0.2, 5.0)).describe() == "pushed the pelvis 10 N s back, 5 N s up at 0.50 s"
