"""What every operator shares: the one place BackflipError becomes a report, finding the armature, the flip
settings copied out of the panel (and the operator's own options), and restoring the animator's state."""

import contextlib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Callable, Iterator

import bpy
from bpy.props import BoolProperty, FloatProperty, FloatVectorProperty, IntProperty, StringProperty

from ..core.errors import BackflipError
from ..core.nudge import Nudge

if TYPE_CHECKING:
    from bpy.stub_internal.rna_enums import OperatorReturnItems

    OpResult = set[OperatorReturnItems]
else:
    OpResult = set


def scene_of(context: bpy.types.Context) -> bpy.types.Scene:
    scene = context.scene
    if scene is None:
        raise BackflipError("No scene is active; open a scene and try again.")
    return scene


def guarded(op: bpy.types.Operator, func: Callable[..., OpResult], *args: Any) -> OpResult:
    """Run an operator's work; a BackflipError becomes one ERROR report and CANCELLED (no traceback)."""
    try:
        return func(*args)
    except BackflipError as exc:
        op.report({"ERROR"}, str(exc))
        return {"CANCELLED"}


def settings_of(context: bpy.types.Context) -> Any:
    """The panel's PropertyGroup (Scene.backflip), or None before the add-on is registered."""
    return getattr(context.scene, "backflip", None)


def active_armature(context: bpy.types.Context) -> bpy.types.Object | None:
    """The armature the panel points at, else the active object when it is an armature (or a mesh it deforms)."""
    picked = getattr(settings_of(context), "armature", None)
    if picked is not None and picked.type == "ARMATURE":
        return picked
    view_layer = context.view_layer
    obj = view_layer.objects.active if view_layer is not None and view_layer.objects is not None else None
    if obj is None:
        return None
    if obj.type == "ARMATURE":
        return obj
    for mod in getattr(obj, "modifiers", []):
        target = getattr(mod, "object", None)
        if mod.type == "ARMATURE" and target is not None:
            return target
    return obj.parent if obj.parent is not None and obj.parent.type == "ARMATURE" else None


def resolve_armature(context: bpy.types.Context, name: str = "") -> bpy.types.Object:
    """The armature an operator works on: by name when given, else the panel's pick or the active armature."""
    if name:
        obj = bpy.data.objects.get(name)
        if obj is None:
            names = sorted(o.name for o in bpy.data.objects if o.type == "ARMATURE")
            hint = f"armatures in this file: {', '.join(names)}" if names else "this file has no armature"
            raise BackflipError(f"No object named '{name}' ({hint}). Pass the armature's name.")
        if obj.type != "ARMATURE":
            raise BackflipError(f"'{name}' is a {obj.type.lower()}, not an armature. Pick the avatar's armature.")
        return obj
    obj = active_armature(context)
    if obj is None:
        raise BackflipError("No armature selected. Select the avatar's armature (or pick it in the Backflip "
                            "panel) and try again.")
    return obj


def no_armature_message(context: bpy.types.Context) -> str | None:
    """Why an armature operator cannot run now (for poll_message_set), or None."""
    if active_armature(context) is None:
        return "Select an armature, or pick one in the Backflip panel"
    return None


@dataclass
class FlipSettings:
    """The settings of one flip, copied out of the panel's PropertyGroup and overridden by operator options."""

    take: str = ""
    policy_file: str = ""
    seed: int = 0
    start_frame: int = 1
    total_mass: float = 70.0
    ground_from_feet: bool = True
    ground_height: float = 0.0
    facing_from_rig: bool = True
    facing: float = 0.0  # radians about Z, 0 = +X
    allow_fall: bool = False
    reduce_keys: bool = False
    max_error_deg: float = 0.5
    max_error_cm: float = 0.5
    use_nla: bool = False
    use_nudge: bool = False
    nudge_time: float = 0.3
    nudge_body: str = "torso"
    nudge_impulse: tuple[float, float, float] = (0.0, 20.0, 0.0)

    def nudge(self) -> Nudge | None:
        """The push the panel asks for, or None when Nudge is off."""
        if not self.use_nudge:
            return None
        return Nudge(float(self.nudge_time), str(self.nudge_body),
                     (float(self.nudge_impulse[0]), float(self.nudge_impulse[1]), float(self.nudge_impulse[2])))

    @classmethod
    def from_scene(cls, context: bpy.types.Context, op: bpy.types.Operator | None = None) -> "FlipSettings":
        group = settings_of(context)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if group is not None and hasattr(group, f.name):
                values[f.name] = getattr(group, f.name)
            props = op.properties if op is not None else None
            if props is not None and f.name in props.bl_rna.properties.keys() and props.is_property_set(f.name):
                values[f.name] = getattr(op, f.name)
        if values.get("take") == "NONE":
            values["take"] = ""
        if "nudge_impulse" in values:  # a Blender float array
            values["nudge_impulse"] = tuple(float(v) for v in values["nudge_impulse"])
        return cls(**values)


class FlipOptions:
    """Operator options that override the panel (headless callers pass them: take='final', seed=3, ...)."""

    armature: StringProperty(  # type: ignore[valid-type]
        name="Armature", description="Name of the armature (default: the active one)", options={"SKIP_SAVE"})
    take: StringProperty(  # type: ignore[valid-type]
        name="Take", description="Policy take by name (default: the panel's)", options={"SKIP_SAVE"})
    policy_file: StringProperty(  # type: ignore[valid-type]
        name="Policy file", subtype="FILE_PATH", options={"SKIP_SAVE"},
        description="A policy file to use instead of the bundled takes")
    seed: IntProperty(name="Seed", min=0, options={"SKIP_SAVE"})  # type: ignore[valid-type]
    start_frame: IntProperty(name="Start frame", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    total_mass: FloatProperty(  # type: ignore[valid-type]
        name="Total mass", min=1.0, max=1000.0, options={"SKIP_SAVE"})
    allow_fall: BoolProperty(name="Bake a fall", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    reduce_keys: BoolProperty(name="Reduce keys", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    use_nla: BoolProperty(name="NLA strip", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    use_nudge: BoolProperty(name="Nudge", options={"SKIP_SAVE"})  # type: ignore[valid-type]
    nudge_time: FloatProperty(name="Nudge at", min=0.0, options={"SKIP_SAVE"},  # type: ignore[valid-type]
                              description="Seconds after the flip starts")
    nudge_body: StringProperty(name="Nudged body", options={"SKIP_SAVE"},  # type: ignore[valid-type]
                               description="pelvis, torso, head, right_hand, ...")
    nudge_impulse: FloatVectorProperty(name="Push", size=3, options={"SKIP_SAVE"},  # type: ignore[valid-type]
                                       description="N s: forward, left, up in the avatar's frame")


class ArmaturePoll:
    """poll(): greyed out in the 3D View without an armature, saying why; scripts and headless callers name the
    armature and always reach execute(), which reports what is wrong."""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if context.area is None or context.area.type != "VIEW_3D":
            return True
        message = no_armature_message(context)
        if message:
            cls.poll_message_set(message)  # type: ignore[attr-defined]
        return message is None


@contextlib.contextmanager
def preserved_state(context: bpy.types.Context, obj: bpy.types.Object) -> Iterator[None]:
    """Restore frame, active object, selection and the armature's mode afterwards, whatever happens.

    Inside, the armature is in Object Mode (edits made in Edit Mode are flushed to its bones first).
    """
    scene = scene_of(context)
    view_layer = context.view_layer
    assert view_layer is not None
    frame = (scene.frame_current, scene.frame_subframe)
    active = view_layer.objects.active
    selected = [o for o in view_layer.objects if o.select_get()]
    mode = obj.mode
    if mode != "OBJECT":
        with context.temp_override(active_object=obj, object=obj):
            bpy.ops.object.mode_set(mode="OBJECT")
    try:
        yield
    finally:
        if mode != "OBJECT" and obj.mode != mode:
            with context.temp_override(active_object=obj, object=obj):
                bpy.ops.object.mode_set(mode=mode)
        for o in view_layer.objects:
            want = o in selected
            if o.select_get() != want:
                o.select_set(want)
        view_layer.objects.active = active
        scene.frame_set(frame[0], subframe=frame[1])


def action_frame_range(armature: bpy.types.Object, missing: str) -> tuple[int, int]:
    """First and last frame of the armature's active Action; `missing` is the error when it has none."""
    anim = armature.animation_data
    action = anim.action if anim is not None else None
    if action is None:
        raise BackflipError(missing)
    frame_range = action.frame_range
    return int(round(frame_range[0])), int(round(frame_range[1]))


def export_menu_entry(classes: tuple[type, ...], menu_func: Callable[..., None]
                      ) -> tuple[Callable[[], None], Callable[[], None]]:
    """register() and unregister() for operator classes with an entry in File > Export."""
    def register() -> None:
        for cls in classes:
            bpy.utils.register_class(cls)
        bpy.types.TOPBAR_MT_file_export.append(menu_func)

    def unregister() -> None:
        bpy.types.TOPBAR_MT_file_export.remove(menu_func)
        for cls in reversed(classes):
            bpy.utils.unregister_class(cls)

    return register, unregister
