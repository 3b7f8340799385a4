"""Export the baked flip with Blender's own exporters, import it into an empty scene: the mapped bones are
where they were (world positions within 1 cm on every 5th frame) in BVH, FBX and glTF.

Import settings that a round trip needs (the README says the same):
- BVH: Blender's exporter writes Blender's axes (Z up) in the armature's space, so import with Forward Y,
  Up Z; the armature object's own transform is not in a BVH file (the test puts it back on the import).
- FBX: import with Animation Offset 0 (the importer's default shifts keys by one frame).
- glTF: defaults.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender_backflip.core import rig as rigmod  # noqa: E402
from blender_backflip.demo import pipeline  # noqa: E402
from blender_backflip.demo.run import build_scene  # noqa: E402
from blender_backflip.operators.export_motion import export_motion  # noqa: E402
from tests.pipeline.helpers import make_policy  # noqa: E402

START = 10
FPS = 24


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flip baked in this process on the demo mannequin, standing away from the origin and turned."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    policy = make_policy(tmp / "policy.npz")
    scene, arm = build_scene(64, 36)
    scene.render.fps = FPS
    arm.location = (0.7, -0.4, 0.0)
    arm.rotation_euler = (0.0, 0.0, np.radians(30.0))
    bpy.context.view_layer.update()
    with pipeline.captured_output():
        pipeline.run_flip(arm.name, start_frame=START, policy_file=str(policy), allow_fall=True, total_mass=45.0)
    path = tmp / "baked.blend"
    with pipeline.captured_output():
        bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def _positions(obj: bpy.types.Object, names: list[str], frames: list[int]) -> np.ndarray:
    scene = bpy.context.scene
    out = []
    for f in frames:
        scene.frame_set(f)
        mw = obj.matrix_world
        out.append([list(mw @ obj.pose.bones[n].head) for n in names])
    return np.array(out)


@pytest.mark.parametrize("ext", [".bvh", ".fbx", ".glb"])
def test_round_trip_keeps_mapped_bones_within_1cm(baked: Path, tmp_path: Path, ext: str) -> None:
    bpy.ops.wm.open_mainfile(filepath=str(baked), load_ui=False)
    arm = bpy.data.objects["Hero"]
    start, end = (int(round(v)) for v in arm.animation_data.action.frame_range)
    assert start == START and end > start + 20
    frames = list(range(start, end + 1, 5))
    names = list(rigmod.detect_full([b.name for b in arm.data.bones]).mapping.values())
    assert len(names) == 15
    reference = _positions(arm, names, frames)
    source_matrix = arm.matrix_world.copy()
    assert np.ptp(reference[:, 0, :], axis=0).max() > 0.2  # the pelvis really moves in the bake

    path = tmp_path / f"flip{ext}"
    with pipeline.captured_output():
        export_motion(arm, str(path))
    assert path.is_file() and path.stat().st_size > 1000

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = FPS
    with pipeline.captured_output():
        if ext == ".bvh":
            bpy.ops.import_anim.bvh(filepath=str(path), frame_start=START, use_fps_scale=False,
                                    axis_forward="Y", axis_up="Z", rotate_mode="NATIVE")
        elif ext == ".fbx":
            bpy.ops.import_scene.fbx(filepath=str(path), anim_offset=0.0)
        else:
            bpy.ops.import_scene.gltf(filepath=str(path))
    armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(armatures) == 1
    imported = armatures[0]
    if ext == ".bvh":
        imported.matrix_world = source_matrix
        bpy.context.view_layer.update()
    assert set(names) <= {b.name for b in imported.data.bones}
    got = _positions(imported, names, frames)
    error = np.linalg.norm(got - reference, axis=-1)
    worst = np.unravel_index(np.argmax(error), error.shape)
    print(f"{ext}: {len(frames)} frames x {len(names)} bones, max error {100 * error.max():.4f} cm")
    assert error.max() < 0.01, (f"{ext}: {100 * error.max():.2f} cm at frame {frames[worst[0]]}, "
                                f"bone {names[worst[1]]}")


def test_export_refuses_an_armature_without_animation(tmp_path: Path) -> None:
    from blender_backflip.core.errors import BackflipError

    scene, arm = build_scene(64, 36)
    with pytest.raises(BackflipError, match="no animation"):
        export_motion(arm, str(tmp_path / "x.fbx"))
    with pytest.raises(BackflipError, match=r"\.fbx"):
        export_motion(arm, str(tmp_path / "x.obj"))
    assert not list(tmp_path.iterdir())


def test_export_operator_writes_the_file_and_reports_errors(baked: Path, tmp_path: Path) -> None:
    bpy.ops.wm.open_mainfile(filepath=str(baked), load_ui=False)
    pipeline.ensure_addon()
    out = tmp_path / "op.glb"
    with pipeline.captured_output():
        result = bpy.ops.backflip.export_motion(filepath=str(out), armature="Hero", file_format="GLB")
    assert result == {"FINISHED"} and out.is_file()
    with pytest.raises(RuntimeError, match="No armature named 'Nobody'"):
        with pipeline.captured_output():
            bpy.ops.backflip.export_motion(filepath=str(tmp_path / "x.fbx"), armature="Nobody")
