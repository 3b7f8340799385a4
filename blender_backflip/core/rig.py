"""Reading an avatar's rig without bpy: bone-map presets and detection, rest pose, proportions, facing, ground.

The Blender layer copies the armature into plain data (`BoneRest` per bone, the object's world matrix) and
everything else happens here, so it is unit-tested without Blender.

Roles are the 15 bodies of the physics character (skeleton.BODIES). Each role maps to one bone:

- pelvis: the hips bone (root motion and the pelvis rotation);
- torso: one spine bone at about chest height (Mixamo Spine1, UE spine_02, Rigify DEF-spine.002 / chest).
  Spine bones between the hips and it move with the hips; bones between it and the head (upper spine,
  neck) move with the torso, as the physics character's chest body reaches up to the neck joint;
- head: the head bone. The neck joint of the physics body sits at the head bone's head, so a neck bone is
  not a role: it follows the torso;
- thighs, shins, feet, upper arms, forearms (lower_arm), hands, left and right.

Twist, finger, face and helper bones are never mapped: they are not in the presets, and the generic matcher
ignores names containing such words.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import rotations as rot
from .errors import BackflipError
from .skeleton import BODIES, CANONICAL, Proportions

ROLES: tuple[str, ...] = BODIES
PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets")
PRESET_ORDER: tuple[str, ...] = ("mixamo", "rigify", "unreal_mannequin", "generic")

# The training range of the policy (policy/bodies.py): each segment group 0.85-1.15 of the canonical body,
# mass 0.8-1.2. A body outside is brought into range before it is simulated.
SCALE_RANGE = (0.85, 1.15)
MASS_RANGE = (0.8, 1.2)
MIN_BONE_LENGTH = 1e-3  # metres; shorter mapped bones are refused as zero-length
# Front of the foot box of the physics body, from the ankle, as a fraction of foot_length (character.py).
FOOT_FRONT_FRACTION = 0.754


# ----------------------------------------------------------------------------------------------- presets
@lru_cache(maxsize=1)
def load_presets() -> dict[str, dict]:
    """The bone-map presets (JSON files in blender_backflip/presets), in detection priority order."""
    presets: dict[str, dict] = {}
    for name in PRESET_ORDER:
        path = os.path.join(PRESET_DIR, f"{name}.json")
        with open(path, encoding="utf-8") as handle:
            presets[name] = json.load(handle)
    return presets


_NAMESPACE = re.compile(r"^[^:]*:")
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _strip_namespace(name: str) -> str:
    return _NAMESPACE.sub("", name)


def _tokens(name: str) -> list[str]:
    """'mixamorig:LeftHandIndex1' -> ['left', 'hand', 'index', '1']; 'thigh_twist_01_l' -> [..., 'l']."""
    return [t.lower() for t in _TOKEN.findall(_strip_namespace(name))]


def _generic_key(name: str, preset: dict) -> tuple[str | None, str] | None:
    """(side or None, core word) of a bone name, or None when the name is to be ignored."""
    tokens = _tokens(name)
    if not tokens or any(t in preset["ignore"] for t in tokens):
        return None
    if tokens[0] == "def":  # Rigify deform prefix
        tokens = tokens[1:]
    side = None
    markers = preset["side_markers"]
    for candidate_side, words in markers.items():
        if tokens and tokens[-1] in words:
            side, tokens = candidate_side, tokens[:-1]
            break
        if tokens and tokens[0] in words:
            side, tokens = candidate_side, tokens[1:]
            break
    return side, "".join(tokens)


def _match_generic(bone_names: list[str], preset: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    keys = {n: _generic_key(n, preset) for n in bone_names}
    for role in ROLES:
        side, base = (role.split("_", 1) if role.startswith(("left_", "right_")) else (None, role))
        for word in preset["synonyms"][base]:
            hits = [n for n, k in keys.items() if k is not None and k == (side, word)]
            if hits:
                found[role] = min(hits, key=len)  # the first segment of a chain (thigh, not thigh.001)
                break
    return found


def _match_named(bone_names: list[str], preset: dict) -> dict[str, str]:
    exact = set(bone_names)
    # Any Mixamo namespace ('mixamorig1:Hips') is matched as 'mixamorig:Hips'.
    normalized = {re.sub(r"^mixamorig\d*:", "mixamorig:", n): n for n in bone_names}
    lowered = {n.lower(): n for n in bone_names}
    found: dict[str, str] = {}
    for role, candidates in preset["roles"].items():
        for candidate in candidates:
            hit = (candidate if candidate in exact else normalized.get(candidate)
                   or lowered.get(candidate.lower()))
            if hit is not None:
                found[role] = hit
                break
    return found


@dataclass(frozen=True)
class Detection:
    preset: str
    confidence: float  # share of the 15 roles found (generic matches count 0.9)
    mapping: dict[str, str]


def detect(bone_names: list[str] | tuple[str, ...]) -> tuple[str, float, dict[str, str]]:
    """Best preset for these bone names: (preset name, confidence 0-1, role -> bone)."""
    d = detect_full(list(bone_names))
    return d.preset, d.confidence, d.mapping


def detect_full(bone_names: list[str]) -> Detection:
    best = Detection("generic", 0.0, {})
    for name, preset in load_presets().items():
        mapping = _match_generic(bone_names, preset) if "synonyms" in preset else _match_named(bone_names, preset)
        score = len(mapping) / len(ROLES) * (0.9 if name == "generic" else 1.0)
        if score > best.confidence + 1e-9:
            best = Detection(name, round(score, 3), mapping)
    return best


def root_bone_candidates(preset: str) -> list[str]:
    return list(load_presets().get(preset, {}).get("root_bones", []))


def mapping_problems(mapping: dict[str, str], bone_names: list[str] | tuple[str, ...]) -> list[str]:
    """Human-readable problems of a role -> bone map (empty when usable)."""
    problems = []
    names = set(bone_names)
    missing = [r for r in ROLES if not mapping.get(r)]
    if missing:
        problems.append("no bone for " + ", ".join(missing))
    unknown = [f"{r} -> '{b}'" for r, b in mapping.items() if b and b not in names]
    if unknown:
        problems.append("bones not in the armature: " + ", ".join(unknown))
    by_bone: dict[str, list[str]] = {}
    for role, bone in mapping.items():
        if bone:
            by_bone.setdefault(bone, []).append(role)
    dupes = [f"'{b}' is mapped to {' and '.join(rs)}" for b, rs in by_bone.items() if len(rs) > 1]
    if dupes:
        problems.append("; ".join(dupes))
    return problems


def validate_mapping(mapping: dict[str, str], bone_names: list[str] | tuple[str, ...]) -> None:
    problems = mapping_problems(mapping, bone_names)
    if problems:
        missing = not all(mapping.get(r) for r in ROLES)
        fix = ("Pick the bones in the Backflip panel's bone map (or use a rig with Mixamo, Rigify, Unreal or "
               ".L/.R names)." if missing else "Give every role its own bone in the Backflip panel's bone map.")
        raise BackflipError("The bone map is not usable: " + "; ".join(problems) + ". " + fix)


# ----------------------------------------------------------------------------------------------- rest pose
@dataclass(frozen=True)
class BoneRest:
    """One bone of the armature at rest, in armature space (Blender units of the armature object)."""

    name: str
    parent: str | None
    head: np.ndarray  # (3,)
    tail: np.ndarray  # (3,)
    matrix: np.ndarray  # (4, 4) bone.matrix_local
    rotation_mode: str = "QUATERNION"
    use_connect: bool = False


def _decompose_uniform(matrix: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(rotation 3x3, uniform scale, translation) of an object matrix; refuses non-uniform or mirrored scale."""
    m = np.asarray(matrix, dtype=np.float64)
    basis = m[:3, :3]
    scales = np.linalg.norm(basis, axis=0)
    if np.any(scales < 1e-9) or np.max(scales) - np.min(scales) > 1e-4 * np.max(scales):
        raise BackflipError(
            f"The armature object has a non-uniform scale ({', '.join(f'{s:.4g}' for s in scales)}). "
            "Apply the scale (Object > Apply > Scale) or give it the same scale on X, Y and Z.")
    rotation = basis / scales
    if np.linalg.det(rotation) < 0:
        raise BackflipError("The armature object is mirrored (negative scale). Apply the scale first "
                            "(Object > Apply > Scale).")
    return rotation, float(scales[0]), m[:3, 3].copy()


@dataclass
class RigSpec:
    """An armature read for the flip: rest pose in world space (metres) and what follows from it."""

    bones: dict[str, BoneRest]  # every bone, armature space
    object_matrix: np.ndarray  # (4, 4) armature object's matrix_world
    mapping: dict[str, str]  # role -> bone
    root_bone: str | None = None
    object_rotation: np.ndarray = field(init=False)
    object_scale: float = field(init=False)

    def __post_init__(self) -> None:
        self.object_rotation, self.object_scale, _ = _decompose_uniform(self.object_matrix)
        validate_mapping(self.mapping, tuple(self.bones))
        for role, name in self.mapping.items():
            bone = self.bones[name]
            length = float(np.linalg.norm(bone.tail - bone.head)) * self.object_scale
            if length < MIN_BONE_LENGTH:
                raise BackflipError(f"Bone '{name}' (the {role.replace('_', ' ')}) has zero length ({length:.2g} m). "
                                    "Give it a length in Edit Mode, or map another bone to that role.")

    # -- world positions
    def world(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        return p @ (self.object_rotation * self.object_scale).T + self.object_matrix[:3, 3]

    def head(self, role: str) -> np.ndarray:
        return self.world(self.bones[self.mapping[role]].head)

    def tail(self, role: str) -> np.ndarray:
        return self.world(self.bones[self.mapping[role]].tail)

    def descendants(self, name: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for b in self.bones.values():
            if b.parent is not None:
                children.setdefault(b.parent, []).append(b.name)
        out, stack = [], list(children.get(name, []))
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(children.get(n, []))
        return out

    def ancestors(self, name: str) -> list[str]:
        """Parent first, up to the top of the hierarchy."""
        out = []
        parent = self.bones[name].parent
        while parent is not None:
            out.append(parent)
            parent = self.bones[parent].parent
        return out

    def _foot_points(self, role: str) -> np.ndarray:
        names = [self.mapping[role]] + self.descendants(self.mapping[role])
        return np.array([self.world(p) for n in names for p in (self.bones[n].head, self.bones[n].tail)])

    # -- what the flip needs
    @property
    def ground_height(self) -> float:
        """Lowest point of the feet (foot bones and their children, e.g. toes) at rest, world Z."""
        return float(min(self._foot_points(r)[:, 2].min() for r in ("left_foot", "right_foot")))

    @property
    def hip_center(self) -> np.ndarray:
        return 0.5 * (self.head("left_thigh") + self.head("right_thigh"))

    @property
    def facing_yaw(self) -> float:
        """Heading (radians about world Z, 0 = +X) of the direction the avatar faces at rest.

        From the left-right axis of the hips (and shoulders): forward = left x up, valid for any bone roll.
        """
        left = (self.head("left_thigh") - self.head("right_thigh")
                + self.head("left_upper_arm") - self.head("right_upper_arm"))
        left[2] = 0.0
        if np.linalg.norm(left) < 1e-9:
            raise BackflipError("Cannot tell which way the avatar faces: its left and right hips are at the same "
                                "place. Check the thigh bones of the bone map.")
        forward = np.cross(left, np.array([0.0, 0.0, 1.0]))
        return float(math.atan2(forward[1], forward[0]))

    @property
    def arm_pose(self) -> str:
        """'T-pose', 'A-pose' or 'arms down', from the upper arms' angle below horizontal at rest."""
        angles = []
        for side in ("left", "right"):
            d = self.head(f"{side}_lower_arm") - self.head(f"{side}_upper_arm")
            angles.append(math.degrees(math.atan2(-d[2], math.hypot(d[0], d[1]))))
        a = float(np.mean(angles))
        return "T-pose" if a < 20.0 else ("A-pose" if a < 65.0 else "arms down")

    def proportions(self, total_mass: float) -> Proportions:
        """The avatar's physics body (metres, kg) from the bone positions at rest."""
        up = np.array([0.0, 0.0, 1.0])
        ground = self.ground_height
        sides = {}
        for side in ("left", "right"):
            thigh, shin, foot = (self.head(f"{side}_{b}") for b in ("thigh", "shin", "foot"))
            upper, lower, hand = (self.head(f"{side}_{b}") for b in ("upper_arm", "lower_arm", "hand"))
            toe = self._foot_points(f"{side}_foot")
            horizontal = toe[:, :2] - foot[:2]
            sides[side] = dict(
                thigh=np.linalg.norm(shin - thigh), shin=np.linalg.norm(foot - shin), ankle_height=foot[2] - ground,
                foot_length=float(np.max(np.linalg.norm(horizontal, axis=1))) / FOOT_FRONT_FRACTION,
                upper_arm=np.linalg.norm(lower - upper), forearm=np.linalg.norm(hand - lower))
        for side, values in sides.items():
            for segment, value in values.items():
                if not value > MIN_BONE_LENGTH:
                    a, *b = _SEGMENT_BONES[segment]
                    bones = ", ".join(repr(self.mapping[r.replace("left_", side + "_")]) for r in (a, *b))
                    raise BackflipError(
                        f"The {side} {segment.replace('_', ' ')} of the rig has length {value:.3g} m (from bones "
                        f"{bones}). Check those bones in Edit Mode: each joint must be at its own place.")
        avg = {k: float(0.5 * (sides["left"][k] + sides["right"][k])) for k in sides["left"]}
        hips = self.hip_center
        chest = self.head("torso")
        neck = self.head("head")
        head_names = [self.mapping["head"]] + self.descendants(self.mapping["head"])
        top = max(float(self.world(self.bones[n].tail)[2]) for n in head_names)
        shoulders = 0.5 * (self.head("left_upper_arm") + self.head("right_upper_arm"))
        p = Proportions(
            pelvis_to_chest=float((chest - hips) @ up),
            chest_to_neck=float((neck - chest) @ up),
            head_size=float(top - neck[2]),
            hip_half_width=float(0.5 * np.linalg.norm(self.head("left_thigh") - self.head("right_thigh"))),
            shoulder_half_width=float(0.5 * np.linalg.norm(self.head("left_upper_arm") - self.head("right_upper_arm"))),
            shoulder_height=float((shoulders - chest) @ up),
            total_mass=float(total_mass),
            **avg,
        )
        try:
            return p.validate()
        except BackflipError as exc:
            raise BackflipError(f"{exc} The rig's bones give this body: {_describe_bad(p, self.mapping)}") from exc

    def rest_world_rotation(self, name: str) -> np.ndarray:
        """3x3 world rotation of a bone's rest frame."""
        return self.object_rotation @ self.bones[name].matrix[:3, :3]


_SEGMENT_BONES = {
    "pelvis_to_chest": ("pelvis", "torso"), "chest_to_neck": ("torso", "head"), "head_size": ("head",),
    "hip_half_width": ("left_thigh", "right_thigh"), "thigh": ("left_thigh", "left_shin"),
    "shin": ("left_shin", "left_foot"), "ankle_height": ("left_foot",), "foot_length": ("left_foot",),
    "shoulder_half_width": ("left_upper_arm", "right_upper_arm"), "shoulder_height": ("torso", "left_upper_arm"),
    "upper_arm": ("left_upper_arm", "left_lower_arm"), "forearm": ("left_lower_arm", "left_hand"),
}


def _describe_bad(p: Proportions, mapping: dict[str, str]) -> str:
    bad = []
    for name, roles in _SEGMENT_BONES.items():
        value = getattr(p, name)
        if not (math.isfinite(value) and value > 0):
            bad.append(f"{name} = {value:.3g} m (bones {', '.join(repr(mapping[r]) for r in roles)})")
    return "; ".join(bad) + "."


# ----------------------------------------------------------------------------------------------- training range
@dataclass(frozen=True)
class SimBody:
    """The body that is simulated for an avatar and how its motion maps back onto the avatar."""

    avatar: Proportions
    simulated: Proportions
    scale: float  # avatar metres per simulated metre (1.0 when the avatar is simulated as it is)
    note: str  # one line for the animator ("" when nothing was changed)

    @property
    def adjusted(self) -> bool:
        return bool(self.note)


def _groups(p: Proportions) -> dict[str, float]:
    legs, arms, trunk, head, mass = p.scale_factors()
    return {"legs": legs, "arms": arms, "trunk": trunk, "head": head, "mass": mass}


def in_training_range(p: Proportions) -> bool:
    g = _groups(p)
    ok = all(SCALE_RANGE[0] - 1e-9 <= g[k] <= SCALE_RANGE[1] + 1e-9 for k in ("legs", "arms", "trunk", "head"))
    return ok and MASS_RANGE[0] - 1e-9 <= g["mass"] <= MASS_RANGE[1] + 1e-9


def _lengths_in_range(g: dict[str, float]) -> bool:
    return all(SCALE_RANGE[0] - 1e-9 <= g[k] <= SCALE_RANGE[1] + 1e-9 for k in ("legs", "arms", "trunk", "head"))


def fit_to_training_range(avatar: Proportions) -> SimBody:
    """The body to simulate for an avatar; never refuses a humanoid for its size, proportions or mass.

    - In the policy's training range: the avatar as it is.
    - Segment lengths in range, mass not: the avatar's own size with the mass clamped into range (the motion
      is the avatar's size; only the dynamics see the lighter or heavier body).
    - Otherwise: scaled uniformly to the canonical height, each segment group (and the mass) clamped into
      the range, and the motion scaled back onto the rig by the same factor.
    """
    avatar = avatar.validate()
    if in_training_range(avatar):
        return SimBody(avatar, avatar, 1.0, "")
    g = _groups(avatar)
    if _lengths_in_range(g):
        mass = float(np.clip(g["mass"], *MASS_RANGE))
        simulated = avatar.scaled(mass=mass / g["mass"])
        note = (f"Avatar mass {avatar.total_mass:.0f} kg is outside the trained range for its size: simulated "
                f"{simulated.total_mass:.0f} kg (the motion keeps the avatar's size).")
        return SimBody(avatar, simulated, 1.0, note)
    factor = avatar.standing_height / CANONICAL.standing_height
    normal = avatar.uniformly_scaled(1.0 / factor)
    g = _groups(normal)
    clamp = {k: float(np.clip(v, *SCALE_RANGE)) / v for k, v in g.items() if k != "mass"}
    clamp["mass"] = float(np.clip(g["mass"], *MASS_RANGE)) / g["mass"]
    simulated = normal.scaled(**clamp)
    changed = [f"{k} {g[k]:.2f}x->{g[k] * clamp[k]:.2f}x" for k in ("legs", "arms", "trunk", "head", "mass")
               if abs(clamp[k] - 1) > 1e-6]
    note = (f"Avatar ({avatar.standing_height:.2f} m, {avatar.total_mass:.0f} kg) is outside the trained range: "
            f"simulated a {simulated.standing_height:.2f} m body"
            + (f" (clamped into the trained range: {', '.join(changed)})" if changed else "")
            + f" and scaled the motion by {factor:.2f}x onto the rig.")
    return SimBody(avatar, simulated, float(factor), note)


# ----------------------------------------------------------------------------------------------- retarget frames
# Direction of each limb segment in the physics body's rest pose (character.py: every body frame axis-aligned,
# arms and legs straight down, trunk and head straight up), and the two points of the rig that span it.
SEGMENT_DIRECTIONS: dict[str, tuple[tuple[str, str], np.ndarray]] = {
    "torso": (("torso", "head"), np.array([0.0, 0.0, 1.0])),
}
for _side in ("left", "right"):
    SEGMENT_DIRECTIONS[f"{_side}_thigh"] = ((f"{_side}_thigh", f"{_side}_shin"), np.array([0.0, 0.0, -1.0]))
    SEGMENT_DIRECTIONS[f"{_side}_shin"] = ((f"{_side}_shin", f"{_side}_foot"), np.array([0.0, 0.0, -1.0]))
    SEGMENT_DIRECTIONS[f"{_side}_upper_arm"] = ((f"{_side}_upper_arm", f"{_side}_lower_arm"), np.array([0.0, 0.0, -1.0]))
    SEGMENT_DIRECTIONS[f"{_side}_lower_arm"] = ((f"{_side}_lower_arm", f"{_side}_hand"), np.array([0.0, 0.0, -1.0]))


def rest_alignment(rig: RigSpec, yaw: float) -> dict[str, np.ndarray]:
    """Per role, the world rotation (3x3) that turns the rig's rest segment onto the physics body's rest
    direction (in the avatar's facing): arms of a T- or A-pose swing down, legs and spine straighten.

    Pelvis and feet stay as they are (both stand flat at rest); a hand turns with its forearm, the head with
    the torso.
    """
    heading = rot.quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), np.array(yaw))
    out: dict[str, np.ndarray] = {"pelvis": np.eye(3), "left_foot": np.eye(3), "right_foot": np.eye(3)}
    for role, ((a, b), direction) in SEGMENT_DIRECTIONS.items():
        start = rig.head(a)
        end = rig.head(b)
        want = rot.quat_rotate(heading, direction)
        out[role] = rot.quat_to_matrix(rot.shortest_arc(end - start, want))
    out["head"] = out["torso"]  # a head bone's own axis says little (it may point forward): keep it on the chest
    out["left_hand"] = out["left_lower_arm"]
    out["right_hand"] = out["right_lower_arm"]
    return out
