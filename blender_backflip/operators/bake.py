"""Bake: write the simulated flip (simulating first when there is no result for this rig and settings)."""

import bpy

from . import _pipeline as pipe
from ._modal import settings_and_avatar
from ._support import ArmaturePoll, FlipOptions, OpResult, guarded
from .flip import bake


class BACKFLIP_OT_bake(ArmaturePoll, FlipOptions, bpy.types.Operator):
    """Bake the simulated flip into a new Action on the avatar (the previous action is kept)"""

    bl_idname = "backflip.bake"
    bl_label = "Bake"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        obj, avatar, settings = settings_and_avatar(self, context)
        sim = pipe.cached_simulation(avatar, settings) or pipe.simulate_avatar(avatar, settings)
        return bake(self, context, obj, avatar, sim, settings)


classes = (BACKFLIP_OT_bake,)
