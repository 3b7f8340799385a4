"""DeepMimic clip loading, resampling and the two loop modes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.errors import BackflipError
from blender_backflip.core.motion import CLIP_FRAME_WIDTH, load_deepmimic, motion_from_keys, parse_deepmimic
from blender_backflip.core.skeleton import NUM_DOFS, joint_dof_slices

from .conftest import BACKFLIP_PATH, backflip_motion_or_skip


def test_frame_width_is_44() -> None:
    assert CLIP_FRAME_WIDTH == 44


def test_synthetic_clip_loads_in_our_frame(synthetic_clip_dict: dict, synthetic_motion) -> None:
    m = synthetic_motion
    assert m.loop == "clamp" and m.name == "synthetic_backflip"
    assert m.duration == pytest.approx(2.15)
    assert m.dt == pytest.approx(1 / 120)
    np.testing.assert_allclose(np.linalg.norm(m.root_quat, axis=-1), 1.0, atol=1e-12)
    first = m.sample(0.0)
    np.testing.assert_allclose(first.root_quat, [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(first.dof_pos, 0.0, atol=1e-12)
    assert first.root_pos[2] == pytest.approx(0.886416)  # Z up: the file's Y became our Z
    # Travel is backwards (-X) and the knees bend positively about our +Y.
    assert m.root_pos[-1, 0] == pytest.approx(-0.52)
    assert m.sample(0.55).dof_pos[joint_dof_slices()["right_knee"]][0] == pytest.approx(1.2)


def test_velocities_come_from_the_resampled_grid(synthetic_motion) -> None:
    m = synthetic_motion
    t = np.linspace(0.4, 1.5, 57)
    h = 1e-4
    f, a, b = m.sample(t), m.sample(t - h), m.sample(t + h)
    # Velocities agree with the slope of the sampled positions to within one grid step of acceleration.
    for vel, pos_a, pos_b in ((f.root_linvel, a.root_pos, b.root_pos), (f.dof_vel, a.dof_pos, b.dof_pos)):
        slope = (pos_b - pos_a) / (2 * h)
        assert np.abs(vel - slope).max() < 0.1 * np.abs(slope).max()
        assert np.abs(slope).max() > 1.0  # the clip really moves here
    assert f.dof_pos.shape == (57, NUM_DOFS) and f.phase.shape == (57,)
    np.testing.assert_allclose(f.phase, t / m.duration)


@pytest.fixture()
def real_or_synthetic_wrap(request: pytest.FixtureRequest, synthetic_clip_dict: dict):
    if request.param == "synthetic":
        return parse_deepmimic(synthetic_clip_dict, name="synthetic", loop="wrap")
    return backflip_motion_or_skip().with_loop("wrap")


@pytest.mark.parametrize("real_or_synthetic_wrap", ["synthetic", "deepmimic_backflip"], indirect=True)
def test_wrap_continues_with_root_offset(real_or_synthetic_wrap) -> None:
    m = real_or_synthetic_wrap
    d = m.duration
    offset = m.root_pos[-1] - m.root_pos[0]
    offset[2] = 0.0
    t = np.linspace(0.0, d, 40, endpoint=False)
    for k in (1, 2, -1):
        a, b = m.sample(t), m.sample(t + k * d)
        np.testing.assert_allclose(b.root_pos, a.root_pos + k * offset, atol=1e-9)
        np.testing.assert_allclose(b.dof_pos, a.dof_pos, atol=1e-9)
        np.testing.assert_allclose(b.phase, a.phase, atol=1e-9)
    # Continuous across the cycle boundary: no jump back to the start.
    eps = 1e-6
    before, after = m.sample(d - eps), m.sample(d + eps)
    assert np.linalg.norm(after.root_pos - before.root_pos) < 1e-3
    assert np.linalg.norm(m.sample(2 * d + eps).root_pos - m.sample(2 * d - eps).root_pos) < 1e-3
    assert m.sample(d + eps).root_pos[0] == pytest.approx(m.root_pos[-1, 0], abs=1e-3)
    assert after.phase < 0.01 and before.phase > 0.99


def test_wrap_carries_heading_per_cycle() -> None:
    """A clip that turns 90 degrees and walks on keeps turning and walking in the next cycle, without a jump."""
    times = np.array([0.0, 0.5, 1.0])
    yaw = np.array([0.0, np.pi / 4, np.pi / 2])
    root_quat = rot.quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), yaw)
    root_pos = np.array([[0.0, 0.0, 0.9], [0.5, 0.2, 0.9], [0.8, 0.6, 0.9]])
    m = motion_from_keys(times, root_pos, root_quat, np.zeros((3, NUM_DOFS)), loop="wrap", name="turn")
    d = m.duration
    before, after = m.sample(d - 1e-6), m.sample(d + 1e-6)
    np.testing.assert_allclose(after.root_pos, before.root_pos, atol=1e-4)
    assert abs(np.sum(after.root_quat * before.root_quat)) == pytest.approx(1.0, abs=1e-8)
    # One cycle later the heading has turned another 90 degrees.
    q = m.sample(d + 0.5).root_quat
    expected = rot.quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), np.pi / 2 + np.pi / 4)
    assert abs(np.sum(q * expected)) == pytest.approx(1.0, abs=1e-6)


def test_clamp_holds_the_last_frame(synthetic_motion) -> None:
    m = synthetic_motion
    assert m.loop == "clamp"
    last = m.sample(m.duration)
    for t in (m.duration + 0.01, m.duration + 1.0, m.duration + 10.0):
        f = m.sample(t)
        np.testing.assert_allclose(f.root_pos, m.root_pos[-1], atol=1e-12)
        np.testing.assert_allclose(f.root_quat, last.root_quat, atol=1e-12)
        np.testing.assert_allclose(f.dof_pos, m.dof_pos[-1], atol=1e-12)
        assert np.all(f.root_linvel == 0.0) and np.all(f.root_angvel == 0.0) and np.all(f.dof_vel == 0.0)
        assert f.phase == 1.0
    before = m.sample(-1.0)
    np.testing.assert_allclose(before.root_pos, m.root_pos[0], atol=1e-12)
    # Inside the clip the velocities are live; clamp zeroes them only after the end.
    assert np.any(m.sample(1.0).root_angvel != 0.0)


def test_loop_mode_from_the_file_and_override(synthetic_clip_dict: dict) -> None:
    data = dict(synthetic_clip_dict, Loop="wrap")
    assert parse_deepmimic(data).loop == "wrap"
    assert parse_deepmimic(data, loop="clamp").loop == "clamp"
    assert parse_deepmimic(synthetic_clip_dict).with_loop("wrap").loop == "wrap"


@pytest.mark.skipif(not BACKFLIP_PATH.exists(), reason="the DeepMimic clip is not in ../shared/motions")
def test_real_clip_figures() -> None:
    m = load_deepmimic(BACKFLIP_PATH)
    assert m.duration == pytest.approx(1.75, abs=1e-9)
    assert m.loop == "wrap"
    assert m.root_pos[-1, 0] - m.root_pos[0, 0] == pytest.approx(-1.08, abs=0.02)


def test_a_file_round_trips_through_load(tmp_path: Path, synthetic_clip_dict: dict, synthetic_motion) -> None:
    path = tmp_path / "flip.txt"
    path.write_text(json.dumps(synthetic_clip_dict))
    m = load_deepmimic(path)
    np.testing.assert_array_equal(m.root_pos, synthetic_motion.root_pos)
    np.testing.assert_array_equal(m.dof_pos, synthetic_motion.dof_pos)
    assert m.name == "flip.txt"


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [43, 45, 36])
def test_wrong_frame_width_names_both_widths(synthetic_clip_dict: dict, width: int) -> None:
    data = copy.deepcopy(synthetic_clip_dict)
    data["Frames"] = [(row + [0.0] * 10)[:width] for row in data["Frames"]]
    with pytest.raises(BackflipError) as info:
        parse_deepmimic(data, name="short.txt")
    assert "44" in str(info.value) and f"width {width}" in str(info.value) and "short.txt" in str(info.value)


def test_wrong_frame_width_from_a_file(tmp_path: Path, synthetic_clip_dict: dict) -> None:
    data = copy.deepcopy(synthetic_clip_dict)
    data["Frames"] = [row[:43] for row in data["Frames"]]
    path = tmp_path / "bad.txt"
    path.write_text(json.dumps(data))
    with pytest.raises(BackflipError, match=r"width 43.*44"):
        load_deepmimic(path)


@pytest.mark.parametrize("frames", [
    "ragged", "nan", "one_frame", "zero_duration", "not_numbers",
])
def test_malformed_clips_raise_the_domain_error(synthetic_clip_dict: dict, frames: str) -> None:
    rows = copy.deepcopy(synthetic_clip_dict["Frames"])
    if frames == "ragged":
        rows[3] = rows[3][:40]
    elif frames == "nan":
        rows[2][5] = float("nan")
    elif frames == "one_frame":
        rows = rows[:1]
    elif frames == "zero_duration":
        rows[4][0] = 0.0
    else:
        rows[1][3] = "abc"
    with pytest.raises(BackflipError):
        parse_deepmimic({"Loop": "none", "Frames": rows})


def test_missing_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(BackflipError, match="not found"):
        load_deepmimic(tmp_path / "nope.txt")
    (tmp_path / "broken.txt").write_text("{not json")
    with pytest.raises(BackflipError, match="not valid JSON"):
        load_deepmimic(tmp_path / "broken.txt")
    (tmp_path / "list.txt").write_text("[1, 2, 3]")
    with pytest.raises(BackflipError, match="Frames"):
        load_deepmimic(tmp_path / "list.txt")
