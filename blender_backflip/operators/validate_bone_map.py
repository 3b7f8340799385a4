"""Detect and validate the bone map: which bone plays which role (shown and edited in the panel)."""

import math

import bpy
from bpy.props import StringProperty

from ..core.errors import BackflipError
from ..core.rig import ROLES, detect_full, mapping_problems
from . import _pipeline as pipe
from ._support import (ArmaturePoll, FlipSettings, OpResult, guarded, preserved_state, resolve_armature,
                       settings_of)


def _bone_names(obj: bpy.types.Object) -> list[str]:
    data = obj.data
    assert isinstance(data, bpy.types.Armature)
    return [b.name for b in data.bones]


class BACKFLIP_OT_detect_bone_map(ArmaturePoll, bpy.types.Operator):
    """Fill the bone map from the bone names (Mixamo, Rigify, Unreal mannequin or .L/.R-style names)"""

    bl_idname = "backflip.detect_bone_map"
    bl_label = "Detect Bone Map"
    bl_options = {"REGISTER", "UNDO"}
    armature: StringProperty(name="Armature", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        obj = resolve_armature(context, self.armature)
        group = settings_of(context)
        if group is None:
            raise BackflipError("The Backflip add-on is not registered; enable it in Preferences > Add-ons.")
        d = detect_full(_bone_names(obj))
        group.bone_map.clear()
        for role in ROLES:
            item = group.bone_map.add()
            item.role, item.bone = role, d.mapping.get(role, "")
        group.map_armature, group.preset, group.confidence = obj.name, d.preset, d.confidence
        group.armature = obj
        missing = [r for r in ROLES if r not in d.mapping]
        if missing:
            self.report({"WARNING"}, f"Bone map of '{obj.name}': {d.preset}, {100 * d.confidence:.0f}%; pick bones "
                                     f"for {', '.join(missing)}.")
        else:
            self.report({"INFO"}, f"Bone map of '{obj.name}': {d.preset}, {100 * d.confidence:.0f}% of the roles.")
        return {"FINISHED"}


class BACKFLIP_OT_validate_bone_map(ArmaturePoll, bpy.types.Operator):
    """Check the bone map and the body it gives; lists missing roles and bones used twice"""

    bl_idname = "backflip.validate_bone_map"
    bl_label = "Validate Bone Map"
    bl_options = {"REGISTER"}
    armature: StringProperty(name="Armature", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        obj = resolve_armature(context, self.armature)
        settings = FlipSettings.from_scene(context)
        names = _bone_names(obj)
        found = pipe.stored_mapping(context, obj)
        if found is None:
            d = detect_full(names)
            found = (d.preset, d.confidence, d.mapping)
        problems = mapping_problems(found[2], names)
        if problems:
            raise BackflipError(f"Bone map of '{obj.name}' is not usable: {'; '.join(problems)}. Pick the bones "
                                "in the Backflip panel's bone map.")
        with preserved_state(context, obj):
            avatar = pipe.read_avatar(context, obj, settings, found)
        rig = avatar.rig
        self.report({"INFO"}, f"Bone map of '{obj.name}' is complete ({avatar.preset}): "
                              f"{avatar.body.avatar.standing_height:.2f} m tall, {rig.arm_pose}, facing "
                              f"{math.degrees(rig.facing_yaw):.0f} deg."
                              + (f" {avatar.note}" if avatar.note else ""))
        return {"FINISHED"}


classes = (BACKFLIP_OT_detect_bone_map, BACKFLIP_OT_validate_bone_map)
