"""Sidebar panel (3D View > Sidebar > Backflip) and its settings (Scene.backflip, saved in the .blend)."""


def register() -> None:
    import bpy

    from . import properties, sidebar

    for cls in properties.classes + sidebar.classes:
        bpy.utils.register_class(cls)
    settings = bpy.props.PointerProperty(type=properties.BACKFLIP_PG_settings)  # type: ignore[func-returns-value]
    setattr(bpy.types.Scene, "backflip", settings)


def unregister() -> None:
    import bpy

    from . import properties, sidebar

    if hasattr(bpy.types.Scene, "backflip"):
        delattr(bpy.types.Scene, "backflip")
    for cls in reversed(properties.classes + sidebar.classes):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
