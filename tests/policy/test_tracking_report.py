"""The tracking breakdown: it splits the evaluator's figure without changing it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blender_backflip.core import rates
from blender_backflip.core.character import build_character
from blender_backflip.core.motion import load_deepmimic
from blender_backflip.core.reference import ReferenceTrack, make_track
from blender_backflip.core.rollout import tracking_error_cm
from blender_backflip.core.skeleton import BODIES, CANONICAL
from policy.tracking_report import average, breakdown, stretches


@pytest.fixture(scope="module")
def track(clip_path: Path) -> ReferenceTrack:
    return make_track(load_deepmimic(clip_path), build_character(CANONICAL), flight="ballistic")


def recorded(track: ReferenceTrack) -> np.ndarray:
    """Body positions at rates.RECORD_HZ that sit exactly on the track at every control frame."""
    return np.repeat(track.body_pos, rates.RECORD_HZ // rates.CONTROL_HZ, axis=0)


def test_one_body_off_shows_in_that_body_only(track: ReferenceTrack) -> None:
    body_pos = recorded(track)
    foot = BODIES.index("right_foot")
    body_pos[:, foot, 1] -= 0.10  # 10 cm to the right, the whole clip
    report = breakdown(body_pos, track)
    assert report["per_body_cm"]["right_foot"] == pytest.approx(10.0)
    assert report["per_body_offset_cm"]["right_foot"] == pytest.approx([0.0, -10.0, 0.0], abs=1e-9)
    assert report["per_body_cm"]["left_foot"] == pytest.approx(0.0)
    assert report["mean_cm"] == pytest.approx(10.0 / len(BODIES))
    assert report["mean_cm"] == pytest.approx(tracking_error_cm(body_pos, track))
    assert report["pelvis_relative_cm"] == pytest.approx(10.0 / (len(BODIES) - 1))
    assert report["worst"]["body"] == "right_foot"


def test_a_whole_body_shift_is_not_an_error_relative_to_the_pelvis(track: ReferenceTrack) -> None:
    body_pos = recorded(track) + np.array([0.0, 0.0, 0.05])
    report = breakdown(body_pos, track)
    assert report["mean_cm"] == pytest.approx(5.0)
    assert report["pelvis_relative_cm"] == pytest.approx(0.0, abs=1e-9)


def test_the_stretches_split_the_clip_at_take_off_and_touch_down(track: ReferenceTrack) -> None:
    assert track.flight is not None, "the clip has a flight"
    frames = np.arange(1, track.clip_frames)
    masks = stretches(track, frames)
    assert list(masks) == ["before take-off", "flight", "after touch-down"]
    assert np.array_equal(np.sum(list(masks.values()), axis=0), np.ones(len(frames)))  # each frame in one
    body_pos = recorded(track)
    in_flight = np.arange(len(body_pos)) // (rates.RECORD_HZ // rates.CONTROL_HZ)
    in_flight = (in_flight > track.flight.takeoff) & (in_flight < track.flight.touchdown)
    body_pos[in_flight] += np.array([0.0, 0.0, 0.02])
    per_stretch = breakdown(body_pos, track)["per_stretch_cm"]
    assert per_stretch["flight"] == pytest.approx(2.0)
    assert per_stretch["before take-off"] == pytest.approx(0.0)
    assert per_stretch["after touch-down"] == pytest.approx(0.0)


def test_average_is_field_by_field_and_keeps_each_worst(track: ReferenceTrack) -> None:
    near, far = recorded(track) + 0.01 * np.array([1.0, 0, 0]), recorded(track) + 0.03 * np.array([1.0, 0, 0])
    mean = average([breakdown(near, track), breakdown(far, track)])
    assert mean["mean_cm"] == pytest.approx(2.0)
    assert mean["per_body_offset_cm"]["head"] == pytest.approx([2.0, 0.0, 0.0])
    assert len(mean["worst"]) == 2
