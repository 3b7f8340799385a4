"""Scale-out: three shots baked and rendered by three separate processes at once, as a job queue (Flamenco, a
shell loop, any farm) would run the headless command. Each output is checked on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import REPO, cli_env, digest, make_policy, make_shot

SIZE = (64, 36)
SHOTS = [  # (shot name, armature name, start frame, seed, export)
    ("sh010", "Hero", 1, 0, None),
    ("sh020", "Villain", 24, 1, "motion.glb"),
    ("sh030", "Hero", 101, 2, "motion.bvh"),
]


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("farm")
    policy = make_policy(tmp / "policy.npz")
    shots = {}
    for name, armature, _, _, _ in SHOTS:
        shots[name] = make_shot(tmp / "shots" / f"{name}.blend", *SIZE, armature=armature)
    inputs = {name: digest(path) for name, path in shots.items()}
    procs = {}
    for name, armature, start, seed, export in SHOTS:
        job = tmp / "jobs" / name
        cmd = [sys.executable, "-m", "blender_backflip", "flip", str(shots[name]), "--armature", armature,
               "--start-frame", str(start), "--seed", str(seed), "--policy-file", str(policy), "--allow-fall",
               "--save", str(job / f"{name}_flip.blend"), "--render", str(job / "frames")]
        if export:
            cmd += ["--export", str(job / export)]
        procs[name] = subprocess.Popen(cmd, cwd=REPO, env=cli_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=400)
        results[name] = (proc.returncode, out, err)
    return {"tmp": tmp, "shots": shots, "inputs": inputs, "results": results}


@pytest.mark.parametrize("name,armature,start,seed,export", SHOTS)
def test_each_shot_is_baked_saved_and_rendered(farm: dict, name: str, armature: str, start: int, seed: int,
                                               export: str | None) -> None:
    bpy = pytest.importorskip("bpy")
    from blender_backflip.demo import frames as fr
    from blender_backflip.demo.pipeline import bake_info

    code, out, err = farm["results"][name]
    assert code == 0, err[-2000:]
    assert digest(farm["shots"][name]) == farm["inputs"][name]  # inputs untouched
    job = farm["tmp"] / "jobs" / name
    bpy.ops.wm.open_mainfile(filepath=str(job / f"{name}_flip.blend"), load_ui=False)
    action = bpy.data.objects[armature].animation_data.action
    first, last = (int(round(f)) for f in action.frame_range)
    assert first == start
    assert bake_info(action)["seed"] == seed
    frames = sorted((job / "frames").glob("frame_*.png"))
    assert [int(p.stem.split("_")[1]) for p in frames] == list(range(first, last + 1))
    for path in frames[:: max(1, len(frames) // 6)]:
        img = fr.read_png(path)
        assert img.shape[:2] == (SIZE[1], SIZE[0])
        assert fr.find_avatar(img).pixels > 15, path.name
    if export:
        assert (job / export).is_file() and (job / export).stat().st_size > 1000
    assert f"flip: rendered {last - first + 1} frames" in out


def test_shots_are_independent(farm: dict) -> None:
    """Different seeds give different takes; each process wrote only its own folder."""
    bpy = pytest.importorskip("bpy")
    roots = []
    for name, armature, _, _, _ in SHOTS:
        bpy.ops.wm.open_mainfile(filepath=str(farm["tmp"] / "jobs" / name / f"{name}_flip.blend"), load_ui=False)
        arm = bpy.data.objects[armature]
        scene = bpy.context.scene
        scene.frame_set(int(arm.animation_data.action.frame_range[0]) + 40)
        roots.append(tuple(arm.matrix_world @ arm.pose.bones["mixamorig:Hips"].head))
    assert len(set(roots)) == 3
    assert sorted(p.name for p in (farm["tmp"] / "jobs").iterdir()) == sorted(s[0] for s in SHOTS)
