"""The three steps behind the buttons, as functions: read the avatar, simulate (cached), bake into an Action.

Reading and writing Blender data happens on the main thread; `Avatar` and `simulate_avatar` use numpy/MuJoCo
data only, so the interactive path runs the simulation in a worker thread.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import threading
from dataclasses import astuple, dataclass, field
from typing import Any, Callable

import bpy
import numpy as np

from ..core.errors import BackflipError
from ..core.nudge import Nudge
from ..core.rig import BoneRest, RigSpec, SimBody, detect_full, fit_to_training_range, root_bone_candidates
from ._support import FlipSettings

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")


# ----------------------------------------------------------------------------------------------- policies
_take_cache: dict[str, tuple[float, dict]] = {}


def _metadata(path: str) -> dict:
    stamp = os.path.getmtime(path)
    hit = _take_cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["metadata"]))
    except Exception:  # a broken file is listed under its file name; loading it reports the problem
        meta = {}
    _take_cache[path] = (stamp, meta)
    return meta


def _describe(meta: dict) -> str:
    """A take's tooltip: what it does and how often it lands (the canonical body's measured rate)."""
    text = str(meta.get("description") or "")
    rate = (meta.get("measured_success") or {}).get("canonical")
    if isinstance(rate, (int, float)):
        text = f"{text} (lands {100 * rate:.0f}% of seeds)".strip()
    return text


def available_takes() -> list[tuple[str, str, str]]:
    """(take, path, description) of the policy files bundled in assets/, 'final' first."""
    out = []
    for path in sorted(glob.glob(os.path.join(ASSETS, "*.npz"))):
        meta = _metadata(path)
        take = str(meta.get("take") or os.path.splitext(os.path.basename(path))[0])
        out.append((take, path, _describe(meta)))
    out.sort(key=lambda t: (t[0] != "final", t[0]))
    return out


def policy_path(settings: FlipSettings) -> str:
    if settings.policy_file:
        return bpy.path.abspath(settings.policy_file)
    takes = available_takes()
    if not takes:
        raise BackflipError(f"No policy file in the add-on's assets folder ({ASSETS}). Reinstall the add-on, or "
                            "set a policy file in the Backflip panel (Flip > Policy file).")
    if not settings.take:
        return takes[0][1]
    for take, path, _ in takes:
        if take == settings.take:
            return path
    raise BackflipError(f"No take named '{settings.take}'; the add-on has: {', '.join(t for t, _, _ in takes)}.")


# ----------------------------------------------------------------------------------------------- the avatar
def _root_bone(bones: dict[str, BoneRest], pelvis: str, preset: str) -> str | None:
    names = {n.lower() for n in root_bone_candidates(preset)} | {"root", "armature", "master", "rootbone"}
    top = pelvis
    while bones[top].parent is not None:
        top = bones[top].parent  # type: ignore[assignment]
    return top if top != pelvis and top.split(":")[-1].lower() in names else None


def bone_rests(obj: bpy.types.Object) -> dict[str, BoneRest]:
    data: Any = obj.data
    pose = obj.pose
    out = {}
    for bone in data.bones:
        pb = pose.bones.get(bone.name) if pose is not None else None
        out[bone.name] = BoneRest(
            name=bone.name, parent=bone.parent.name if bone.parent else None,
            head=np.array(bone.head_local, dtype=np.float64), tail=np.array(bone.tail_local, dtype=np.float64),
            matrix=np.array(bone.matrix_local, dtype=np.float64),
            rotation_mode=pb.rotation_mode if pb is not None else "QUATERNION", use_connect=bone.use_connect)
    return out


def stored_mapping(context: bpy.types.Context, obj: bpy.types.Object) -> tuple[str, float, dict[str, str]] | None:
    """The panel's bone map when it was made for this armature."""
    group = getattr(context.scene, "backflip", None)
    if group is None or group.map_armature != obj.name or not len(group.bone_map):
        return None
    return group.preset, group.confidence, {item.role: item.bone for item in group.bone_map}


@dataclass
class Avatar:
    """The avatar read from Blender: rig, bone map and the body that will be simulated."""

    name: str
    rig: RigSpec
    preset: str
    confidence: float
    body: SimBody
    rotation_modes: dict[str, str]
    key: str  # hash of everything the simulation depends on

    @property
    def note(self) -> str:
        return self.body.note


def read_avatar(context: bpy.types.Context, obj: bpy.types.Object, settings: FlipSettings,
                mapping: tuple[str, float, dict[str, str]] | None = None) -> Avatar:
    bones = bone_rests(obj)
    if not bones:
        raise BackflipError(f"Armature '{obj.name}' has no bones. Pick the avatar's armature.")
    found = mapping or stored_mapping(context, obj)
    if found is None:
        d = detect_full(list(bones))
        found = (d.preset, d.confidence, d.mapping)
    preset, confidence, roles = found
    pelvis = roles.get("pelvis") or ""
    root = _root_bone(bones, pelvis, preset) if pelvis in bones else None
    rig = RigSpec(bones, np.array(obj.matrix_world, dtype=np.float64), dict(roles), root_bone=root)
    body = fit_to_training_range(rig.proportions(settings.total_mass))
    digest = hashlib.sha1()
    for b in sorted(bones):
        digest.update(b.encode())
        digest.update(bones[b].matrix.tobytes())
    digest.update(rig.object_matrix.tobytes())
    digest.update(json.dumps(sorted(roles.items())).encode())
    digest.update(repr(body.simulated).encode())
    return Avatar(obj.name, rig, preset, confidence, body, {n: b.rotation_mode for n, b in bones.items()},
                  digest.hexdigest())


# ----------------------------------------------------------------------------------------------- simulation
@dataclass
class Simulation:
    avatar_key: str
    settings_key: str
    result: Any  # core.rollout.SimResult
    body: SimBody
    take: str
    seconds: float


_cache: dict[tuple[str, str], Simulation] = {}
# The reference track depends on the policy and the body only: another seed or nudge on the same avatar reuses
# it (building it, with the planted feet's inverse kinematics, is about two thirds of a simulation's time).
_tracks: dict[tuple[str, str], Any] = {}  # core.reference.ReferenceTrack
_CACHE_SIZE = 8


def _policy_key(path: str) -> str:
    try:
        stat = os.stat(path)
        stamp = (stat.st_mtime, stat.st_size)
    except OSError:
        stamp = (0.0, -1)
    return json.dumps([path, stamp])


def _settings_key(settings: FlipSettings, path: str, nudge: Nudge | None) -> str:
    return json.dumps([_policy_key(path), settings.seed, None if nudge is None else astuple(nudge)])


def _remember(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


def cached_simulation(avatar: Avatar, settings: FlipSettings) -> Simulation | None:
    return _cache.get((avatar.key, _settings_key(settings, policy_path(settings), settings.nudge())))


def clear_cache() -> None:
    _cache.clear()
    _tracks.clear()


def simulate_avatar(avatar: Avatar, settings: FlipSettings,
                    progress: Callable[[float], bool] | None = None) -> Simulation:
    """Simulate the flip on the avatar's body (cached until the rig or the settings change). No bpy inside."""
    import time

    from ..core.character import build_character
    from ..core.controller import Controller
    from ..core.policy_file import load_policy
    from ..core.rollout import policy_track, simulate

    path = policy_path(settings)
    nudge = settings.nudge()
    key = (avatar.key, _settings_key(settings, path, nudge))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    start = time.perf_counter()
    policy = load_policy(path)
    character = build_character(avatar.body.simulated)
    track_key = (avatar.key, _policy_key(path))
    track = _tracks.get(track_key)
    if track is None:
        track = policy_track(policy, character)
        _remember(_tracks, track_key, track)
    result = simulate(character, Controller(policy, backend="numpy"), seed=int(settings.seed), progress=progress,
                      nudge=nudge, track=track)
    if not (np.all(np.isfinite(result.body_pos)) and np.all(np.isfinite(result.body_quat))):
        raise BackflipError("The simulation diverged (NaN). Check the rig's proportions and the total mass.")
    sim = Simulation(key[0], key[1], result, avatar.body, policy.take, time.perf_counter() - start)
    _remember(_cache, key, sim)
    return sim


@dataclass
class SimulationJob:
    """A simulation in a worker thread for the interactive UI: progress to show, cancel with ESC."""

    avatar: Avatar
    settings: FlipSettings
    fraction: float = 0.0
    cancelled: bool = False
    result: Simulation | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def _progress(self, fraction: float) -> bool:
        self.fraction = fraction
        return not self.cancelled

    def _run(self) -> None:
        try:
            self.result = simulate_avatar(self.avatar, self.settings, self._progress)
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc

    def start(self) -> "SimulationJob":
        self.thread = threading.Thread(target=self._run, name="backflip-simulate", daemon=True)
        self.thread.start()
        return self

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()

    def outcome(self) -> Simulation:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def outcome(sim: Simulation) -> str:
    """How the simulated flip went, and the nudge it was given: 'landed (...), pushed the torso 20 N s left at 0.30 s'."""
    nudge = sim.result.nudge
    return sim.result.verdict.describe() + ("" if nudge is None else f", {nudge.describe()}")


def check_verdict(sim: Simulation, settings: FlipSettings) -> None:
    verdict = sim.result.verdict
    if not verdict.landed and not settings.allow_fall:
        retry = "a smaller or another nudge" if sim.result.nudge is not None else "another seed"
        raise BackflipError(f"The simulated flip {outcome(sim)}. Nothing was baked: try {retry}, or "
                            "tick 'Bake a fall' to keep this take.")


# ----------------------------------------------------------------------------------------------- bake
def _unique_action_name(take: str) -> str:
    i = 1
    while f"Backflip_{take}_{i:03d}" in bpy.data.actions:
        i += 1
    return f"Backflip_{take}_{i:03d}"


def placement_for(avatar: Avatar, settings: FlipSettings) -> Any:
    from ..core.bake import Placement

    rig = avatar.rig
    ground = rig.ground_height if settings.ground_from_feet else float(settings.ground_height)
    yaw = rig.facing_yaw if settings.facing_from_rig else float(settings.facing)
    hips = rig.hip_center
    body = avatar.body
    return Placement(np.array([hips[0], hips[1], ground]), yaw, body.scale,
                     body.avatar.leg_length - body.scale * body.simulated.leg_length)


def plan_for(avatar: Avatar, sim: Simulation, settings: FlipSettings, scene: bpy.types.Scene) -> Any:
    from ..core.bake import plan_bake, reduce_keys
    from ..core.rig import rest_alignment

    placement = placement_for(avatar, settings)
    fps = scene.render.fps / scene.render.fps_base
    plan = plan_bake(avatar.rig, sim.result, placement, rest_alignment(avatar.rig, placement.yaw), fps,
                     float(settings.start_frame), avatar.rotation_modes)
    if settings.reduce_keys:
        plan = reduce_keys(plan, settings.max_error_deg, settings.max_error_cm / 100.0, avatar.rig.object_scale)
    return plan


_INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}


def _channelbag(action: bpy.types.Action, slot: bpy.types.ActionSlot) -> Any:
    """The F-curve container of `slot` in a new layered Action (Blender 4.4+ and 5.x alike; bpy_extras'
    action_ensure_channelbag_for_slot is 5.0's only)."""
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip: Any = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")  # a keyframe strip
    return strip.channelbag(slot, ensure=True)


def write_action(obj: bpy.types.Object, plan: Any, take: str, settings: FlipSettings,
                 info: dict[str, Any]) -> bpy.types.Action:
    """A new, uniquely named Action with the plan's keys, assigned to the armature (or in an NLA strip).

    The previous action stays in the file: it keeps a fake user and the new action records its name.
    """
    created = obj.animation_data is None
    anim = obj.animation_data or obj.animation_data_create()
    previous = anim.action
    action = bpy.data.actions.new(_unique_action_name(take))
    try:
        slot = action.slots.new(id_type="OBJECT", name=obj.name)
        bag: Any = _channelbag(action, slot)
        interpolation = _INTERPOLATION["LINEAR" if plan.reduced else "BEZIER"]
        groups: dict[str, Any] = {}
        for channel in plan.channels:
            fc = bag.fcurves.new(channel.pose_path, index=channel.index)  # 4.5 has no group_name= here
            if channel.bone not in groups:
                groups[channel.bone] = bag.groups.new(channel.bone)
            fc.group = groups[channel.bone]
            n = len(channel.frames)
            fc.keyframe_points.add(n)
            co = np.empty(2 * n, dtype=np.float32)
            co[0::2] = channel.frames
            co[1::2] = channel.values
            fc.keyframe_points.foreach_set("co", co)
            fc.keyframe_points.foreach_set("interpolation", np.full(n, interpolation, dtype=np.int32))
            fc.update()
        action["backflip"] = json.dumps(info)
        if previous is not None:
            previous.use_fake_user = True
            action["backflip_previous_action"] = previous.name
        if settings.use_nla:
            track = anim.nla_tracks.new()
            track.name = action.name
            strip = track.strips.new(action.name, int(plan.frames[0]), action)
            strip.action_slot = slot
            anim.action = None
        else:
            anim.action = action
            anim.action_slot = slot
    except BaseException:
        bpy.data.actions.remove(action)
        if created:
            obj.animation_data_clear()
        raise
    return action


def bake_info(avatar: Avatar, sim: Simulation, settings: FlipSettings) -> dict[str, Any]:
    return {"take": sim.take, "seed": settings.seed, "verdict": sim.result.verdict.describe(),
            "landed": bool(sim.result.verdict.landed), "preset": avatar.preset, "note": avatar.note,
            "scale": avatar.body.scale, "start_frame": settings.start_frame,
            "facing_deg": math.degrees(placement_for(avatar, settings).yaw),
            "nudge": None if sim.result.nudge is None else sim.result.nudge.describe()}
