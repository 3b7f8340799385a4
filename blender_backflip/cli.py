"""Command line of blender-backflip (`python -m blender_backflip ...`), on the bpy module or Blender's Python.

    python -m blender_backflip demo --out out/ [--quick] [--no-video]
    python -m blender_backflip flip shot.blend --armature Hero --save out.blend [--start-frame 24] [--take final]
                                    [--render out/frames/] [--export out.fbx|.bvh|.glb|.gltf]
    python -m blender_backflip reference shot.blend --armature Hero --out my_flip.txt [--frames 1 60]

Any failure prints one line starting with "error:" on stderr and exits non-zero (2: bad input or a flip that
could not be done; 1: an unexpected failure, with --debug for its traceback). The input .blend is never
written to: the result goes to --save, which must be another file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from .core.errors import BackflipError

if TYPE_CHECKING:
    import bpy

EXIT_INPUT = 2
EXIT_BUG = 1
BLEND_MAGIC = (b"BLENDER", b"\x28\xb5\x2f\xfd", b"\x1f\x8b")  # plain, zstd- and gzip-compressed .blend


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m blender_backflip",
                                     description="A physically simulated backflip, baked onto your own rig.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Blender's own output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,flip,reference}")

    demo = sub.add_parser("demo", help="the default avatar does a backflip: .blend, video and contact sheet")
    demo.add_argument("--out", required=True, help="output folder (created if missing)")
    demo.add_argument("--quick", action="store_true", help="320x180 instead of 640x360 (tests, previews)")
    demo.add_argument("--no-video", action="store_true", help="skip the MP4 (the .blend and sheet still come)")
    demo.add_argument("--take", default=None, help="policy take to bake (default: the add-on's default)")
    demo.add_argument("--policy-file", default=None, help="a policy file (.npz) instead of the bundled takes")
    demo.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")

    flip = sub.add_parser("flip", help="bake a flip onto an armature of a .blend and save it as another file")
    flip.add_argument("blend", help="input .blend (never modified)")
    flip.add_argument("--armature", required=True, help="name of the armature object")
    flip.add_argument("--save", required=True, help="output .blend (must not be the input file)")
    flip.add_argument("--start-frame", type=int, default=None, help="first frame of the flip (default: the "
                      "scene's current frame)")
    flip.add_argument("--take", default=None, help="policy take, e.g. 'final' (default: the add-on's default)")
    flip.add_argument("--policy-file", default=None, help="a policy file (.npz) instead of the bundled takes")
    flip.add_argument("--seed", type=int, default=None, help="simulation seed (default: the panel's, 0)")
    flip.add_argument("--mass", type=float, default=None, help="the avatar's mass in kg (default: the panel's)")
    flip.add_argument("--nudge", nargs=5, metavar=("SECONDS", "BODY", "FORWARD", "LEFT", "UP"), default=None,
                      help="push one body (pelvis, torso, head, right_hand, ...) SECONDS after the start with an "
                      "impulse in N s in the avatar's frame, e.g. --nudge 0.3 torso 0 20 0")
    flip.add_argument("--allow-fall", action="store_true",
                      help="bake the take even when the simulated flip does not land (default: refuse)")
    flip.add_argument("--render", metavar="DIR", default=None,
                      help="also render the baked frames to DIR/frame_####.png with the scene's camera")
    flip.add_argument("--resolution", metavar="WxH", default=None, help="render size, e.g. 640x360 (default: "
                      "the scene's)")
    flip.add_argument("--export", metavar="FILE", action="append", default=[],
                      help="also export the baked motion (.fbx, .bvh, .glb or .gltf); may be repeated")
    _add_reference_parser(sub)
    return parser


# --------------------------------------------------------------------------------------------------------------
def _add_reference_parser(sub: argparse._SubParsersAction) -> None:
    ref = sub.add_parser("reference", help="write an armature's own motion (keys or mocap) as a reference clip "
                                           "to train a policy on (python -m policy.train --clip FILE)")
    ref.add_argument("blend", help="input .blend (never modified)")
    ref.add_argument("--armature", required=True, help="name of the armature object")
    ref.add_argument("--out", required=True, help="the clip to write (.txt, DeepMimic's format)")
    ref.add_argument("--frames", nargs=2, type=int, metavar=("FIRST", "LAST"), default=None,
                     help="frame range (default: the armature's active Action's range)")


def _nudge_options(values: list[str]) -> dict:
    seconds, body, *impulse = values
    try:
        numbers = [float(seconds)] + [float(v) for v in impulse]
    except ValueError:
        raise BackflipError(f"--nudge {' '.join(values)}: SECONDS, FORWARD, LEFT and UP must be numbers, e.g. "
                            "--nudge 0.3 torso 0 20 0.") from None
    return {"use_nudge": True, "nudge_time": numbers[0], "nudge_body": body, "nudge_impulse": tuple(numbers[1:])}


def _check_blend(path: str, what: str) -> str:
    if not os.path.exists(path):
        raise BackflipError(f"{what} '{path}' does not exist.")
    if not os.path.isfile(path):
        raise BackflipError(f"{what} '{path}' is not a file.")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith(BLEND_MAGIC):
        raise BackflipError(f"{what} '{path}' is not a .blend file.")
    return os.path.abspath(path)


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _resolution(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise BackflipError(f"--resolution '{text}' is not WIDTHxHEIGHT (e.g. 640x360).") from None
    if not (4 <= w <= 16384 and 4 <= h <= 16384):
        raise BackflipError(f"--resolution {w}x{h} is out of range (4 to 16384 pixels a side).")
    return w, h


def _open_armature(args: argparse.Namespace, source: str) -> "bpy.types.Object":
    """Open the .blend (never saved over) and return its armature named by --armature."""
    import bpy

    from .demo import pipeline

    with pipeline.captured_output(not args.debug):
        try:
            bpy.ops.wm.open_mainfile(filepath=source, load_ui=False)
        except RuntimeError as exc:
            raise BackflipError(f"Blender could not open '{args.blend}' ({pipeline._clean(str(exc))}).") from exc
    obj = bpy.data.objects.get(args.armature)
    if obj is None or obj.type != "ARMATURE":
        armatures = sorted(o.name for o in bpy.data.objects if o.type == "ARMATURE")
        found = f"armatures in it: {', '.join(armatures)}" if armatures else "it has no armature"
        what = "is not an armature" if obj is not None else "is not in the file"
        raise BackflipError(f"'{args.armature}' {what} '{args.blend}' ({found}).")
    return obj


def cmd_flip(args: argparse.Namespace) -> int:
    from .operators.export_motion import format_for

    source = _check_blend(args.blend, "Input file")
    save = os.path.abspath(args.save)
    if _same_file(source, save):
        raise BackflipError(f"--save '{args.save}' is the input file; the input is never modified: save to "
                            "another path.")
    if not save.lower().endswith(".blend"):
        raise BackflipError(f"--save '{args.save}' must end in .blend.")
    for path in args.export:
        format_for(path)
        if _same_file(source, os.path.abspath(path)):
            raise BackflipError(f"--export '{path}' is the input file.")
    size = _resolution(args.resolution)

    import bpy

    from .demo import pipeline

    t0 = time.perf_counter()
    obj = _open_armature(args, source)
    scene = bpy.context.scene
    if args.render and scene.camera is None:
        raise BackflipError(f"--render needs a camera, and scene '{scene.name}' has none; add one or drop --render.")

    options: dict = {}
    if args.start_frame is not None:
        options["start_frame"] = args.start_frame
    if args.take is not None:
        options["take"] = args.take
    if args.policy_file is not None:
        options["policy_file"] = os.path.abspath(args.policy_file)
    if args.seed is not None:
        options["seed"] = args.seed
    if args.mass is not None:
        options["total_mass"] = args.mass
    if args.allow_fall:
        options["allow_fall"] = True
    if args.nudge is not None:
        options.update(_nudge_options(args.nudge))
    with pipeline.captured_output(not args.debug):
        try:
            action = pipeline.run_flip(args.armature, **options)
        except BackflipError as exc:
            if "Bake a fall" in str(exc):
                raise BackflipError(f"{exc} (command line: --allow-fall)") from exc
            raise
    start, end = pipeline.action_frame_range(action)
    info = pipeline.bake_info(action)
    print(f"flip: baked '{action.name}' on '{args.armature}', frames {start}-{end}"
          + (f", take '{info.get('take')}' {info.get('verdict')}" if info else "")
          + (f", {info['nudge']}" if info.get("nudge") else "")
          + f" ({time.perf_counter() - t0:.1f} s)")

    os.makedirs(os.path.dirname(save), exist_ok=True)
    with pipeline.captured_output(not args.debug):
        bpy.ops.wm.save_as_mainfile(filepath=save, check_existing=False)
    print(f"flip: saved {save}")

    for path in args.export:
        from .operators.export_motion import export_motion

        with pipeline.captured_output(not args.debug):
            written = export_motion(obj, path)
        print(f"flip: exported {written}")

    if args.render:
        if size is not None:
            scene.render.resolution_x, scene.render.resolution_y = size
            scene.render.resolution_percentage = 100
        t = time.perf_counter()
        paths = pipeline.render_sequence(scene, os.path.abspath(args.render), start, end, quiet=not args.debug)
        print(f"flip: rendered {len(paths)} frames to {os.path.abspath(args.render)} "
              f"({scene.render.resolution_x}x{scene.render.resolution_y}, {time.perf_counter() - t:.1f} s)")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    source = _check_blend(args.blend, "Input file")
    out = os.path.abspath(args.out)
    if _same_file(source, out):
        raise BackflipError(f"--out '{args.out}' is the input file; write the clip to a .txt file.")
    import bpy

    from .demo import pipeline

    t0 = time.perf_counter()
    obj = _open_armature(args, source)
    pipeline.ensure_addon()
    frames = {"frame_start": args.frames[0], "frame_end": args.frames[1]} if args.frames else {}
    with pipeline.captured_output(not args.debug):
        try:
            bpy.ops.backflip.export_reference(armature=obj.name, filepath=out, **frames)
        except RuntimeError as exc:  # the operator reported an ERROR: its message is the one line to show
            raise BackflipError(pipeline._clean(str(exc))) from exc
    from .core.motion import load_deepmimic

    clip = load_deepmimic(out)
    print(f"reference: wrote {out}, a {clip.duration:.2f} s clip of '{args.armature}' "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"reference: train a policy on it with: python -m policy.train --clip {out} --out runs/NAME")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.run import run_demo

    run_demo(args.out, quick=args.quick, video=not args.no_video, take=args.take, policy_file=args.policy_file,
             seed=args.seed)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        command = {"demo": cmd_demo, "flip": cmd_flip, "reference": cmd_reference}[args.command]
        return command(args)
    except BackflipError as exc:
        hint = " (command line: --policy-file PATH)" if "No policy file" in str(exc) else ""
        print(f"error: {exc}{hint}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for the user; --debug shows the traceback
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
              file=sys.stderr)
        return EXIT_BUG
