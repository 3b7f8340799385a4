"""How a flip is judged (DESIGN.md): landed feet first after a full backward turn, then standing still."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import rotations as rot

PITCH_TARGET_DEG = -360.0  # backwards about +Y (the character faces +X)
PITCH_TOLERANCE_DEG = 30.0
MIN_HEIGHT_FRACTION = 0.9
STILL_SPEED = 0.2  # m/s
STILL_SECONDS = 1.0


@dataclass(frozen=True)
class Verdict:
    landed: bool
    non_foot_contact: bool
    pitch_deg: float
    final_height_fraction: float
    still_at_end: bool
    tracking_error_cm: float
    max_foot_penetration_cm: float
    fall_time: float | None  # first non-foot contact (s), None if none

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.landed:
            return f"landed ({self.pitch_deg:.0f} deg turn, tracking error {self.tracking_error_cm:.1f} cm)"
        reasons = []
        if self.non_foot_contact:
            reasons.append(f"touched the ground with more than the feet at {self.fall_time:.2f} s")
        if abs(self.pitch_deg - PITCH_TARGET_DEG) > PITCH_TOLERANCE_DEG:
            reasons.append(f"turned {self.pitch_deg:.0f} deg instead of -360")
        if self.final_height_fraction < MIN_HEIGHT_FRACTION:
            reasons.append(f"ended at {100 * self.final_height_fraction:.0f}% of standing height")
        if not self.still_at_end:
            reasons.append("was still moving at the end")
        return "did not land: " + "; ".join(reasons)


def total_pitch_deg(root_quat: np.ndarray) -> float:
    """Unwrapped turn of the pelvis's up axis in the sagittal (x-z) plane, degrees; negative = backwards."""
    up = rot.quat_rotate(root_quat, np.array([0.0, 0.0, 1.0]))
    angle = np.unwrap(np.arctan2(up[:, 0], up[:, 2]))
    return float(np.degrees(angle[-1] - angle[0]))


def judge(times: np.ndarray, root_pos: np.ndarray, root_quat: np.ndarray, standing_height: float,
          non_foot_contact: np.ndarray, foot_penetration: np.ndarray, tracking_error_cm: float) -> Verdict:
    """Verdict from per-frame records (uniform times, root pose, contact flags and foot depths)."""
    pitch = total_pitch_deg(root_quat)
    fraction = float(root_pos[-1, 2] / standing_height)
    dt = float(times[1] - times[0])
    speed = np.linalg.norm(np.diff(root_pos, axis=0), axis=-1) / dt
    last = max(1, int(round(STILL_SECONDS / dt)))
    still = bool(np.all(speed[-last:] < STILL_SPEED))
    touched = bool(np.any(non_foot_contact))
    fall_time = float(times[np.argmax(non_foot_contact)]) if touched else None
    landed = (not touched and abs(pitch - PITCH_TARGET_DEG) <= PITCH_TOLERANCE_DEG
              and fraction >= MIN_HEIGHT_FRACTION and still)
    return Verdict(landed, touched, pitch, fraction, still, float(tracking_error_cm),
                   float(100.0 * np.max(foot_penetration)), fall_time)
