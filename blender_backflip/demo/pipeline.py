"""Headless helpers shared by the demo and the `flip` command: the add-on's operators, the flip, rendering.

Everything here runs on the bpy module (or inside `blender --background`) on the main thread.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator

import bpy

from ..core.errors import BackflipError


@contextlib.contextmanager
def captured_output(enabled: bool = True) -> Iterator[list[str]]:
    """Send what Blender's C code prints (stdout and stderr: per-frame render lines, 'Saved ...', Mesa's EGL
    warnings) to a buffer while a step runs; the yielded list holds those lines afterwards."""
    lines: list[str] = []
    if not enabled:
        yield lines
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        fds = [sys.stdout.fileno(), sys.stderr.fileno()]
    except (AttributeError, OSError, ValueError):  # not real files (e.g. captured by a test runner)
        yield lines
        return
    saved = [os.dup(fd) for fd in fds]
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            for fd in fds:
                os.dup2(tmp.fileno(), fd)
            yield lines
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, keep in zip(fds, saved):
                os.dup2(keep, fd)
                os.close(keep)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


def operator_available(idname: str) -> bool:
    module, name = idname.split(".")
    try:
        getattr(getattr(bpy.ops, module), name).get_rna_type()
    except (KeyError, AttributeError):
        return False
    return True


def ensure_addon() -> None:
    """Make sure the add-on's operators are registered: installed and enabled as an extension, or this package
    registered directly (running from a checkout with the bpy module)."""
    if operator_available("backflip.flip"):
        return
    import blender_backflip

    try:
        blender_backflip.register()
    except Exception as exc:  # a broken registration is a bug to report, in one line
        raise BackflipError(f"The Backflip add-on could not be registered ({type(exc).__name__}: {exc}).") from exc
    if not operator_available("backflip.flip"):
        raise BackflipError("The Backflip add-on registered no 'backflip.flip' operator; reinstall the add-on.")


def _clean(message: str) -> str:
    lines = [ln.strip() for ln in str(message).strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else "unknown error"
    return text[len("Error: "):] if text.startswith("Error: ") else text


def run_flip(armature: str, **options) -> bpy.types.Action:
    """Run `bpy.ops.backflip.flip(armature=..., **options)`; returns the new Action on the armature."""
    ensure_addon()
    from ..operators._support import resolve_armature

    obj = resolve_armature(bpy.context, armature)
    before = obj.animation_data.action if obj.animation_data else None
    try:
        result = bpy.ops.backflip.flip(armature=armature, **options)
    except TypeError as exc:  # an option the operator does not have
        raise BackflipError(f"The flip operator does not accept these options ({exc}).") from exc
    except RuntimeError as exc:  # the operator reported an ERROR: its message is the one line to show
        raise BackflipError(_clean(str(exc))) from exc
    if "FINISHED" not in result:
        raise BackflipError(f"The flip was cancelled ({', '.join(sorted(result))}); nothing was baked.")
    action = obj.animation_data.action if obj.animation_data else None
    if action is None or action == before:
        raise BackflipError(f"The flip finished but '{armature}' has no new Action; nothing was baked.")
    return action


def bake_info(action: bpy.types.Action) -> dict:
    """What the flip operator recorded on its Action (take, seed, verdict, ...), or {} when it recorded nothing."""
    import json

    raw = action.get("backflip") if hasattr(action, "get") else None
    try:
        return dict(json.loads(raw)) if raw else {}
    except (TypeError, ValueError):
        return {}


def action_frame_range(action: bpy.types.Action) -> tuple[int, int]:
    start, end = action.frame_range
    return int(round(start)), int(round(end))


def render_video(scene: bpy.types.Scene, path: str, frame_start: int, frame_end: int, quiet: bool = True) -> str:
    """Render the scene's camera to an H.264 MP4 (Blender's own FFMPEG writer)."""
    render = scene.render
    saved = (render.filepath, scene.frame_start, scene.frame_end, render.use_file_extension)
    settings = render.image_settings
    saved_format = settings.file_format
    try:
        settings.media_type = "VIDEO"
        settings.file_format = "FFMPEG"
        render.ffmpeg.format = "MPEG4"
        render.ffmpeg.codec = "H264"
        render.ffmpeg.constant_rate_factor = "HIGH"
        render.ffmpeg.ffmpeg_preset = "GOOD"
        render.ffmpeg.audio_codec = "NONE"
        render.filepath = path
        render.use_file_extension = False
        scene.frame_start, scene.frame_end = frame_start, frame_end
        with captured_output(quiet):
            bpy.ops.render.render(animation=True, scene=scene.name)
    finally:
        settings.media_type = "IMAGE"
        settings.file_format = saved_format
        render.filepath, scene.frame_start, scene.frame_end, render.use_file_extension = saved
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise BackflipError(f"The video was not written to {path}.")
    return path


def render_frames(scene: bpy.types.Scene, folder: str, frames: list[int], prefix: str = "frame_",
                  quiet: bool = True) -> list[str]:
    """Render each of `frames` to `folder`/<prefix><frame 4 digits>.png; returns the paths."""
    os.makedirs(folder, exist_ok=True)
    render = scene.render
    saved = (render.filepath, scene.frame_current)
    settings = render.image_settings
    saved_format = (settings.media_type, settings.file_format)
    paths = []
    try:
        settings.media_type = "IMAGE"
        settings.file_format = "PNG"
        with captured_output(quiet):
            for frame in frames:
                scene.frame_set(frame)
                path = os.path.join(folder, f"{prefix}{frame:04d}.png")
                render.filepath = path
                bpy.ops.render.render(write_still=True, scene=scene.name)
                paths.append(path)
    finally:
        settings.media_type, settings.file_format = saved_format
        render.filepath = saved[0]
        scene.frame_set(saved[1])
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise BackflipError(f"{len(missing)} frames were not rendered (first: {missing[0]}).")
    return paths


def render_sequence(scene: bpy.types.Scene, folder: str, frame_start: int, frame_end: int,
                    quiet: bool = True) -> list[str]:
    """Render frames frame_start..frame_end as PNGs (Blender's animation render: one pass, fastest)."""
    os.makedirs(folder, exist_ok=True)
    render = scene.render
    saved = (render.filepath, scene.frame_start, scene.frame_end, render.use_file_extension)
    settings = render.image_settings
    saved_format = (settings.media_type, settings.file_format)
    try:
        settings.media_type = "IMAGE"
        settings.file_format = "PNG"
        render.filepath = os.path.join(folder, "frame_####")
        render.use_file_extension = True
        scene.frame_start, scene.frame_end = frame_start, frame_end
        with captured_output(quiet):
            bpy.ops.render.render(animation=True, scene=scene.name)
    finally:
        settings.media_type, settings.file_format = saved_format
        render.filepath, scene.frame_start, scene.frame_end, render.use_file_extension = saved
    paths = [os.path.join(folder, f"frame_{f:04d}.png") for f in range(frame_start, frame_end + 1)]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise BackflipError(f"{len(missing)} of {len(paths)} frames were not rendered (first: {missing[0]}).")
    return paths
