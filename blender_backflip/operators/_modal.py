"""The interactive path shared by Simulate and Backflip!: the simulation runs in a worker thread (numpy and
MuJoCo only), a timer shows its progress in the window manager, ESC cancels and leaves the scene untouched.
Blender data is read before the thread starts and written after it ends, on the main thread."""

from typing import Any

import bpy

from ..core.errors import BackflipError
from . import _pipeline as pipe
from ._support import FlipSettings, guarded


class ModalSimulation:
    """Mixin for an operator with `prepare(context) -> (obj, avatar, settings)` and
    `finish(context, obj, avatar, sim, settings) -> set[str]`."""

    _job: Any = None
    _timer: Any = None
    _obj_name: str = ""

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if bpy.app.background or context.window is None:
            return self.execute(context)  # type: ignore[attr-defined, no-any-return]
        return guarded(self, self._start, context)  # type: ignore[arg-type]

    def _start(self, context: bpy.types.Context) -> set[str]:
        obj, avatar, settings = self.prepare(context)  # type: ignore[attr-defined]
        if pipe.cached_simulation(avatar, settings) is not None:
            return self.execute(context)  # type: ignore[attr-defined, no-any-return]
        self._obj_name = obj.name
        self._job = pipe.SimulationJob(avatar, settings).start()
        wm = context.window_manager
        wm.progress_begin(0, 100)
        self._timer = wm.event_timer_add(0.05, window=context.window)
        wm.modal_handler_add(self)  # type: ignore[arg-type]
        return {"RUNNING_MODAL"}

    def _stop(self, context: bpy.types.Context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        job = self._job
        if event.type == "ESC":
            job.cancelled = True
        if event.type != "TIMER":
            return {"RUNNING_MODAL"} if event.type == "ESC" else {"PASS_THROUGH"}
        context.window_manager.progress_update(int(100 * job.fraction))
        if not job.done:
            return {"RUNNING_MODAL"}
        self._stop(context)
        return guarded(self, self._end, context)  # type: ignore[arg-type]

    def _end(self, context: bpy.types.Context) -> set[str]:
        job = self._job
        sim = job.outcome()  # raises the worker's BackflipError (cancel included) here, on the main thread
        obj = bpy.data.objects.get(self._obj_name)
        if obj is None:
            raise BackflipError(f"Armature '{self._obj_name}' was deleted during the simulation; nothing was baked.")
        return self.finish(context, obj, job.avatar, sim, job.settings)  # type: ignore[attr-defined, no-any-return]

    def cancel(self, context: bpy.types.Context) -> None:
        if self._job is not None:
            self._job.cancelled = True
        self._stop(context)


def settings_and_avatar(op: bpy.types.Operator, context: bpy.types.Context) -> tuple[Any, Any, FlipSettings]:
    from ._support import preserved_state, resolve_armature

    settings = FlipSettings.from_scene(context, op)
    obj = resolve_armature(context, getattr(op, "armature", ""))
    with preserved_state(context, obj):
        avatar = pipe.read_avatar(context, obj, settings)
    return obj, avatar, settings
