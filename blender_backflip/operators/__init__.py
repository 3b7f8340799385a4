"""The add-on's operators, one module per user action (idnames under `backflip.`)."""

import importlib
from types import ModuleType

_MODULES = ("validate_bone_map", "export_avatar", "simulate", "bake", "flip", "export_motion", "export_reference")


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f".{name}", __name__) for name in _MODULES]


def register() -> None:
    import bpy

    for module in _modules():
        if hasattr(module, "register"):  # a module with more than classes (e.g. a menu entry)
            module.register()
        else:
            for cls in module.classes:
                bpy.utils.register_class(cls)


def unregister() -> None:
    import bpy

    for module in reversed(_modules()):
        if hasattr(module, "unregister"):
            module.unregister()
        else:
            for cls in reversed(module.classes):
                if getattr(cls, "is_registered", False):
                    bpy.utils.unregister_class(cls)
