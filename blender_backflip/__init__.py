"""blender-backflip: a physically simulated backflip, baked onto your own rig.

Importing this package never imports bpy: the core (blender_backflip.core) runs anywhere numpy and MuJoCo do.
Blender calls register()/unregister(), which import the Blender layer only then.
"""

__version__ = "0.1.0"


def register() -> None:
    from .blender import register as _register

    _register()


def unregister() -> None:
    from .blender import unregister as _unregister

    _unregister()
