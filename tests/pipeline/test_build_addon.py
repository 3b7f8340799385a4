"""build_addon.py makes an installable extension: the zip holds the package, the policies, the licences and
mujoco-core wheels for three platforms; Blender (bpy 5.0.1) installs and enables it; and a flip runs on the
wheel's MuJoCo in a Python that has no mujoco of its own."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import build_addon
from tests.pipeline.helpers import make_policy


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    try:
        return build_addon.build(out, build_addon.default_cache_dir(), log=lambda _: None)
    except build_addon.BuildError as exc:
        pytest.fail(str(exc))


def test_zip_layout_and_generated_manifest(built_zip: Path) -> None:
    repo_manifest = tomllib.loads((build_addon.PACKAGE / "blender_manifest.toml").read_text())
    assert built_zip.name == f"{repo_manifest['id']}-{repo_manifest['version']}.zip"
    with zipfile.ZipFile(built_zip) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        attribution = zf.read("ATTRIBUTION.md").decode()
    # The zip's manifest is the repository's plus platforms and wheels.
    for key, value in repo_manifest.items():
        if key not in ("wheels", "platforms", "build"):
            assert manifest[key] == value, key
    assert set(manifest["platforms"]) == {"linux-x64", "macos-arm64", "windows-x64"}
    wheels = manifest["wheels"]
    assert len(wheels) == 3
    for wheel in wheels:
        name = wheel.removeprefix("./")
        assert name in names
        assert Path(name).name.startswith("mujoco_core-4.0.0-cp311-cp311-")
    assert not any("numpy" in n for n in names), "numpy is Blender's own"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # Code, presets, operators, the demo and every bundled policy file.
    for path in ("__init__.py", "core/rollout.py", "operators/flip.py", "operators/export_motion.py",
                 "presets/mixamo.json", "demo/mannequin.py"):
        assert path in names, path
    for policy in (build_addon.PACKAGE / "assets").glob("*.npz"):
        assert f"assets/{policy.name}" in names
    assert "Apache License 2.0" in attribution and "GPL" in attribution
    if list((build_addon.PACKAGE / "assets").glob("*.npz")):
        assert "mocap.cs.cmu.edu" in attribution and "DeepMimic" in attribution


def test_wheels_hold_the_simulator(built_zip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(built_zip) as zf:
        for name in zf.namelist():
            if name.endswith(".whl"):
                target = tmp_path / Path(name).name
                target.write_bytes(zf.read(name))
                build_addon.check_wheel(target)  # libmujoco + bindings, not the meta package


def test_rebuild_is_offline_and_validates(built_zip: Path, tmp_path: Path) -> None:
    again = build_addon.build(tmp_path, build_addon.default_cache_dir(), offline=True, log=lambda _: None)
    assert again.is_file() and again.name == built_zip.name
    ext = build_addon.find_blender_ext()
    proc = subprocess.run([sys.executable, str(ext), "validate", str(again)], capture_output=True, text=True)
    assert proc.returncode == 0 and "error" not in (proc.stdout + proc.stderr).lower()


def test_missing_manifest_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(build_addon.BuildError, match="blender_manifest.toml"):
        build_addon.build(tmp_path / "dist", tmp_path / "cache", offline=True, package=tmp_path / "pkg")


def _blender_like_python(tmp_path: Path) -> Path:
    """A fresh venv that sees bpy and numpy (what Blender's own Python has) and nothing else: no mujoco, no
    project package, no pytest."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_dirs = list((venv / "lib").glob("python3.*/site-packages")) or [venv / "Lib" / "site-packages"]
    links = tmp_path / "blender_site"
    links.mkdir()
    for module in ("bpy", "numpy"):
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.submodule_search_locations
        src = Path(list(spec.submodule_search_locations)[0])
        (links / module).symlink_to(src, target_is_directory=True)
        for extra in src.parent.glob(f"{module}.libs"):
            (links / extra.name).symlink_to(extra, target_is_directory=True)
    (site_dirs[0] / "blender_like.pth").write_text(str(links) + "\n")
    python = venv / "bin" / "python"
    return python if python.exists() else venv / "Scripts" / "python.exe"


INSTALL_AND_FLIP = r"""
import importlib, json, os, sys
out = {}
try:
    import mujoco
    out["mujoco_before"] = mujoco.__file__
except ImportError:
    out["mujoco_before"] = None
import bpy
import addon_utils  # on sys.path once bpy is imported
zip_path, policy = sys.argv[1], sys.argv[2]
bpy.ops.wm.read_factory_settings(use_empty=True)
missing = bpy.ops.extensions.package_install_files(filepath=zip_path + ".missing.zip", repo="user_default",
                                                   enable_on_install=True)
out["missing_zip_result"] = sorted(missing)
result = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
out["install_result"] = sorted(result)
module = "bl_ext.user_default.blender_backflip"
out["addon_check"] = list(addon_utils.check(module))
out["in_preferences"] = module in bpy.context.preferences.addons
out["flip_operator"] = hasattr(bpy.types, "BACKFLIP_OT_flip")
import mujoco
out["mujoco_file"] = mujoco.__file__
out["mujoco_version"] = mujoco.__version__
out["extensions_dir"] = bpy.utils.user_resource("EXTENSIONS")
out["repo_package_loaded"] = "blender_backflip" in sys.modules
run = importlib.import_module(module + ".demo.run")
scene, arm = run.build_scene(64, 36)
r = bpy.ops.backflip.flip(armature="Hero", policy_file=policy, allow_fall=True, total_mass=45.0, start_frame=1)
out["flip_result"] = sorted(r)
action = arm.animation_data.action
out["action"] = action.name
out["frame_range"] = list(action.frame_range)
out["modules_from"] = sorted({m.split(".")[0] for m in sys.modules if "backflip" in m})
print("RESULT " + json.dumps(out))
"""


def test_installs_enables_and_flips_with_the_wheels_mujoco(built_zip: Path, tmp_path: Path) -> None:
    python = _blender_like_python(tmp_path)
    policy = make_policy(tmp_path / "policy.npz")
    user = tmp_path / "blender_user"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["BLENDER_USER_RESOURCES"] = str(user)
    proc = subprocess.run([str(python), "-c", INSTALL_AND_FLIP, str(built_zip), str(policy)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["mujoco_before"] is None, "the test Python must not have a mujoco of its own"
    # The installer says FINISHED even for a file that does not exist: check what really happened.
    assert out["install_result"] == ["FINISHED"]
    assert out["addon_check"] == [True, True] and out["in_preferences"] and out["flip_operator"]
    site = Path(out["extensions_dir"]) / ".local"
    assert Path(out["mujoco_file"]).resolve().is_relative_to(site.resolve()), out["mujoco_file"]
    assert Path(out["mujoco_file"]).resolve().is_relative_to(user.resolve())
    assert out["mujoco_version"] == build_addon.MUJOCO_VERSION
    assert not out["repo_package_loaded"] and out["modules_from"] == ["bl_ext"]
    assert out["flip_result"] == ["FINISHED"] and out["action"].startswith("Backflip_")
    assert out["frame_range"][1] > out["frame_range"][0] + 24
