"""Export the baked motion through Blender's own exporters: BVH, FBX and glTF (.glb / .gltf).

`export_motion(armature, filepath)` is the one function (the CLI's `--export` calls it); the operator
`backflip.export_motion` wraps it for the panel and File > Export. The format follows the file extension.

What is written: the armature's active Action (the baked flip) sampled on every frame of its range, with every
bone keyed (BVH: the armature only; FBX and glTF: the armature and the meshes it deforms, so the file plays in
another package as it does here). Selection, active object, mode, current frame and the scene's frame range
are restored afterwards, whatever happens.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..core.errors import BackflipError
from ._support import OpResult, action_frame_range, export_menu_entry, scene_of

FORMATS: dict[str, str] = {".bvh": "BVH", ".fbx": "FBX", ".glb": "GLB", ".gltf": "GLTF"}
FORMAT_EXT: dict[str, str] = {"BVH": ".bvh", "FBX": ".fbx", "GLB": ".glb", "GLTF": ".gltf"}


def format_for(filepath: str) -> str:
    ext = os.path.splitext(filepath)[1].lower()
    if ext not in FORMATS:
        raise BackflipError(f"Cannot export motion to '{filepath}': use a file ending in "
                            f"{', '.join(FORMATS)} (BVH, FBX or glTF).")
    return FORMATS[ext]


def motion_frame_range(armature: bpy.types.Object) -> tuple[int, int]:
    """First and last frame of the armature's active Action (the baked flip)."""
    return action_frame_range(armature, f"Armature '{armature.name}' has no animation to export. Bake a flip first "
                                        "(Backflip panel > Flip, or `python -m blender_backflip flip`).")


def _deformed_meshes(armature: bpy.types.Object) -> list[bpy.types.Object]:
    return [o for o in bpy.data.objects if o.type == "MESH" and any(
        isinstance(m, bpy.types.ArmatureModifier) and m.object == armature for m in o.modifiers)]


def _check_exporter(fmt: str) -> None:
    import addon_utils

    module = {"BVH": "io_anim_bvh", "FBX": "io_scene_fbx", "GLB": "io_scene_gltf2", "GLTF": "io_scene_gltf2"}[fmt]
    loaded, enabled = addon_utils.check(module)
    if not enabled:
        addon_utils.enable(module, default_set=False)
        if not addon_utils.check(module)[1]:
            raise BackflipError(f"Blender's {fmt} exporter ('{module}') is not available; enable it in "
                                f"Preferences > Add-ons.")


def export_motion(armature: bpy.types.Object, filepath: str, frame_range: tuple[int, int] | None = None,
                  include_mesh: bool = True, context: bpy.types.Context | None = None) -> str:
    """Write the armature's baked motion to `filepath` (format from its extension); returns the path written."""
    context = context or bpy.context
    if armature is None or armature.type != "ARMATURE":
        name = getattr(armature, "name", armature)
        raise BackflipError(f"'{name}' is not an armature; pick the armature that carries the flip.")
    fmt = format_for(filepath)
    start, end = frame_range or motion_frame_range(armature)
    if end < start:
        raise BackflipError(f"Frame range {start}-{end} is empty; give a last frame after the first.")
    filepath = os.path.abspath(bpy.path.abspath(filepath))
    folder = os.path.dirname(filepath)
    if not os.path.isdir(folder):
        raise BackflipError(f"Folder '{folder}' does not exist; create it or export somewhere else.")
    _check_exporter(fmt)

    scene = scene_of(context)
    view_layer = context.view_layer
    if view_layer is None:
        raise BackflipError("No view layer is active; open a scene and try again.")
    saved_selection = [o for o in view_layer.objects if o.select_get()]
    saved_active = view_layer.objects.active
    saved_frames = (scene.frame_start, scene.frame_end, scene.frame_current)
    saved_mode = saved_active.mode if saved_active is not None else "OBJECT"
    try:
        if saved_active is not None and saved_active.mode != "OBJECT":
            bpy.ops.object.mode_set(mode="OBJECT")
        for obj in saved_selection:
            obj.select_set(False)
        chosen = [armature] + (_deformed_meshes(armature) if include_mesh and fmt != "BVH" else [])
        for obj in chosen:
            if obj.name in view_layer.objects:
                obj.select_set(True)
        view_layer.objects.active = armature
        scene.frame_start, scene.frame_end = start, end
        if fmt == "BVH":
            result = bpy.ops.export_anim.bvh(filepath=filepath, check_existing=False, frame_start=start,
                                             frame_end=end, global_scale=1.0, rotate_mode="NATIVE",
                                             root_transform_only=False)
        elif fmt == "FBX":
            result = bpy.ops.export_scene.fbx(
                filepath=filepath, check_existing=False, use_selection=True,
                object_types={"ARMATURE", "MESH"}, add_leaf_bones=False, use_armature_deform_only=False,
                bake_anim=True, bake_anim_use_all_bones=True, bake_anim_use_nla_strips=False,
                bake_anim_use_all_actions=False, bake_anim_force_startend_keying=True, bake_anim_step=1.0,
                bake_anim_simplify_factor=0.0, apply_scale_options="FBX_SCALE_NONE", path_mode="AUTO")
        else:
            result = bpy.ops.export_scene.gltf(
                filepath=filepath, check_existing=False, export_format="GLB" if fmt == "GLB" else "GLTF_SEPARATE",
                use_selection=True, export_animations=True, export_frame_range=True, export_force_sampling=True,
                export_animation_mode="ACTIVE_ACTIONS", export_optimize_animation_size=False,
                export_def_bones=False, export_anim_slide_to_zero=False, export_negative_frame="SLIDE",
                export_skins=True, export_cameras=False, export_lights=False)
        if result is None or "FINISHED" not in result or not os.path.isfile(filepath):
            raise BackflipError(f"Blender's {fmt} exporter did not write '{filepath}'.")
    finally:
        scene.frame_start, scene.frame_end = saved_frames[0], saved_frames[1]
        scene.frame_set(saved_frames[2])
        for obj in view_layer.objects:
            obj.select_set(obj in saved_selection)
        view_layer.objects.active = saved_active
        if saved_active is not None and saved_mode != "OBJECT" and saved_active.mode != saved_mode:
            try:
                bpy.ops.object.mode_set(mode=saved_mode)
            except RuntimeError:
                pass
    return filepath


class BACKFLIP_OT_export_motion(bpy.types.Operator, ExportHelper):
    """Export the baked flip of an armature as BVH, FBX or glTF (Blender's own exporters)"""

    bl_idname = "backflip.export_motion"
    bl_label = "Export Flip Motion"
    bl_options = {"REGISTER"}

    if TYPE_CHECKING:  # ExportHelper's property, which the bpy stubs leave out (not an annotation at run time)
        filepath: str

    filename_ext = ".fbx"
    filter_glob: StringProperty(default="*.fbx;*.bvh;*.glb;*.gltf", options={"HIDDEN"})  # type: ignore[valid-type]
    armature: StringProperty(  # type: ignore[valid-type]
        name="Armature", description="Armature carrying the baked flip (empty: the active object)", default="")
    file_format: EnumProperty(  # type: ignore[valid-type]
        name="Format",
        items=(("FBX", "FBX", "Autodesk FBX: armature, mesh and the baked animation"),
               ("BVH", "BVH", "Biovision hierarchy: the skeleton's motion only"),
               ("GLB", "glTF Binary", "glTF 2.0 binary (.glb): armature, mesh and animation"),
               ("GLTF", "glTF Separate", "glTF 2.0 (.gltf + .bin)")),
        default="FBX")
    include_mesh: BoolProperty(  # type: ignore[valid-type]
        name="Include Mesh", description="Also write the meshes the armature deforms (FBX, glTF)", default=True)

    def _armature(self, context: bpy.types.Context) -> bpy.types.Object | None:
        if self.armature:
            return bpy.data.objects.get(self.armature)
        return context.active_object

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.mode == "OBJECT" or context.mode == "POSE"

    # The stubs type ExportHelper.check and .invoke as returning None; Blender's return a bool and a result set.
    def check(self, context: bpy.types.Context) -> bool:  # type: ignore[override]
        ext = FORMAT_EXT[self.file_format]
        self.filename_ext = ext
        root, current = os.path.splitext(self.filepath)
        if current.lower() != ext:
            self.filepath = (root if current.lower() in FORMATS else self.filepath) + ext
            return True
        return False

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OpResult:  # type: ignore[override]
        self.filename_ext = FORMAT_EXT[self.file_format]
        return ExportHelper.invoke(self, context, event)  # type: ignore[func-returns-value, return-value]

    def execute(self, context: bpy.types.Context) -> OpResult:
        try:
            if not self.filepath:
                raise BackflipError("No file to export to; give a path ending in .fbx, .bvh, .glb or .gltf.")
            path = self.filepath
            if os.path.splitext(path)[1].lower() not in FORMATS:
                path += FORMAT_EXT[self.file_format]
            armature = self._armature(context)
            if armature is None:
                raise BackflipError(f"No armature named '{self.armature}'." if self.armature else
                                    "Select the armature that carries the flip.")
            written = export_motion(armature, path, include_mesh=self.include_mesh, context=context)
        except BackflipError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Exported the flip of '{armature.name}' to {written}")
        return {"FINISHED"}


def menu_func_export(self, context: bpy.types.Context) -> None:
    self.layout.operator(BACKFLIP_OT_export_motion.bl_idname, text="Backflip Motion (.fbx/.bvh/.glb)")


classes = (BACKFLIP_OT_export_motion,)

register, unregister = export_menu_entry(classes, menu_func_export)
