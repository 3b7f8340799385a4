"""Backflip!: read the avatar, simulate the flip on its body, bake it into a new Action. One click, one undo."""

from typing import Any

import bpy

from . import _pipeline as pipe
from ._modal import ModalSimulation, settings_and_avatar
from ._support import FlipSettings, add_flip_options, guarded, no_armature_message, preserved_state


def remember(context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar) -> None:
    """Show what was read in the panel (bone map, preset, height); kept in the .blend."""
    group = getattr(context.scene, "backflip", None)
    if group is None:
        return
    if group.map_armature != obj.name or not len(group.bone_map):
        group.bone_map.clear()
        for role, bone in avatar.rig.mapping.items():
            item = group.bone_map.add()
            item.role, item.bone = role, bone
        group.map_armature = obj.name
        group.preset, group.confidence = avatar.preset, avatar.confidence
    group.height = avatar.body.avatar.standing_height
    group.last_note = avatar.note


def bake(op: bpy.types.Operator, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar,
         sim: pipe.Simulation, settings: FlipSettings) -> set[str]:
    pipe.check_verdict(sim, settings)
    with preserved_state(context, obj):
        plan = pipe.plan_for(avatar, sim, settings, context.scene)
        action = pipe.write_action(obj, plan, sim.take, settings, pipe.bake_info(avatar, sim, settings))
    remember(context, obj, avatar)
    first, last = int(plan.frames[0]), int(plan.frames[-1])
    note = f" {avatar.note}" if avatar.note else ""
    op.report({"INFO"}, f"Baked '{action.name}' on '{obj.name}', frames {first}-{last} ({plan.num_keys} keys; "
                        f"{sim.result.verdict.describe()}).{note}")
    return {"FINISHED"}


class BACKFLIP_OT_flip(ModalSimulation, bpy.types.Operator):
    """Export the avatar, simulate the backflip on its body and bake it into a new Action"""

    bl_idname = "backflip.flip"
    bl_label = "Backflip!"
    bl_options = {"REGISTER", "UNDO"}
    __annotations__: dict[str, Any] = {}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.area is None or context.area.type != "VIEW_3D":
            return True  # scripts and headless callers name the armature: execute() reports problems
        message = no_armature_message(context)
        if message:
            cls.poll_message_set(message)
        return message is None

    def prepare(self, context: bpy.types.Context) -> Any:
        return settings_and_avatar(self, context)

    def finish(self, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar, sim: pipe.Simulation,
               settings: FlipSettings) -> set[str]:
        return bake(self, context, obj, avatar, sim, settings)

    def execute(self, context: bpy.types.Context) -> set[str]:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> set[str]:
        obj, avatar, settings = self.prepare(context)
        sim = pipe.simulate_avatar(avatar, settings)
        return self.finish(context, obj, avatar, sim, settings)


add_flip_options(BACKFLIP_OT_flip.__annotations__)
classes = (BACKFLIP_OT_flip,)
