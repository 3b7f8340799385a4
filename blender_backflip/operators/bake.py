"""Bake: write the simulated flip (simulating first when there is no result for this rig and settings)."""

from typing import Any

import bpy

from . import _pipeline as pipe
from ._modal import settings_and_avatar
from ._support import add_flip_options, guarded, no_armature_message
from .flip import bake


class BACKFLIP_OT_bake(bpy.types.Operator):
    """Bake the simulated flip into a new Action on the avatar (the previous action is kept)"""

    bl_idname = "backflip.bake"
    bl_label = "Bake"
    bl_options = {"REGISTER", "UNDO"}
    __annotations__: dict[str, Any] = {}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.area is None or context.area.type != "VIEW_3D":
            return True
        message = no_armature_message(context)
        if message:
            cls.poll_message_set(message)
        return message is None

    def execute(self, context: bpy.types.Context) -> set[str]:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> set[str]:
        obj, avatar, settings = settings_and_avatar(self, context)
        sim = pipe.cached_simulation(avatar, settings) or pipe.simulate_avatar(avatar, settings)
        return bake(self, context, obj, avatar, sim, settings)


add_flip_options(BACKFLIP_OT_bake.__annotations__)
classes = (BACKFLIP_OT_bake,)
