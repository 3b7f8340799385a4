"""Settings of the Backflip panel, saved in the .blend file (Scene.backflip)."""

import math
from typing import Any

import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, FloatVectorProperty, IntProperty,
                       PointerProperty, StringProperty)

from ..core.skeleton import BODIES

_take_items: list[tuple[str, str, str]] = []  # Blender needs the enum items kept alive in Python


def take_items(self: Any, context: Any) -> list[tuple[str, str, str]]:
    from ..operators._pipeline import available_takes

    items = [(take, take.replace("_", " ").title(), description or f"Policy take '{take}'")
             for take, _, description in available_takes()]
    _take_items[:] = items or [("NONE", "No policy found", "The add-on's assets folder has no policy file")]
    return _take_items


def is_armature(self: Any, obj: bpy.types.Object) -> bool:
    return obj.type == "ARMATURE"


class BACKFLIP_PG_bone_role(bpy.types.PropertyGroup):
    """One row of the bone map: a role of the physics body and the rig's bone that plays it."""

    role: StringProperty(name="Role")  # type: ignore[valid-type]
    bone: StringProperty(name="Bone", description="The rig's bone for this role")  # type: ignore[valid-type]


class BACKFLIP_PG_settings(bpy.types.PropertyGroup):
    """The panel's settings (Scene.backflip)."""

    armature: PointerProperty(  # type: ignore[valid-type]
        name="Armature", type=bpy.types.Object, poll=is_armature, description="The avatar (default: the active armature)")
    # bone map
    bone_map: CollectionProperty(type=BACKFLIP_PG_bone_role)  # type: ignore[valid-type]
    bone_map_index: IntProperty()  # type: ignore[valid-type]
    map_armature: StringProperty(description="The armature the bone map was made for")  # type: ignore[valid-type]
    preset: StringProperty(name="Preset")  # type: ignore[valid-type]
    confidence: FloatProperty(name="Confidence", subtype="FACTOR", min=0.0, max=1.0)  # type: ignore[valid-type]
    # body
    height: FloatProperty(name="Height", unit="LENGTH", description="Read from the rig")  # type: ignore[valid-type]
    total_mass: FloatProperty(  # type: ignore[valid-type]
        name="Total mass", default=70.0, min=1.0, max=1000.0, unit="MASS", description="The avatar's mass in kg (its body's segments share it)")
    # flip
    take: EnumProperty(name="Take", items=take_items, description="Which trained policy performs the flip")  # type: ignore[valid-type]
    policy_file: StringProperty(  # type: ignore[valid-type]
        name="Policy file", subtype="FILE_PATH", description="A policy file to use instead of the bundled takes")
    seed: IntProperty(name="Seed", default=0, min=0, description="Same seed, same flip")  # type: ignore[valid-type]
    start_frame: IntProperty(name="Start frame", default=1, description="First frame of the baked flip")  # type: ignore[valid-type]
    ground_from_feet: BoolProperty(  # type: ignore[valid-type]
        name="Ground from feet", default=True, description="Ground height at the lowest point of the feet at rest")
    ground_height: FloatProperty(name="Ground height", unit="LENGTH", default=0.0)  # type: ignore[valid-type]
    facing_from_rig: BoolProperty(  # type: ignore[valid-type]
        name="Facing from rig", default=True, description="Flip backwards from the way the avatar faces at rest")
    facing: FloatProperty(  # type: ignore[valid-type]
        name="Facing", subtype="ANGLE", default=-math.pi / 2, description="Direction the avatar faces (about Z, 0 = +X, -90 = -Y, the front view)")
    allow_fall: BoolProperty(  # type: ignore[valid-type]
        name="Bake a fall", default=False, description="Bake the take even when the simulated flip does not land")
    reduce_keys: BoolProperty(  # type: ignore[valid-type]
        name="Reduce keys", default=False, description="Drop keys that linear interpolation reproduces within the errors")
    max_error_deg: FloatProperty(  # type: ignore[valid-type]
        name="Max rotation error", default=0.5, min=0.01, max=10.0, description="Degrees")
    max_error_cm: FloatProperty(  # type: ignore[valid-type]
        name="Max location error", default=0.5, min=0.01, max=10.0, description="Centimetres")
    use_nla: BoolProperty(  # type: ignore[valid-type]
        name="NLA strip", default=False, description="Put the flip in a new NLA strip instead of the active action")
    # nudge
    use_nudge: BoolProperty(  # type: ignore[valid-type]
        name="Nudge", default=False, description="Push one body during the flip; the policy reacts to it")
    nudge_time: FloatProperty(  # type: ignore[valid-type]
        name="At", default=0.3, min=0.0, max=3.5, step=5, unit="TIME_ABSOLUTE",
        description="Seconds after the flip starts (take-off is at about 0.67 s, touch-down at about 1.2 s)")
    nudge_body: EnumProperty(  # type: ignore[valid-type]
        name="Body", items=[(b, b.replace("_", " ").title(), f"Push the {b.replace('_', ' ')}") for b in BODIES],
        default="torso")
    nudge_impulse: FloatVectorProperty(  # type: ignore[valid-type]
        name="Push", size=3, default=(0.0, 20.0, 0.0), soft_min=-100.0, soft_max=100.0,
        description="Impulse in N s, in the avatar's frame: forward, left, up (20 N s moves 70 kg by 0.3 m/s)")
    # last results, shown in the panel
    last_note: StringProperty()  # type: ignore[valid-type]
    last_verdict: StringProperty()  # type: ignore[valid-type]


classes = (BACKFLIP_PG_bone_role, BACKFLIP_PG_settings)
