"""Export reference clip: the armature's own motion (keys or mocap on the rig) as a DeepMimic clip that the
trainer imitates (`python -m policy.train --clip FILE`), so an animator's backflip becomes the policy's.

`export_reference(context, armature, filepath)` is the one function (the CLI's `reference` command calls it);
the operator `backflip.export_reference` wraps it for the panel and File > Export. The rig is read through
the same bone map, facing and ground as a bake (core.rig_motion inverts core.bake), every frame of the
range, and the clip is made for the canonical body. The scene's current frame is restored afterwards.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import bpy
import numpy as np
from bpy.props import IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..core.errors import BackflipError
from ..core.motion import Motion, save_deepmimic
from ..core.rig import rest_alignment
from ..core.rig_motion import ROLES_READ, body_rotations, check_moves, motion_from_bodies, pelvis_positions
from . import _pipeline as pipe
from ._modal import settings_and_avatar
from ._support import (FlipSettings, OpResult, action_frame_range, export_menu_entry, guarded, preserved_state,
                       scene_of)

CLIP_EXTENSIONS = (".txt", ".json")


def read_rig_motion(context: bpy.types.Context, armature: bpy.types.Object, avatar: pipe.Avatar,
                    settings: FlipSettings, frame_range: tuple[int, int]) -> Motion:
    """The armature's motion over the frame range (every frame) as a reference Motion for the canonical body."""
    scene = scene_of(context)
    start, end = frame_range
    if end <= start:
        raise BackflipError(f"Frame range {start}-{end} is too short; give a last frame after the first.")
    fps = scene.render.fps / scene.render.fps_base
    rig = avatar.rig
    placement = pipe.placement_for(avatar, settings)
    bones = {role: rig.mapping[role] for role in ROLES_READ}
    n = end - start + 1
    world = {role: np.empty((n, 3, 3)) for role in ROLES_READ}
    pelvis_head = np.empty((n, 3))
    with preserved_state(context, armature):
        for i, frame in enumerate(range(start, end + 1)):
            scene.frame_set(frame)
            evaluated = armature.evaluated_get(context.evaluated_depsgraph_get())
            pose = evaluated.pose
            if pose is None:
                raise BackflipError(f"Armature '{armature.name}' has no pose to read; open it in Pose Mode once.")
            object_matrix = np.array(evaluated.matrix_world, dtype=np.float64)
            object_rotation = object_matrix[:3, :3] / rig.object_scale
            for role, bone in bones.items():
                pose_bone = pose.bones[bone]
                world[role][i] = object_rotation @ np.array(pose_bone.matrix, dtype=np.float64)[:3, :3]
                if role == "pelvis":
                    pelvis_head[i] = object_matrix[:3, :3] @ np.array(pose_bone.head) + object_matrix[:3, 3]
    rotations = body_rotations(rig, world, placement, rest_alignment(rig, placement.yaw))
    root = pelvis_positions(rig, pelvis_head, rotations["pelvis"], placement)
    times = np.arange(n) / fps
    motion = motion_from_bodies(times, root, rotations, avatar.body.simulated, name=f"{armature.name} {start}-{end}")
    check_moves(motion, frame_range)
    return motion


def export_reference(context: bpy.types.Context, op: bpy.types.Operator, filepath: str,
                     frame_range: tuple[int, int] | None = None) -> tuple[str, Motion]:
    """Write the armature's motion as a DeepMimic clip at `filepath`; returns the path and the motion.

    op: the operator, whose `armature` option (else the panel's pick or the active armature) and the panel's
    settings (bone map, ground, facing) are used."""
    if os.path.splitext(filepath)[1].lower() not in CLIP_EXTENSIONS:
        raise BackflipError(f"Cannot write a reference clip to '{filepath}': use a file ending in .txt (DeepMimic's "
                            "clips) or .json.")
    path = os.path.abspath(bpy.path.abspath(filepath))
    if not os.path.isdir(os.path.dirname(path)):
        raise BackflipError(f"Folder '{os.path.dirname(path)}' does not exist; create it or export somewhere else.")
    obj, avatar, settings = settings_and_avatar(op, context)
    motion = read_rig_motion(context, obj, avatar, settings, frame_range or action_frame_range(
        obj, f"Armature '{obj.name}' has no active Action to export. Key its motion (or import mocap onto it) "
             "first, or give the frame range."))
    save_deepmimic(path, motion)
    return path, motion


class BACKFLIP_OT_export_reference(bpy.types.Operator, ExportHelper):
    """Write the armature's own motion (its keys or mocap) as a reference clip to train a policy on"""

    bl_idname = "backflip.export_reference"
    bl_label = "Export Reference Clip"
    bl_options = {"REGISTER"}

    if TYPE_CHECKING:  # ExportHelper's property, which the bpy stubs leave out (not an annotation at run time)
        filepath: str

    filename_ext = ".txt"
    filter_glob: StringProperty(default="*.txt;*.json", options={"HIDDEN"})  # type: ignore[valid-type]
    armature: StringProperty(  # type: ignore[valid-type]
        name="Armature", description="Armature whose motion is exported (default: the active one)",
        options={"SKIP_SAVE"})
    frame_start: IntProperty(  # type: ignore[valid-type]
        name="First frame", default=0, options={"SKIP_SAVE"},
        description="First frame of the motion (with Last frame 0: the active Action's range)")
    frame_end: IntProperty(  # type: ignore[valid-type]
        name="Last frame", default=0, options={"SKIP_SAVE"},
        description="Last frame of the motion (0: the active Action's range)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return context.mode == "OBJECT" or context.mode == "POSE"

    # The stubs type ExportHelper.check and .invoke as returning None; Blender's return a bool and a result set.
    def check(self, context: bpy.types.Context) -> bool:  # type: ignore[override]
        return bool(ExportHelper.check(self, context))  # type: ignore[func-returns-value]

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OpResult:  # type: ignore[override]
        return ExportHelper.invoke(self, context, event)  # type: ignore[func-returns-value, return-value]

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        if not self.filepath:
            raise BackflipError("No file to export to; give a path ending in .txt.")
        frames = (int(self.frame_start), int(self.frame_end)) if self.frame_end else None
        path, motion = export_reference(context, self, self.filepath, frames)
        self.report({"INFO"}, f"Wrote the reference clip {path} ({motion.duration:.2f} s). Train a policy on it: "
                              f"python -m policy.train --clip {path} --out runs/NAME")
        return {"FINISHED"}


def menu_func_export(self, context: bpy.types.Context) -> None:
    self.layout.operator(BACKFLIP_OT_export_reference.bl_idname, text="Backflip Reference Clip (.txt)")


classes = (BACKFLIP_OT_export_reference,)

register, unregister = export_menu_entry(classes, menu_func_export)
