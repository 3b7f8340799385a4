"""Shared fixtures of the core tests: the canonical character and the clips (real when present, synthetic always)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blender_backflip.core import rotations as rot
from blender_backflip.core.character import Character, build_character
from blender_backflip.core.motion import Motion, load_deepmimic, parse_deepmimic
from blender_backflip.core.skeleton import CANONICAL, JOINTS, joint_dof_slices, NUM_DOFS

SHARED_MOTIONS = Path(__file__).parents[2].parent / "shared" / "motions"
BACKFLIP_PATH = SHARED_MOTIONS / "humanoid3d_backflip.txt"

# The synthetic clip's apex: the real clip's root peaks at 1.18 m too.
SYNTH_APEX = 1.18


@pytest.fixture(scope="session")
def canonical_character() -> Character:
    return build_character(CANONICAL)


def _ours_to_dm_quat(q: np.ndarray) -> np.ndarray:
    """Inverse of the loader's Y-up to Z-up conversion: ours (w, x, y, z) came from DeepMimic (w, x, z, -y)."""
    return np.array([q[0], q[1], q[3], -q[2]])


def _dm_row(duration: float, root_pos: tuple[float, float, float], pitch_back: float,
            dofs: dict[str, float]) -> list[float]:
    """One DeepMimic frame (44 numbers) of a pose given in our frame (Z up, facing +X, left +Y)."""
    x, y, z = root_pos
    row = [duration, x, z, -y]  # ours (x, y, z) is DeepMimic (x, z, -y) read back
    root_q = rot.quat_from_axis_angle(np.array([0.0, -1.0, 0.0]), pitch_back)  # backwards = about -Y
    row += list(_ours_to_dm_quat(root_q))
    dof = np.zeros(NUM_DOFS)
    slices = joint_dof_slices()
    for name, value in dofs.items():
        joint, axis = name.rsplit("_", 1) if name.count("_") and name.rsplit("_", 1)[1] in "xyz" else (name, "")
        s = slices[joint]
        j = next(j for j in JOINTS if j.name == joint)
        dof[s.start + (j.axes.index(axis) if axis else 0)] = value
    for joint in JOINTS:
        values = dof[slices[joint.name]]
        if joint.is_ball:
            row += list(_ours_to_dm_quat(rot.quat_from_euler(values, joint.axes)))
        else:
            row.append(-float(values[0]))  # DeepMimic hinges turn about local +z, our -y
    assert len(row) == 44
    return row


def _leg_pose(bend: float) -> dict[str, float]:
    """Hips, knees and ankles bent so that the feet stay flat under the hips (bend in radians)."""
    out = {}
    for side in ("right", "left"):
        out[f"{side}_hip_y"] = -bend
        out[f"{side}_knee"] = 2.0 * bend
        out[f"{side}_ankle_y"] = -bend
    return out


def synthetic_backflip_dict() -> dict:
    """A small backflip-like DeepMimic clip: stand, crouch, jump to a 1.18 m apex pitching 360 degrees back, land.

    Keys are in our frame and converted to the file's Y-up frame, so the loader's conversion is exercised too.
    Repeated standing keys at both ends keep the cubic resampling flat there (feet exactly on the ground).
    """
    p = CANONICAL
    leg = p.leg_length
    crouch = 0.6
    crouch_h = (p.thigh + p.shin) * np.cos(crouch) + p.ankle_height
    tuck = {**_leg_pose(0.0)}
    for side in ("right", "left"):
        tuck[f"{side}_hip_y"] = -2.0
        tuck[f"{side}_knee"] = 2.0
    keys = [
        # (time, root x, root z, backward pitch in degrees, joint angles)
        (0.0, 0.0, leg, 0.0, _leg_pose(0.0)),
        (0.1, 0.0, leg, 0.0, _leg_pose(0.0)),
        (0.2, 0.0, leg, 0.0, _leg_pose(0.0)),
        (0.3, 0.0, leg, 0.0, _leg_pose(0.0)),
        (0.55, 0.0, crouch_h, 0.0, _leg_pose(crouch)),
        (0.75, -0.05, leg + 0.05, 30.0, _leg_pose(0.0)),
        (0.85, -0.12, 1.08, 80.0, tuck),
        (0.95, -0.20, 1.16, 140.0, tuck),
        (1.05, -0.28, SYNTH_APEX, 200.0, tuck),
        (1.15, -0.36, 1.16, 260.0, tuck),
        (1.25, -0.44, 1.08, 310.0, tuck),
        (1.40, -0.50, leg, 350.0, _leg_pose(0.0)),
        (1.60, -0.52, crouch_h, 360.0, _leg_pose(crouch)),
        (1.85, -0.52, leg, 360.0, _leg_pose(0.0)),
        (1.95, -0.52, leg, 360.0, _leg_pose(0.0)),
        (2.05, -0.52, leg, 360.0, _leg_pose(0.0)),
        (2.15, -0.52, leg, 360.0, _leg_pose(0.0)),
    ]
    frames = []
    for i, (t, x, z, pitch, dofs) in enumerate(keys):
        duration = keys[i + 1][0] - t if i + 1 < len(keys) else 0.0
        frames.append(_dm_row(duration, (x, 0.0, z), np.radians(pitch), dofs))
    return {"Loop": "none", "Frames": frames}


@pytest.fixture(scope="session")
def synthetic_clip_dict() -> dict:
    return synthetic_backflip_dict()


@pytest.fixture(scope="session")
def synthetic_motion(synthetic_clip_dict: dict) -> Motion:
    return parse_deepmimic(synthetic_clip_dict, name="synthetic_backflip")


def backflip_motion_or_skip() -> Motion:
    if not BACKFLIP_PATH.exists():
        pytest.skip(f"the DeepMimic backflip clip is not at {BACKFLIP_PATH} (it is not part of the repository)")
    return load_deepmimic(BACKFLIP_PATH)


@pytest.fixture(scope="session", params=["synthetic", "deepmimic_backflip"])
def backflip_motion(request: pytest.FixtureRequest, synthetic_motion: Motion) -> Motion:
    """The flip through FK: the synthetic clip always, the real clip when ../shared/motions has it."""
    if request.param == "synthetic":
        return synthetic_motion
    return backflip_motion_or_skip()
