"""The three steps as separate buttons, the cached simulation, the worker-thread path (progress, ESC cancel),
and the panel's settings saved in the .blend file."""

from __future__ import annotations

import json
import time

import bpy
import mujoco
import numpy as np
import pytest

from blender_backflip.core.errors import BackflipError
from blender_backflip.operators import _pipeline as pipe
from blender_backflip.operators._support import FlipSettings
from tests.blender import rigs
from tests.blender.conftest import scene_snapshot


def test_export_simulate_bake(policy_path, tmp_path) -> None:
    obj = rigs.build("unreal")
    before = scene_snapshot()
    assert bpy.ops.backflip.export_avatar(armature=obj.name, directory=str(tmp_path)) == {"FINISHED"}
    model = mujoco.MjModel.from_xml_path(str(tmp_path / "Hero.xml"))
    assert model.nbody == 16
    bonemap = json.loads((tmp_path / "Hero_bonemap.json").read_text())
    assert bonemap["preset"] == "unreal_mannequin" and bonemap["roles"]["left_shin"] == "calf_l"
    assert bonemap["root_bone"] == "root" and bonemap["arm_pose"] == "A-pose"
    assert bonemap["facing_deg"] == pytest.approx(-90.0)
    assert scene_snapshot() == before  # exporting changes nothing

    pipe.clear_cache()
    assert bpy.ops.backflip.simulate(armature=obj.name, policy_file=policy_path) == {"FINISHED"}
    assert scene_snapshot()["actions"] == before["actions"]
    settings = FlipSettings(policy_file=policy_path)
    avatar = pipe.read_avatar(bpy.context, obj, settings)
    sim = pipe.cached_simulation(avatar, settings)
    assert sim is not None

    assert bpy.ops.backflip.bake(armature=obj.name, policy_file=policy_path, allow_fall=True) == {"FINISHED"}
    assert pipe.cached_simulation(avatar, settings) is sim  # baked from the cache, not simulated again
    info = json.loads(obj.animation_data.action["backflip"])
    assert info["take"] == "final" and info["preset"] == "unreal_mannequin"


def test_cache_follows_rig_and_settings(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    settings = FlipSettings(policy_file=policy_path)
    a = pipe.read_avatar(bpy.context, obj, settings)
    sim = pipe.simulate_avatar(a, settings)
    assert pipe.simulate_avatar(pipe.read_avatar(bpy.context, obj, settings), settings) is sim
    assert pipe.cached_simulation(a, FlipSettings(policy_file=policy_path, seed=5)) is None
    heavier = pipe.read_avatar(bpy.context, obj, FlipSettings(policy_file=policy_path, total_mass=50.0))
    assert heavier.key != a.key
    bpy.ops.object.mode_set(mode="EDIT")
    obj.data.edit_bones["mixamorig:LeftLeg"].tail.z -= 3.0
    bpy.ops.object.mode_set(mode="OBJECT")
    assert pipe.read_avatar(bpy.context, obj, settings).key != a.key


def test_worker_thread_reports_progress_and_cancels(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    pipe.clear_cache()
    settings = FlipSettings(policy_file=policy_path, seed=11)
    avatar = pipe.read_avatar(bpy.context, obj, settings)
    job = pipe.SimulationJob(avatar, settings).start()
    while not job.done:
        time.sleep(0.01)
    assert job.fraction == pytest.approx(1.0) and job.outcome().result.verdict is not None

    pipe.clear_cache()
    before = scene_snapshot()
    job = pipe.SimulationJob(avatar, settings)
    job.cancelled = True  # ESC before the first control step ends
    job.start()
    while not job.done:
        time.sleep(0.01)
    with pytest.raises(BackflipError, match="cancelled; nothing was changed"):
        job.outcome()
    assert pipe.cached_simulation(avatar, settings) is None
    assert scene_snapshot() == before


def test_settings_are_saved_in_the_blend_file(tmp_path) -> None:
    obj = rigs.build("rigify")
    s = bpy.context.scene.backflip
    s.armature, s.total_mass, s.seed, s.start_frame, s.allow_fall, s.use_nla = obj, 81.5, 7, 33, True, True
    s.facing_from_rig, s.facing = False, 1.25
    assert bpy.ops.backflip.detect_bone_map(armature=obj.name) == {"FINISHED"}
    s.bone_map[3].bone = "DEF-toe.R"
    path = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    s = bpy.context.scene.backflip
    assert s.armature.name == "Hero" and s.total_mass == pytest.approx(81.5) and s.seed == 7
    assert (s.start_frame, s.allow_fall, s.use_nla, s.facing_from_rig) == (33, True, True, False)
    assert s.facing == pytest.approx(1.25) and s.preset == "rigify" and s.bone_map[3].bone == "DEF-toe.R"


def test_take_enum_lists_the_bundled_policies() -> None:
    from blender_backflip.panels.properties import take_items

    s = bpy.context.scene.backflip
    takes = [t for t, _, _ in pipe.available_takes()]
    assert [i[0] for i in take_items(s, bpy.context)] == (takes or ["NONE"])
    if takes:
        assert takes[0] == "final" or "final" not in takes
        s.take = takes[0]
    for take, path, tooltip in pipe.available_takes():  # the tooltip says how often the take lands
        rate = (pipe._metadata(path).get("measured_success") or {}).get("canonical")
        if rate is not None:
            assert f"(lands {100 * rate:.0f}% of seeds)" in tooltip, (take, tooltip)


def test_operators_poll_and_settings_override() -> None:
    """Headless callers (no 3D View) always reach execute(), which reports what is wrong."""
    for op in (bpy.ops.backflip.flip, bpy.ops.backflip.simulate, bpy.ops.backflip.bake,
               bpy.ops.backflip.export_avatar, bpy.ops.backflip.validate_bone_map):
        assert op.poll()


class _Recorder:
    """Stands in for a UILayout: records every prop/operator the panels draw."""

    def __init__(self, log: list) -> None:
        self.log = log
        self.enabled = self.use_property_split = True
        self.scale_y = 1.0

    def _child(self, *args, **kwargs) -> "_Recorder":
        return _Recorder(self.log)

    row = column = box = _child

    def prop(self, data, name, **kwargs) -> None:
        self.log.append(("prop", data, name))

    def prop_search(self, data, name, search_data, search_name, **kwargs) -> None:
        self.log.append(("prop", data, name))

    def operator(self, idname, **kwargs) -> None:
        self.log.append(("operator", None, idname))

    def label(self, **kwargs) -> None:
        self.log.append(("label", None, kwargs.get("text", "")))

    def template_list(self, listtype, list_id, data, name, active_data, active_name, **kwargs) -> None:
        self.log.append(("prop", data, name))
        self.log.append(("prop", active_data, active_name))


def test_panels_draw_existing_settings_and_operators() -> None:
    from blender_backflip.panels import sidebar

    rigs.build("mixamo", unit=0.01)
    bpy.ops.backflip.detect_bone_map()
    log: list = []
    for panel in (sidebar.BACKFLIP_PT_main, sidebar.BACKFLIP_PT_bone_map, sidebar.BACKFLIP_PT_body,
                  sidebar.BACKFLIP_PT_flip):
        fake = type("P", (), {"ui": lambda self: _Recorder(log)})()
        panel.draw(fake, bpy.context)
    settings = bpy.context.scene.backflip
    for kind, data, name in log:
        if kind == "prop":
            assert name in data.bl_rna.properties.keys(), name
        elif kind == "operator":
            module, op = name.split(".")
            getattr(getattr(bpy.ops, module), op).get_rna_type()
    drawn = {n for k, d, n in log if k == "prop" and d == settings}
    assert {"armature", "total_mass", "take", "seed", "start_frame", "ground_from_feet", "facing_from_rig",
            "allow_fall", "reduce_keys", "max_error_deg", "use_nla", "bone_map"} <= drawn
    assert {n for k, _, n in log if k == "operator"} >= {"backflip.flip", "backflip.export_avatar", "backflip.simulate",
                                                          "backflip.bake", "backflip.validate_bone_map"}
    row = sidebar.BACKFLIP_UL_bone_map.draw_item(None, bpy.context, _Recorder(log), settings, settings.bone_map[0],
                                                 0, settings, "bone_map_index")
    assert row is None


def test_another_seed_reuses_the_reference_track_and_gets_the_same_motion(policy_path) -> None:
    obj = rigs.build("mixamo", unit=0.01)
    avatar = pipe.read_avatar(bpy.context, obj, FlipSettings(policy_file=policy_path))
    pipe.clear_cache()
    pipe.simulate_avatar(avatar, FlipSettings(policy_file=policy_path, seed=0))
    reused = pipe.simulate_avatar(avatar, FlipSettings(policy_file=policy_path, seed=1))
    assert len(pipe._tracks) == 1 and len(pipe._cache) == 2
    pipe.clear_cache()
    fresh = pipe.simulate_avatar(avatar, FlipSettings(policy_file=policy_path, seed=1))
    np.testing.assert_array_equal(reused.result.qpos, fresh.result.qpos)
