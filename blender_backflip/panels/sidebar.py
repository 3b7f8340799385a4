"""The "Backflip" tab of the 3D View's sidebar."""

from typing import Any

import bpy

from ..operators._support import active_armature, settings_of


class BACKFLIP_UL_bone_map(bpy.types.UIList):
    def draw_item(self, context: bpy.types.Context, layout: bpy.types.UILayout, data: Any | None, item: Any | None,
                  icon: int | None, active_data: Any, active_property: str | None, index: int | None = 0,
                  flt_flag: int | None = 0) -> None:
        if item is None:
            return
        armature = active_armature(context)
        row = layout.row(align=True)
        row.label(text=item.role.replace("_", " "))
        if armature is not None:
            row.prop_search(item, "bone", armature.data, "bones", text="", icon="BONE_DATA")
        else:
            row.prop(item, "bone", text="")


class _Panel(bpy.types.Panel):
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Backflip"
    bl_label = ""

    def ui(self) -> bpy.types.UILayout:
        layout = self.ui()
        assert layout is not None
        return layout


class BACKFLIP_PT_main(_Panel):
    bl_label = "Backflip"

    def draw(self, context: bpy.types.Context) -> None:
        s = settings_of(context)
        layout = self.ui()
        layout.prop(s, "armature")
        armature = active_armature(context)
        if s.armature is None and armature is not None:
            layout.label(text=f"Using the active armature: {armature.name}", icon="ARMATURE_DATA")
        big = layout.row()
        big.scale_y = 2.0
        big.operator("backflip.flip", text="Backflip!", icon="ARMATURE_DATA")
        row = layout.row(align=True)
        row.operator("backflip.export_avatar", text="Export Avatar")
        row.operator("backflip.simulate", text="Simulate")
        row.operator("backflip.bake", text="Bake")
        layout.operator("backflip.export_reference", text="Your Motion as Reference...", icon="EXPORT")
        for text in (s.last_verdict, s.last_note):
            if text:
                layout.label(text=text, icon="INFO")


class BACKFLIP_PT_bone_map(_Panel):
    bl_label = "Bone Map"
    bl_parent_id = "BACKFLIP_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        s = settings_of(context)
        layout = self.ui()
        armature = active_armature(context)
        if s.map_armature and armature is not None and s.map_armature == armature.name:
            layout.label(text=f"Preset: {s.preset} ({100 * s.confidence:.0f}%)")
        else:
            layout.label(text="Detected when you flip, or press Detect")
        layout.template_list("BACKFLIP_UL_bone_map", "", s, "bone_map", s, "bone_map_index", rows=5)
        row = layout.row(align=True)
        row.operator("backflip.detect_bone_map", text="Detect", icon="VIEWZOOM")
        row.operator("backflip.validate_bone_map", text="Validate", icon="CHECKMARK")


class BACKFLIP_PT_body(_Panel):
    bl_label = "Body"
    bl_parent_id = "BACKFLIP_PT_main"

    def draw(self, context: bpy.types.Context) -> None:
        s = settings_of(context)
        layout = self.ui()
        row = layout.row()
        row.enabled = False
        row.prop(s, "height", text="Height (from rig)")
        layout.prop(s, "total_mass")


class BACKFLIP_PT_flip(_Panel):
    bl_label = "Flip"
    bl_parent_id = "BACKFLIP_PT_main"

    def draw(self, context: bpy.types.Context) -> None:
        s = settings_of(context)
        layout = self.ui()
        layout.use_property_split = True
        layout.prop(s, "take")
        layout.prop(s, "policy_file")
        layout.prop(s, "seed")
        layout.prop(s, "start_frame")
        layout.prop(s, "ground_from_feet")
        sub = layout.row()
        sub.enabled = not s.ground_from_feet
        sub.prop(s, "ground_height")
        layout.prop(s, "facing_from_rig")
        sub = layout.row()
        sub.enabled = not s.facing_from_rig
        sub.prop(s, "facing")
        layout.prop(s, "allow_fall")
        layout.prop(s, "reduce_keys")
        col = layout.column(align=True)
        col.enabled = s.reduce_keys
        col.prop(s, "max_error_deg")
        col.prop(s, "max_error_cm")
        layout.prop(s, "use_nla")
        layout.prop(s, "use_nudge")
        col = layout.column(align=True)
        col.enabled = s.use_nudge
        col.prop(s, "nudge_time")
        col.prop(s, "nudge_body")
        col.prop(s, "nudge_impulse", text="Forward, Left, Up")


classes = (BACKFLIP_UL_bone_map, BACKFLIP_PT_main, BACKFLIP_PT_bone_map, BACKFLIP_PT_body, BACKFLIP_PT_flip)
