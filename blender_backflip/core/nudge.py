"""A nudge: a push on one body of the simulated avatar at a chosen moment, to which the policy reacts.

The push is an impulse (N s) spread evenly over a short window as an external force on the body's centre of
mass (MuJoCo's xfrc_applied). Its direction is in the avatar's own frame at the start: +forward (the way it
faces before it flips backwards), +left, +up. A small push changes the flip a little (a variation); a large
one makes the policy stumble or fall (a take of its own).
"""

from dataclasses import dataclass

import numpy as np

from .errors import BackflipError
from .skeleton import BODIES

NUDGE_SECONDS = 0.1  # the push's duration: short against the flip, long against the 480 Hz physics step
MAX_IMPULSE = 400.0  # N s: about 6 m/s for a 70 kg body, far beyond any shove the policy could answer


@dataclass(frozen=True)
class Nudge:
    time_s: float  # seconds after the flip starts
    body: str  # one of skeleton.BODIES
    impulse: tuple[float, float, float]  # N s: forward, left, up

    def validate(self, duration_s: float) -> "Nudge":
        """The nudge itself, or a BackflipError that names the value to change."""
        if self.body not in BODIES:
            raise BackflipError(f"Unknown body '{self.body}' for the nudge. Pick one of: {', '.join(BODIES)}.")
        if not 0.0 <= self.time_s < duration_s:
            raise BackflipError(f"The nudge at {self.time_s:.2f} s is outside the simulated {duration_s:.2f} s. "
                                f"Pick a time from 0 to {duration_s - NUDGE_SECONDS:.2f} s after the start.")
        if not np.all(np.isfinite(self.impulse)) or len(self.impulse) != 3:
            raise BackflipError("The nudge's impulse must be three finite numbers (forward, left, up) in N s.")
        size = float(np.linalg.norm(self.impulse))
        if size > MAX_IMPULSE:
            raise BackflipError(f"The nudge's impulse of {size:.0f} N s is more than {MAX_IMPULSE:.0f} N s. "
                                "Use a smaller push (20-80 N s moves a 70 kg avatar by 0.3-1.1 m/s).")
        return self

    def describe(self) -> str:
        """One line for reports: 'pushed the torso 20 N s left at 0.30 s'."""
        words = [f"{abs(v):.0f} N s {pos if v > 0 else neg}" for v, pos, neg
                 in zip(self.impulse, ("forward", "left", "up"), ("back", "right", "down")) if abs(v) >= 0.5]
        push = ", ".join(words) if words else "0 N s"
        return f"pushed the {self.body.replace('_', ' ')} {push} at {self.time_s:.2f} s"

    def force_at(self, t: float) -> np.ndarray:
        """The world force (N) on the body at time t: impulse / duration inside the window, else zero.

        The avatar faces +X at the start of the simulation, so forward, left, up are +X, +Y, +Z.
        """
        if self.time_s <= t < self.time_s + NUDGE_SECONDS:
            return np.asarray(self.impulse, dtype=float) / NUDGE_SECONDS
        return np.zeros(3)
