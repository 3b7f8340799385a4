"""blender-backflip: a physically simulated backflip, baked onto your own rig.

Importing this package never imports bpy: the core (blender_backflip.core) runs anywhere numpy and MuJoCo do.
Blender calls register()/unregister(), which import the Blender layer only then.
"""

__version__ = "0.1.0"


def register() -> None:
    from . import operators, panels

    panels.register()
    operators.register()


def unregister() -> None:
    from . import operators, panels

    operators.unregister()
    panels.unregister()
