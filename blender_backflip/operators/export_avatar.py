"""Export avatar: the avatar's physics body as MJCF and its bone map as JSON, for use in other tools."""

import json
import math
import os
from dataclasses import asdict

import bpy
from bpy.props import StringProperty

from ..core.errors import BackflipError
from ._modal import settings_and_avatar
from ._pipeline import Avatar
from ._support import ArmaturePoll, FlipOptions, OpResult, guarded


def export_avatar_files(avatar: Avatar, directory: str) -> tuple[str, str]:
    """Write <name>.xml (MJCF of the simulated body) and <name>_bonemap.json; returns both paths."""
    from ..core.character import build_character

    if not os.path.isdir(directory):
        raise BackflipError(f"Folder '{directory}' does not exist; create it or choose another folder.")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in avatar.name)
    mjcf = os.path.join(directory, f"{safe}.xml")
    bonemap = os.path.join(directory, f"{safe}_bonemap.json")
    build_character(avatar.body.simulated).to_mjcf(mjcf)
    rig = avatar.rig
    data = {
        "armature": avatar.name, "preset": avatar.preset, "confidence": avatar.confidence,
        "roles": rig.mapping, "root_bone": rig.root_bone, "arm_pose": rig.arm_pose,
        "facing_deg": math.degrees(rig.facing_yaw), "ground_height": rig.ground_height,
        "proportions": asdict(avatar.body.avatar), "simulated_proportions": asdict(avatar.body.simulated),
        "motion_scale": avatar.body.scale, "note": avatar.note, "mjcf": os.path.basename(mjcf),
    }
    with open(bonemap, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    return mjcf, bonemap


class BACKFLIP_OT_export_avatar(ArmaturePoll, FlipOptions, bpy.types.Operator):
    """Write the avatar's physics body (MJCF) and bone map (JSON) to a folder"""

    bl_idname = "backflip.export_avatar"
    bl_label = "Export Avatar"
    bl_options = {"REGISTER"}

    directory: StringProperty(  # type: ignore[valid-type]
        name="Folder", subtype="DIR_PATH", default="//",
        description="Where to write <armature>.xml and <armature>_bonemap.json")

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        directory = str(self.directory)
        if directory.startswith("//") and not bpy.data.filepath:
            raise BackflipError("The .blend file is not saved, so '//' (next to it) is nowhere. Save the file or "
                                "choose a folder.")
        obj, avatar, settings = settings_and_avatar(self, context)
        mjcf, bonemap = export_avatar_files(avatar, bpy.path.abspath(directory))
        self.report({"INFO"}, f"Wrote {mjcf} and {bonemap}." + (f" {avatar.note}" if avatar.note else ""))
        return {"FINISHED"}


classes = (BACKFLIP_OT_export_avatar,)
