"""The demo's default avatar: a Mixamo-named rig the add-on recognizes, with the canonical body, skinned."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender_backflip.core import rig as rigmod  # noqa: E402
from blender_backflip.core.skeleton import CANONICAL  # noqa: E402
from blender_backflip.demo import mannequin  # noqa: E402
from blender_backflip.demo import scene as sc  # noqa: E402


@pytest.fixture()
def hero():
    sc.reset_scene()
    return mannequin.create_mannequin("Hero")


def _rig_spec(arm) -> rigmod.RigSpec:
    bones = {b.name: rigmod.BoneRest(b.name, b.parent.name if b.parent else None, np.array(b.head_local),
                                     np.array(b.tail_local), np.array(b.matrix_local)) for b in arm.data.bones}
    detection = rigmod.detect_full(list(bones))
    assert detection.preset == "mixamo" and detection.confidence == 1.0, detection
    return rigmod.RigSpec(bones, np.array(arm.matrix_world), detection.mapping)


def test_rig_is_detected_as_mixamo_with_the_canonical_body(hero) -> None:
    spec = _rig_spec(hero)
    body = spec.proportions(CANONICAL.total_mass)
    for name, value in asdict(body).items():
        assert value == pytest.approx(getattr(CANONICAL, name), abs=1e-4), name
    assert spec.arm_pose == "T-pose"
    assert spec.facing_yaw == pytest.approx(-np.pi / 2)  # Blender's front: -Y
    assert spec.ground_height == pytest.approx(0.0, abs=1e-6)
    assert rigmod.in_training_range(body)


def test_body_is_skinned_to_the_bones(hero) -> None:
    body = bpy.data.objects["Hero_Body"]
    assert body.parent == hero
    mods = [m for m in body.modifiers if m.type == "ARMATURE"]
    assert len(mods) == 1 and mods[0].object == hero
    bone_names = {b.name for b in hero.data.bones}
    groups = {g.index: g.name for g in body.vertex_groups}
    assert set(groups.values()) <= bone_names
    weights = [[(groups[g.group], g.weight) for g in v.groups] for v in body.data.vertices]
    assert all(len(w) == 1 and w[0][1] == pytest.approx(1.0) for w in weights)  # every vertex on one bone
    used = {w[0][0] for w in weights}
    for role in ("pelvis", "head", "left_thigh", "right_shin", "left_upper_arm", "right_lower_arm", "left_foot"):
        assert rigmod.detect_full(list(bone_names)).mapping[role] in used, role


def test_mesh_deforms_with_the_pose(hero) -> None:
    scene = bpy.context.scene
    body = bpy.data.objects["Hero_Body"]
    rest = sc.world_points_over_frames([body], scene, [scene.frame_current], max_points=10**9)
    arm_bone = hero.pose.bones["mixamorig:LeftForeArm"]
    arm_bone.rotation_mode = "XYZ"
    arm_bone.rotation_euler = (0.0, 0.0, 1.2)
    posed = sc.world_points_over_frames([body], scene, [scene.frame_current], max_points=10**9)
    moved = np.linalg.norm(posed - rest, axis=1) > 1e-3
    # The forearm and hand move (a few hundred vertices), the rest of the body stays.
    assert 50 < moved.sum() < 0.3 * len(rest)
    assert np.all(posed[moved, 0] > 0.3)  # only things out along the left arm (+X)


def test_feet_stand_on_the_ground_and_height_is_canonical(hero) -> None:
    body = bpy.data.objects["Hero_Body"]
    pts = sc.world_points_over_frames([body], bpy.context.scene, [1], max_points=10**9)
    assert pts[:, 2].min() == pytest.approx(0.0, abs=2e-3)
    assert pts[:, 2].max() == pytest.approx(CANONICAL.standing_height, abs=0.03)
