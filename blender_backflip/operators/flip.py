"""Backflip!: read the avatar, simulate the flip on its body, bake it into a new Action. One click, one undo."""

import bpy

from . import _pipeline as pipe
from ._modal import SimulationOperator
from ._support import ArmaturePoll, FlipOptions, FlipSettings, OpResult, preserved_state, scene_of, settings_of


def remember(context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar) -> None:
    """Show what was read in the panel (bone map, preset, height); kept in the .blend."""
    group = settings_of(context)
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
         sim: pipe.Simulation, settings: FlipSettings) -> OpResult:
    pipe.check_verdict(sim, settings)
    with preserved_state(context, obj):
        plan = pipe.plan_for(avatar, sim, settings, scene_of(context))
        action = pipe.write_action(obj, plan, sim.take, settings, pipe.bake_info(avatar, sim, settings))
    remember(context, obj, avatar)
    first, last = int(plan.frames[0]), int(plan.frames[-1])
    note = f" {avatar.note}" if avatar.note else ""
    op.report({"INFO"}, f"Baked '{action.name}' on '{obj.name}', frames {first}-{last} ({plan.num_keys} keys; "
                        f"{pipe.outcome(sim)}).{note}")
    return {"FINISHED"}


class BACKFLIP_OT_flip(ArmaturePoll, FlipOptions, SimulationOperator):
    """Export the avatar, simulate the backflip on its body and bake it into a new Action"""

    bl_idname = "backflip.flip"
    bl_label = "Backflip!"
    bl_options = {"REGISTER", "UNDO"}

    def finish(self, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar, sim: pipe.Simulation,
               settings: FlipSettings) -> OpResult:
        return bake(self, context, obj, avatar, sim, settings)


classes = (BACKFLIP_OT_flip,)
