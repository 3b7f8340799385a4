"""Simulate: run the policy on the avatar's body (MuJoCo, CPU) and keep the result for Bake. Changes nothing."""

from typing import Any

import bpy

from . import _pipeline as pipe
from ._modal import ModalSimulation, settings_and_avatar
from ._support import FlipSettings, add_flip_options, guarded, no_armature_message


class BACKFLIP_OT_simulate(ModalSimulation, bpy.types.Operator):
    """Simulate the backflip on the avatar's body; the result is kept until the rig or the settings change"""

    bl_idname = "backflip.simulate"
    bl_label = "Simulate"
    bl_options = {"REGISTER"}
    __annotations__: dict[str, Any] = {}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.area is None or context.area.type != "VIEW_3D":
            return True
        message = no_armature_message(context)
        if message:
            cls.poll_message_set(message)
        return message is None

    def prepare(self, context: bpy.types.Context) -> Any:
        return settings_and_avatar(self, context)

    def finish(self, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar, sim: pipe.Simulation,
               settings: FlipSettings) -> set[str]:
        verdict = sim.result.verdict
        duration = float(sim.result.times[-1])
        note = f" {avatar.note}" if avatar.note else ""
        self.report({"INFO"} if verdict.landed else {"WARNING"},
                    f"Simulated {duration:.2f} s of '{sim.take}' on '{obj.name}' in {sim.seconds:.2f} s: "
                    f"{verdict.describe()}.{note}")
        group = getattr(context.scene, "backflip", None)
        if group is not None:
            group.last_verdict = verdict.describe()
        return {"FINISHED"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> set[str]:
        obj, avatar, settings = self.prepare(context)
        sim = pipe.simulate_avatar(avatar, settings)
        return self.finish(context, obj, avatar, sim, settings)


add_flip_options(BACKFLIP_OT_simulate.__annotations__)
classes = (BACKFLIP_OT_simulate,)
