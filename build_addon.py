"""Build the installable extension: dist/blender_backflip-<version>.zip.

    python build_addon.py [--out-dir dist] [--cache-dir ~/.cache/blender_backflip/wheels] [--offline]

What goes in the zip: the blender_backflip package (code, presets, bundled policy files and their attribution,
no __pycache__), a generated blender_manifest.toml (the repository's manifest plus `platforms` and `wheels`),
an ATTRIBUTION.md (licences of what the zip bundles), and MuJoCo wheels for Blender's Python 3.11 on Linux
x86-64, macOS arm64 and Windows x86-64.

Which wheels: on PyPI `mujoco` 4.0.0 is a meta package (a copy of mujoco/__init__.py and dependencies on
mujoco-core, mujoco-studio, glfw and PyOpenGL); `mujoco-core` alone holds the simulator (libmujoco, the
_structs/_specs/_batch bindings, the same mujoco/__init__.py). The extension bundles mujoco-core only; numpy is
Blender's own and is never bundled.

Downloads are cached (default ~/.cache/blender_backflip/wheels, or $BACKFLIP_WHEEL_CACHE), so a rebuild runs
offline in about a second. The zip is built and validated with the extension command-line tool that ships
inside the bpy wheel (blender_ext.py: `build`, then `validate`); no blender binary is needed.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "blender_backflip"
MUJOCO_VERSION = "4.0.0"
PYTHON_VERSION = "3.11"


@dataclass(frozen=True)
class Target:
    blender_platform: str  # the manifest's name for it
    pip_platform: str  # what `pip download --platform` is asked for
    wheel_glob: str  # the cached wheel that satisfies it


TARGETS: tuple[Target, ...] = (
    Target("linux-x64", "manylinux_2_28_x86_64", "*-cp311-cp311-*manylinux*_x86_64.whl"),
    Target("macos-arm64", "macosx_11_0_arm64", "*-cp311-cp311-macosx_*_arm64.whl"),
    Target("windows-x64", "win_amd64", "*-cp311-cp311-win_amd64.whl"),
)

# Never shipped in the zip (caches, editor and test leftovers).
EXCLUDE = ("__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*.tmp.npz", ".pytest_cache")

ATTRIBUTION_HEADER = """# Licences and attribution of what this extension bundles

- blender-backflip (this extension): {licence}.
- MuJoCo {mujoco} (wheels/mujoco_core-*.whl): Apache License 2.0, Copyright DeepMind Technologies Limited.
  The full licence and third-party notices are inside each wheel (`mujoco_core-{mujoco}.dist-info/licenses/`).
"""


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def find_blender_ext() -> Path:
    """The extension command-line tool inside the bpy wheel (bl_pkg/cli/blender_ext.py)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("bpy")
    except (ImportError, ValueError):
        spec = None
    roots = []
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) for p in spec.submodule_search_locations]
    roots += [Path(p) / "bpy" for p in sys.path if p]
    for root in roots:
        hits = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if hits:
            return hits[-1]
    raise BuildError("blender_ext.py (the extension tool inside the bpy wheel) was not found: install the test "
                     "extra (`.venv/bin/pip install -e '.[test]'`) and run this script with that Python.")


def default_cache_dir() -> Path:
    env = os.environ.get("BACKFLIP_WHEEL_CACHE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "blender_backflip" / "wheels"


def cached_wheel(cache: Path, target: Target) -> Path | None:
    hits = sorted(p for p in cache.glob(f"mujoco_core-{MUJOCO_VERSION}{target.wheel_glob[1:]}"))
    return hits[-1] if hits else None


def fetch_wheels(cache: Path, offline: bool = False, log=print) -> list[tuple[Target, Path]]:
    """One mujoco-core wheel per target platform, from the cache or downloaded into it with pip."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for target in TARGETS:
        wheel = cached_wheel(cache, target)
        if wheel is None:
            if offline:
                raise BuildError(f"No cached mujoco-core {MUJOCO_VERSION} wheel for {target.blender_platform} in "
                                 f"{cache}; run once without --offline to download it.")
            log(f"  downloading mujoco-core {MUJOCO_VERSION} for {target.blender_platform} ...")
            cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
                   "--only-binary=:all:", "--no-deps", "--python-version", PYTHON_VERSION,
                   "--platform", target.pip_platform, f"mujoco-core=={MUJOCO_VERSION}", "-d", str(cache)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wheel = cached_wheel(cache, target)
            if proc.returncode != 0 or wheel is None:
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel was saved"]
                raise BuildError(f"pip could not download mujoco-core {MUJOCO_VERSION} for "
                                 f"{target.blender_platform} ({detail[0]}). Check the network or the cache {cache}.")
        check_wheel(wheel)
        out.append((target, wheel))
    return out


def check_wheel(wheel: Path) -> None:
    """The wheel must be the simulator itself (libmujoco and the bindings), not the meta package."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise BuildError(f"Cached wheel {wheel} is damaged ({exc}); delete it and build again.") from exc
    has_lib = any(fnmatch.fnmatch(n, pat) for n in names
                  for pat in ("mujoco/libmujoco.so*", "mujoco/mujoco.dll", "mujoco/libmujoco*.dylib"))
    has_bindings = any(n.startswith("mujoco/_structs.") for n in names)
    if not (has_lib and has_bindings and "mujoco/__init__.py" in names):
        raise BuildError(f"{wheel.name} does not contain the MuJoCo library and bindings; delete it from the cache.")


# --------------------------------------------------------------------------------------------------------------
# Manifest


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        if len(value) > 2:
            return "[\n" + "".join(f"  {_toml_value(v)},\n" for v in value) + "]"
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise BuildError(f"cannot write {value!r} to TOML")


def dump_manifest(data: dict) -> str:
    """A small TOML writer for the manifest's shapes: top-level keys first, then tables of plain values."""
    lines = ["# Generated by build_addon.py from blender_backflip/blender_manifest.toml; do not edit.", ""]
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k in ("permissions", "build")}
    for key, value in data.items():
        if key not in tables:
            lines.append(f"{key} = {_toml_value(value)}")

    def table(name: str, values: dict) -> None:
        plain = {k: v for k, v in values.items() if not isinstance(v, dict)}
        lines.extend(["", f"[{name}]"])
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in plain.items())
        for k, v in values.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for key, value in tables.items():
        table(key, value)
    return "\n".join(lines) + "\n"


def read_manifest(package: Path) -> dict:
    path = package / "blender_manifest.toml"
    if not path.is_file():
        raise BuildError(f"{path} is missing: the extension's manifest must be in the package folder.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"{path} is not valid TOML: {exc}") from exc


def zip_manifest(manifest: dict, wheels: list[tuple[Target, Path]]) -> dict:
    data = dict(manifest)
    data["platforms"] = [t.blender_platform for t, _ in wheels]
    data["wheels"] = [f"./wheels/{w.name}" for _, w in wheels]
    build = dict(data.get("build", {}))
    build.pop("generated", None)
    if build:
        data["build"] = build
    return data


# --------------------------------------------------------------------------------------------------------------
# Build


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if any(fnmatch.fnmatch(n, pat) for pat in EXCLUDE)}


def attribution_text(package: Path, manifest: dict) -> str:
    licence = ", ".join(manifest.get("license", [])) or "see the repository"
    text = ATTRIBUTION_HEADER.format(licence=licence, mujoco=MUJOCO_VERSION)
    policies = sorted((package / "assets").glob("*.npz"))
    notes = set()
    if policies:
        import json

        import numpy as np

        for path in policies:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["metadata"])) if "metadata" in data else {}
            notes.add(meta.get("clip_attribution", ""))
        text += "- Bundled policies (assets/" + ", assets/".join(p.name for p in policies) + "):\n"
        for note in sorted(n for n in notes if n):
            text += f"  {note}\n"
    return text


def run_ext(blender_ext: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(blender_ext), *args], capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or "error" in out.lower():
        raise BuildError(f"blender_ext.py {args[0]} failed: {out.splitlines()[-1] if out else proc.returncode}")
    return out


def build(out_dir: Path, cache: Path, offline: bool = False, package: Path | None = None, log=print) -> Path:
    """Build and validate the zip; returns its path."""
    package = package or PACKAGE
    manifest = read_manifest(package)
    ext_id, version = manifest.get("id"), manifest.get("version")
    if not ext_id or not version:
        raise BuildError(f"{package / 'blender_manifest.toml'} needs an id and a version.")
    blender_ext = find_blender_ext()
    log(f"[build] {ext_id} {version}: wheels from {cache}")
    wheels = fetch_wheels(cache, offline=offline, log=log)
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{ext_id}-{version}.zip"
    with tempfile.TemporaryDirectory(prefix="backflip_build_") as tmp:
        stage = Path(tmp) / ext_id
        shutil.copytree(package, stage, ignore=_ignore)
        (stage / "wheels").mkdir()
        for _, wheel in wheels:
            shutil.copy2(wheel, stage / "wheels" / wheel.name)
        (stage / "blender_manifest.toml").write_text(dump_manifest(zip_manifest(manifest, wheels)),
                                                     encoding="utf-8")
        (stage / "ATTRIBUTION.md").write_text(attribution_text(package, manifest), encoding="utf-8")
        licence = ROOT / "LICENSE"
        if licence.is_file() and not (stage / "LICENSE").exists():
            shutil.copy2(licence, stage / "LICENSE")
        if zip_path.exists():
            zip_path.unlink()
        log("[build] blender_ext.py build")
        try:
            run_ext(blender_ext, "build", "--source-dir", str(stage), "--output-filepath", str(zip_path))
        except BuildError as exc:  # name the repository's manifest, not the staging copy
            raise BuildError(str(exc).replace(str(stage / "blender_manifest.toml"),
                                              str(package / "blender_manifest.toml"))) from None
    log("[build] blender_ext.py validate")
    run_ext(blender_ext, "validate", str(zip_path))
    size = zip_path.stat().st_size / 1e6
    log(f"[build] wrote {zip_path} ({size:.1f} MB, {len(wheels)} wheels)")
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python build_addon.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist", help="where the zip goes (default dist/)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="wheel cache (default ~/.cache/blender_backflip/wheels or $BACKFLIP_WHEEL_CACHE)")
    parser.add_argument("--offline", action="store_true", help="use cached wheels only; never run pip")
    args = parser.parse_args(argv)
    try:
        build(args.out_dir, args.cache_dir or default_cache_dir(), offline=args.offline)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
