"""Registering and unregistering the add-on (twice in a row) leaves nothing behind; importing never needs bpy."""

from __future__ import annotations

import subprocess
import sys

import bpy

import blender_backflip

OPERATORS = ("flip", "simulate", "bake", "export_avatar", "validate_bone_map", "detect_bone_map", "export_motion",
             "export_reference")


def addon_classes() -> list[type]:
    from blender_backflip.operators import _MODULES
    from blender_backflip.panels import properties, sidebar

    import importlib

    ops = [c for m in _MODULES for c in importlib.import_module(f"blender_backflip.operators.{m}").classes]
    return list(properties.classes) + list(sidebar.classes) + ops


def registered_operators() -> list[str]:
    out = []
    for name in OPERATORS:
        try:
            getattr(bpy.ops.backflip, name).get_rna_type()
            out.append(name)
        except (KeyError, AttributeError):
            pass
    return out


def export_menu_entries() -> int:
    funcs = getattr(bpy.types.TOPBAR_MT_file_export, "_dyn_ui_initialize", lambda: [])()
    return sum(1 for f in funcs if getattr(f, "__module__", "").startswith("blender_backflip"))


def test_register_unregister_twice_leaves_nothing() -> None:
    blender_backflip.unregister()  # the session fixture registered it
    try:
        for _ in range(2):
            blender_backflip.register()
            assert registered_operators() == list(OPERATORS)
            assert hasattr(bpy.types.Scene, "backflip")
            assert all(c.is_registered for c in addon_classes())
            assert export_menu_entries() == 2  # the baked motion, and a reference clip
            blender_backflip.unregister()
            assert registered_operators() == []
            assert not hasattr(bpy.types.Scene, "backflip")
            assert not any(c.is_registered for c in addon_classes())
            assert export_menu_entries() == 0
            assert not any(getattr(h, "__module__", "").startswith("blender_backflip")
                           for handlers in (bpy.app.handlers.load_post, bpy.app.handlers.depsgraph_update_post,
                                            bpy.app.handlers.frame_change_post) for h in handlers)
    finally:
        blender_backflip.register()


def test_importing_the_package_never_imports_bpy_or_mujoco() -> None:
    code = ("import sys, blender_backflip, blender_backflip.core.rig, blender_backflip.core.bake; "
            "assert 'bpy' not in sys.modules, 'bpy imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_register_imports_no_heavy_modules() -> None:
    code = ("import sys, bpy, blender_backflip; blender_backflip.register(); "
            "assert 'mujoco' not in sys.modules, 'mujoco imported at register'; "
            "assert 'torch' not in sys.modules; blender_backflip.unregister(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr + out.stdout


def test_manifest() -> None:
    import os
    import tomllib

    path = os.path.join(os.path.dirname(blender_backflip.__file__), "blender_manifest.toml")
    with open(path, "rb") as handle:
        m = tomllib.load(handle)
    assert m["schema_version"] == "1.0.0" and m["id"] == "blender_backflip" and m["type"] == "add-on"
    assert m["version"] == blender_backflip.__version__
    assert m["license"] == ["SPDX:GPL-3.0-or-later"]
    assert "files" in m["permissions"] and m["permissions"]["files"]
    major, minor, patch = (int(x) for x in m["blender_version_min"].split("."))
    assert (major, minor, patch) <= tuple(bpy.app.version)
