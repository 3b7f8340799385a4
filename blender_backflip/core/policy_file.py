"""The exported policy file: weights, observation normalizer, the resampled reference and metadata in one .npz.

Loaded without torch. Validated against the core on load: a file made for another joint order, observation
layout, rate or format version is refused with a message that says what differs.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import rates
from .character import CONTACT_TIMECONST
from .errors import BackflipError
from .motion import Motion
from .observation import ACTION_MAPPING, ACTION_SCALE, FORMAT_VERSION, OBS_LAYOUT
from .skeleton import DOF_NAMES

CLIP_ATTRIBUTION = (
    "Reference motion: DeepMimic humanoid3d_backflip (MIT licence, Xue Bin Peng et al.), derived from the CMU "
    "motion capture database. The data used in this project was obtained from mocap.cs.cmu.edu. The database "
    "was created with funding from NSF EIA-0196217."
)


@dataclass
class PolicyFile:
    weights: list[np.ndarray]  # per layer: W (out, in)
    biases: list[np.ndarray]
    obs_mean: np.ndarray
    obs_std: np.ndarray
    obs_eps: float
    reference: Motion  # the canonical reference the policy was trained to imitate
    metadata: dict = field(default_factory=dict)

    @property
    def take(self) -> str:
        return str(self.metadata.get("take", "final"))

    @property
    def reference_flight(self) -> str:
        """How the policy's reference treats the clip's flight (core.flight); files from before it say "clip"."""
        return str(self.metadata.get("reference_flight", "clip"))

    @property
    def reference_feet(self) -> str:
        """How the policy's reference treats the feet after landing (core.planted_feet); older files: "clip"."""
        return str(self.metadata.get("reference_feet", "clip"))


def core_metadata() -> dict:
    """What the core promises; a policy file must agree on all of it."""
    return {
        "format_version": FORMAT_VERSION,
        "dof_names": list(DOF_NAMES),
        "obs_layout": [list(x) for x in OBS_LAYOUT],
        "action_scale": ACTION_SCALE,
        "action_mapping": ACTION_MAPPING,
        "physics_hz": rates.PHYSICS_HZ,
        "control_hz": rates.CONTROL_HZ,
        "hold_seconds": rates.HOLD_SECONDS,
        "contact_timeconst": CONTACT_TIMECONST,  # how hard the floor is: a policy lands for the floor it knows
    }


def save_policy(path: str | os.PathLike[str], policy: PolicyFile) -> None:
    """Write atomically (a temporary file renamed into place), so a failed export leaves nothing behind."""
    import mujoco

    meta = {**policy.metadata, **core_metadata(), "mujoco_version": mujoco.__version__,
            "clip_attribution": policy.metadata.get("clip_attribution", CLIP_ATTRIBUTION), "activation": "elu"}
    arrays = {f"w{i}": w.astype(np.float32) for i, w in enumerate(policy.weights)}
    arrays.update({f"b{i}": b.astype(np.float32) for i, b in enumerate(policy.biases)})
    ref = policy.reference
    arrays.update(obs_mean=policy.obs_mean.astype(np.float32), obs_std=policy.obs_std.astype(np.float32),
                  ref_dt=np.array(ref.dt), ref_root_pos=ref.root_pos, ref_root_quat=ref.root_quat,
                  ref_dof_pos=ref.dof_pos, metadata=np.array(json.dumps({**meta, "obs_eps": policy.obs_eps,
                                                                         "num_layers": len(policy.weights)})))
    path = os.fspath(path)
    tmp = path + ".tmp.npz"
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _check(meta: dict, path: str) -> None:
    expected = core_metadata()
    if meta.get("format_version") != expected["format_version"]:
        raise BackflipError(f"Policy file {path} has format version {meta.get('format_version')}; this add-on reads "
                            f"version {expected['format_version']}. Use a policy exported for this version.")
    for key, value in expected.items():  # every promise of core_metadata(), so a new one is checked too
        if key != "format_version" and meta.get(key) != value:
            raise BackflipError(f"Policy file {path} was made for a different {key.replace('_', ' ')} "
                                f"({meta.get(key)!r}, expected {expected[key]!r}); re-export it with this version.")


def load_policy(path: str | os.PathLike[str]) -> PolicyFile:
    """Read a policy file and check that it was made for this core (raises BackflipError saying what differs)."""
    policy = read_policy_unchecked(path)
    _check(policy.metadata, os.fspath(path))
    return policy


def read_policy_unchecked(path: str | os.PathLike[str]) -> PolicyFile:
    """Read a policy file without checking it against the core: only for re-measuring an old file (policy.takes)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BackflipError(f"Policy file not found: {path}. Reinstall the add-on or pick another take.")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["metadata"]))
            n = int(meta["num_layers"])
            weights = [data[f"w{i}"].astype(np.float64) for i in range(n)]
            biases = [data[f"b{i}"].astype(np.float64) for i in range(n)]
            mean, std = data["obs_mean"].astype(np.float64), data["obs_std"].astype(np.float64)
            reference = Motion(dt=float(data["ref_dt"]), root_pos=data["ref_root_pos"],
                               root_quat=data["ref_root_quat"], dof_pos=data["ref_dof_pos"], loop="clamp",
                               name=str(meta.get("take", "reference")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as exc:
        raise BackflipError(f"Policy file {path} is damaged or not a blender-backflip policy ({type(exc).__name__}: "
                            f"{exc}). Reinstall the add-on or export the policy again.") from exc
    dims = [w.shape for w in weights]
    if mean.shape != (dims[0][1],) or any(dims[i][0] != dims[i + 1][1] for i in range(n - 1)):
        raise BackflipError(f"Policy file {path} has inconsistent layer sizes {dims}; export it again.")
    return PolicyFile(weights, biases, mean, std, float(meta["obs_eps"]), reference, meta)
