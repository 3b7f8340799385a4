"""Detect and validate the bone map: which bone plays which role (shown and edited in the panel)."""

from typing import Any

import bpy
from bpy.props import StringProperty

from ..core.errors import BackflipError
from ..core.rig import ROLES, detect_full, mapping_problems
from . import _pipeline as pipe
from ._support import FlipSettings, guarded, no_armature_message, preserved_state, resolve_armature


def _poll(cls: Any, context: bpy.types.Context) -> bool:
    if context.area is None or context.area.type != "VIEW_3D":
        return True
    message = no_armature_message(context)
    if message:
        cls.poll_message_set(message)
    return message is None


class BACKFLIP_OT_detect_bone_map(bpy.types.Operator):
    """Fill the bone map from the bone names (Mixamo, Rigify, Unreal mannequin or .L/.R-style names)"""

    bl_idname = "backflip.detect_bone_map"
    bl_label = "Detect Bone Map"
    bl_options = {"REGISTER", "UNDO"}
    __annotations__: dict[str, Any] = {
        "armature": StringProperty(name="Armature", options={"SKIP_SAVE"}),
    }

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _poll(cls, context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> set[str]:
        obj = resolve_armature(context, self.armature)
        group = context.scene.backflip  # type: ignore[attr-defined]
        d = detect_full([b.name for b in obj.data.bones])  # type: ignore[union-attr]
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


class BACKFLIP_OT_validate_bone_map(bpy.types.Operator):
    """Check the bone map and the body it gives; lists missing roles and bones used twice"""

    bl_idname = "backflip.validate_bone_map"
    bl_label = "Validate Bone Map"
    bl_options = {"REGISTER"}
    __annotations__: dict[str, Any] = {
        "armature": StringProperty(name="Armature", options={"SKIP_SAVE"}),
    }

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _poll(cls, context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> set[str]:
        obj = resolve_armature(context, self.armature)
        settings = FlipSettings.from_scene(context)
        names = [b.name for b in obj.data.bones]  # type: ignore[union-attr]
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
                              f"{__import__('math').degrees(rig.facing_yaw):.0f} deg."
                              + (f" {avatar.note}" if avatar.note else ""))
        return {"FINISHED"}


classes = (BACKFLIP_OT_detect_bone_map, BACKFLIP_OT_validate_bone_map)
