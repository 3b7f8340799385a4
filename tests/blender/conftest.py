"""Real bpy 5.0.1: the add-on registered once, an empty scene for every test, a policy file for the flips.

The policy: the bundled one (blender_backflip/assets/backflip_final.npz) when it is there; otherwise a
zero-action policy made here from the reference clip in ../shared (the character tracks the clip with PD
targets and falls part way: these tests check that the bake is faithful to whatever was simulated, not how
well it flips; tests marked `flip_quality` do that, with the bundled policy only).
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

import blender_backflip  # noqa: E402
from blender_backflip.operators import _pipeline  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIP = os.path.join(os.path.dirname(REPO), "shared", "motions", "humanoid3d_backflip.txt")


def bundled_policy() -> str | None:
    files = sorted(glob.glob(os.path.join(_pipeline.ASSETS, "backflip_final*.npz")))
    return files[0] if files else None


@pytest.fixture(scope="session")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    bundled = bundled_policy()
    if bundled:
        return bundled
    if not os.path.exists(CLIP):
        pytest.skip(f"no bundled policy and no reference clip at {CLIP} to make a test policy from")
    from blender_backflip.core.motion import load_deepmimic
    from blender_backflip.core.observation import NUM_ACTIONS, OBS_DIM
    from blender_backflip.core.policy_file import PolicyFile, save_policy

    zero = PolicyFile([np.zeros((32, OBS_DIM)), np.zeros((NUM_ACTIONS, 32))], [np.zeros(32), np.zeros(NUM_ACTIONS)],
                      np.zeros(OBS_DIM), np.ones(OBS_DIM), 1e-2, load_deepmimic(CLIP, loop="clamp"),
                      {"take": "final", "description": "zero-action test policy"})
    path = str(tmp_path_factory.mktemp("policy") / "zero_policy.npz")
    save_policy(path, zero)
    return path


def addon_registered() -> bool:
    try:
        bpy.ops.backflip.flip.get_rna_type()
        return True
    except (KeyError, AttributeError):
        return False


@pytest.fixture(scope="session", autouse=True)
def registered():
    """Register the add-on for these tests (unless another test package already did) and unregister after."""
    mine = not addon_registered()
    if mine:
        blender_backflip.register()
    yield
    if mine and addon_registered():
        blender_backflip.unregister()


@pytest.fixture(autouse=True)
def empty_scene():
    bpy.ops.wm.read_homefile(use_empty=True)
    yield


def scene_snapshot() -> dict:
    """Everything a failed operator must leave as it was."""
    scene = bpy.context.scene
    view_layer = bpy.context.view_layer
    objs = {}
    for o in bpy.data.objects:
        anim = o.animation_data
        objs[o.name] = (tuple(round(v, 6) for row in o.matrix_world for v in row), o.mode, o.select_get(),
                        anim.action.name if anim and anim.action else None,
                        len(anim.nla_tracks) if anim else -1,
                        tuple((pb.name, tuple(pb.rotation_quaternion), tuple(pb.location))
                              for pb in (o.pose.bones if o.pose else [])))
    return {"objects": objs, "actions": sorted(a.name for a in bpy.data.actions),
            "frame": scene.frame_current, "active": view_layer.objects.active.name if view_layer.objects.active else None}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flip_quality: checks how well the bundled policy flips (skipped while it "
                                       "still trains: measured canonical success below 0.9)")


def bundled_success() -> tuple[str | None, dict[str, float]]:
    """The bundled policy and its measured landing rates by body group ('canonical', 'variants')."""
    path = bundled_policy()
    if path is None:
        return None, {}
    from blender_backflip.core.policy_file import load_policy

    success = load_policy(path).metadata.get("measured_success") or {}
    return path, {k: float(v) for k, v in success.items()} if isinstance(success, dict) else {}
