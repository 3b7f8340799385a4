"""The interactive path shared by Simulate and Backflip!: the simulation runs in a worker thread (numpy and
MuJoCo only), a timer shows its progress in the window manager, ESC cancels and leaves the scene untouched.
Blender data is read before the thread starts and written after it ends, on the main thread."""

from typing import Any

import bpy

from ..core.errors import BackflipError
from . import _pipeline as pipe
from ._support import FlipSettings, OpResult, guarded, preserved_state, resolve_armature


def settings_and_avatar(op: bpy.types.Operator, context: bpy.types.Context
                        ) -> tuple[bpy.types.Object, pipe.Avatar, FlipSettings]:
    settings = FlipSettings.from_scene(context, op)
    obj = resolve_armature(context, getattr(op, "armature", ""))
    with preserved_state(context, obj):
        avatar = pipe.read_avatar(context, obj, settings)
    return obj, avatar, settings


class SimulationOperator(bpy.types.Operator):
    """Base of Simulate and Backflip!: execute() runs synchronously (headless, scripts); invoke() from the UI
    runs the simulation in a worker thread with progress and ESC. Subclasses define finish()."""

    _job: Any = None
    _timer: Any = None
    _obj_name: str = ""

    def finish(self, context: bpy.types.Context, obj: bpy.types.Object, avatar: pipe.Avatar, sim: pipe.Simulation,
               settings: FlipSettings) -> OpResult:
        raise NotImplementedError

    def execute(self, context: bpy.types.Context) -> OpResult:
        return guarded(self, self._run, context)

    def _run(self, context: bpy.types.Context) -> OpResult:
        obj, avatar, settings = settings_and_avatar(self, context)
        sim = pipe.simulate_avatar(avatar, settings)
        return self.finish(context, obj, avatar, sim, settings)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> OpResult:
        if bpy.app.background or context.window is None:
            return self.execute(context)
        return guarded(self, self._start, context)

    def _start(self, context: bpy.types.Context) -> OpResult:
        obj, avatar, settings = settings_and_avatar(self, context)
        if pipe.cached_simulation(avatar, settings) is not None:
            return self.execute(context)
        wm = context.window_manager
        assert wm is not None
        self._obj_name = obj.name
        self._job = pipe.SimulationJob(avatar, settings).start()
        wm.progress_begin(0, 100)
        self._timer = wm.event_timer_add(0.05, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _stop(self, context: bpy.types.Context) -> None:
        wm = context.window_manager
        if wm is None:
            return
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> OpResult:
        job = self._job
        if event.type == "ESC":
            job.cancelled = True
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if context.window_manager is not None:
            context.window_manager.progress_update(int(100 * job.fraction))
        if not job.done:
            return {"RUNNING_MODAL"}
        self._stop(context)
        return guarded(self, self._end, context)

    def _end(self, context: bpy.types.Context) -> OpResult:
        job = self._job
        sim = job.outcome()  # raises the worker's BackflipError (ESC included) here, on the main thread
        obj = bpy.data.objects.get(self._obj_name)
        if obj is None:
            raise BackflipError(f"Armature '{self._obj_name}' was deleted during the simulation; nothing was baked.")
        return self.finish(context, obj, job.avatar, sim, job.settings)

    def cancel(self, context: bpy.types.Context) -> None:
        if self._job is not None:
            self._job.cancelled = True
        self._stop(context)
