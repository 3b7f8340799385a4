"""Simulate: run the policy on the avatar's body (MuJoCo, CPU) and keep the result for Bake. Changes nothing."""

import bpy

from . import _pipeline as pipe
from ._modal import SimulationOperator
from ._support import ArmaturePoll, FlipOptions, FlipSettings, OpResult, settings_of


class BACKFLIP_OT_simulate(ArmaturePoll, FlipOptions, SimulationOperator):
    """Simulate the backflip on the avatar's body; the result is kept until the rig or the settings change"""

    bl_idname = "backflip.simulate"
    bl_label = "Simulate"
    bl_options = {"REGISTER"}

    def finish(self, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar, sim: pipe.Simulation,
               settings: FlipSettings) -> OpResult:
        verdict = sim.result.verdict
        duration = float(sim.result.times[-1])
        note = f" {avatar.note}" if avatar.note else ""
        self.report({"INFO"} if verdict.landed else {"WARNING"},
                    f"Simulated {duration:.2f} s of '{sim.take}' on '{obj.name}' in {sim.seconds:.2f} s: "
                    f"{pipe.outcome(sim)}.{note}")
        group = settings_of(context)
        if group is not None:
            group.last_verdict = verdict.describe()
        return {"FINISHED"}


classes = (BACKFLIP_OT_simulate,)
