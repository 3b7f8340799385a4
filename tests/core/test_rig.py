"""Reading rigs without Blender: preset detection, bone-map validation, proportions, facing, training range."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from blender_backflip.core.errors import BackflipError
from blender_backflip.core.rig import (ROLES, detect, fit_to_training_range, in_training_range, load_presets,
                                       mapping_problems, validate_mapping)
from blender_backflip.core.skeleton import CANONICAL
from tests.core.rig_helpers import rig_from_layout
from tests.blender.rigs import layout

EXPECTED = {
    "mixamo": ("mixamo", 1.0, {"pelvis": "mixamorig:Hips", "torso": "mixamorig:Spine1", "head": "mixamorig:Head",
                               "left_lower_arm": "mixamorig:LeftForeArm", "right_shin": "mixamorig:RightLeg"}),
    "mixamo_bare": ("mixamo", 1.0, {"pelvis": "Hips", "left_thigh": "LeftUpLeg"}),
    "rigify": ("rigify", 1.0, {"pelvis": "DEF-spine", "torso": "DEF-spine.002", "head": "DEF-spine.006",
                               "left_hand": "DEF-hand.L"}),
    "unreal": ("unreal_mannequin", 1.0, {"pelvis": "pelvis", "torso": "spine_02", "left_upper_arm": "upperarm_l",
                                         "right_thigh": "thigh_r"}),
    "generic_extras": ("generic", 0.9, {"left_upper_arm": "upper_arm.L", "right_lower_arm": "forearm.R",
                                        "right_thigh": "thigh.R", "torso": "chest", "left_foot": "foot.L"}),
}


@pytest.mark.parametrize("style", list(EXPECTED))
def test_detects_the_preset(style: str) -> None:
    names = [b[0] for b in layout(style)]
    preset, confidence, mapping = detect(names)
    want_preset, want_conf, some = EXPECTED[style]
    assert (preset, confidence) == (want_preset, want_conf)
    assert set(mapping) == set(ROLES)
    for role, bone in some.items():
        assert mapping[role] == bone
    assert not mapping_problems(mapping, names)


def test_ignores_twist_finger_face_and_helper_bones() -> None:
    names = [b[0] for b in layout("generic_extras")]
    _, _, mapping = detect(names)
    for bone in mapping.values():
        assert not any(w in bone.lower() for w in ("twist", "helper", "index", "thumb", "eye", "ik_"))


def test_mixamo_namespaces_and_generic_side_markers() -> None:
    names = [n.replace("mixamorig:", "mixamorig7:") for n, *_ in layout("mixamo")]
    assert detect(names)[0] == "mixamo" and detect(names)[2]["left_hand"] == "mixamorig7:LeftHand"
    for left, right in (("{}_l", "{}_r"), ("Left{}", "Right{}"), ("L_{}", "R_{}"), ("{}.L", "{}.R")):
        names = ["Hips", "Chest", "Head"] + [
            pat.format(w) for pat in (left, right)
            for w in ("Thigh", "Shin", "Foot", "UpperArm", "ForeArm", "Hand")]
        preset, confidence, mapping = detect(names)
        assert len(mapping) == 15, (left, mapping)
        assert mapping["left_thigh"] == left.format("Thigh") and mapping["right_hand"] == right.format("Hand")


def test_presets_are_data_files_covering_every_role() -> None:
    presets = load_presets()
    assert list(presets) == ["mixamo", "rigify", "unreal_mannequin", "generic"]
    for name, preset in presets.items():
        if "roles" in preset:
            assert set(preset["roles"]) == set(ROLES), name


def test_not_a_humanoid_lists_the_missing_roles() -> None:
    names = [b[0] for b in layout("not_humanoid")]
    _, confidence, mapping = detect(names)
    assert confidence < 0.5
    with pytest.raises(BackflipError, match="no bone for pelvis, torso, head, right_thigh") as info:
        validate_mapping(mapping, names)
    assert "bone map" in str(info.value)


def test_two_bones_for_one_role_are_refused() -> None:
    names = [b[0] for b in layout("mixamo")]
    _, _, mapping = detect(names)
    mapping["right_thigh"] = mapping["left_thigh"]
    with pytest.raises(BackflipError, match="'mixamorig:LeftUpLeg' is mapped to right_thigh and left_thigh"):
        validate_mapping(mapping, names)


@pytest.mark.parametrize("style", ["mixamo", "rigify", "unreal", "generic_extras"])
@pytest.mark.parametrize("unit,location,yaw", [(1.0, (0, 0, 0), 0.0), (0.01, (2.0, -1.5, 0.3), 90.0)])
def test_proportions_facing_and_ground(style: str, unit: float, location, yaw: float) -> None:
    rig = rig_from_layout(style, k=1.08, unit=unit, location=location, yaw_deg=yaw)
    p = rig.proportions(total_mass=70.0)
    want = dataclasses.replace(CANONICAL.uniformly_scaled(1.08), total_mass=70.0)
    for f in dataclasses.fields(p):
        assert getattr(p, f.name) == pytest.approx(getattr(want, f.name), rel=1e-9, abs=1e-9), f.name
    assert math.degrees(rig.facing_yaw) == pytest.approx(-90.0 + yaw)
    assert rig.ground_height == pytest.approx(location[2], abs=1e-9)
    np.testing.assert_allclose(rig.hip_center[:2], location[:2], atol=1e-9)
    assert rig.arm_pose == ("T-pose" if style in ("mixamo", "generic_extras") else "A-pose")


def test_non_uniform_scale_is_refused() -> None:
    with pytest.raises(BackflipError, match="non-uniform scale .*Apply the scale"):
        rig_from_layout("mixamo", scale=(1.0, 1.0, 1.3))


def test_zero_length_bone_is_refused_by_name() -> None:
    bones = layout("mixamo")
    bones = [(n, p, h, h + 1e-5 if n == "mixamorig:LeftLeg" else t, r) for n, p, h, t, r in bones]
    with pytest.raises(BackflipError, match="Bone 'mixamorig:LeftLeg' .* zero length"):
        rig_from_layout("mixamo", bones=bones)


def test_a_segment_of_zero_length_names_its_bones() -> None:
    bones = layout("mixamo")
    # The shin (knee to ankle) collapses: the foot starts at the knee.
    knee = next(h for n, p, h, t, r in bones if n == "mixamorig:LeftLeg")
    bones = [(n, p, knee if n == "mixamorig:LeftFoot" else h, t, r) for n, p, h, t, r in bones]
    bones = [(n, p, h, knee if n == "mixamorig:LeftLeg" else t, r) if n != "mixamorig:LeftLeg" else
             (n, p, h, h + np.array([0, 0, -0.01]), r) for n, p, h, t, r in bones]
    rig = rig_from_layout("mixamo", bones=bones)
    with pytest.raises(BackflipError, match="shin"):
        rig.proportions(70.0)


def test_training_range() -> None:
    same = fit_to_training_range(CANONICAL)
    assert same.scale == 1.0 and same.note == "" and same.simulated == CANONICAL
    heavy = fit_to_training_range(dataclasses.replace(CANONICAL.uniformly_scaled(1.08), total_mass=70.0))
    assert heavy.scale == 1.0 and "simulated 54 kg" in heavy.note and in_training_range(heavy.simulated)
    assert heavy.simulated.standing_height == pytest.approx(1.08 * CANONICAL.standing_height)
    tall = fit_to_training_range(dataclasses.replace(CANONICAL.uniformly_scaled(1.25), total_mass=70.0))
    assert tall.scale == pytest.approx(1.25) and "scaled the motion by 1.25x" in tall.note
    assert in_training_range(tall.simulated)
    assert tall.simulated.standing_height == pytest.approx(CANONICAL.standing_height)
    odd = fit_to_training_range(CANONICAL.scaled(legs=1.6, arms=0.5, head=2.0))
    assert in_training_range(odd.simulated) and "clamped" in odd.note and odd.note.count("\n") == 0
    tiny = fit_to_training_range(CANONICAL.uniformly_scaled(0.3))
    assert tiny.scale == pytest.approx(0.3) and in_training_range(tiny.simulated)
