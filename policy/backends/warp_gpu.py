"""The GPU backend: MuJoCo Warp, with torch tensors that are zero-copy views of Warp's device arrays.

Every world has its own copy of the model fields a body variant changes (MuJoCo Warp's batched model fields,
read as `field[world % batch]`): body frames, masses and inertias, geom sizes and placements, floor friction,
actuator gains and torque limits, and the constants MuJoCo derives from them. The pool of variants is kept
on the device, (nvariant, ...) per field, and a reset copies a pool row into the world's row, on the device.
A variant that changes any other field is refused with the field's name.

Torch and Warp share the device memory and run in order without explicit synchronization: Warp's streams
are blocking, so they order with torch's legacy default stream. On CUDA the physics substeps of one control
step are captured once as a CUDA graph and replayed.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Sequence

import mujoco
import numpy as np
import torch
import warp as wp

# No banner or kernel-compile lines in the trainer's output (warnings still show).
if hasattr(wp, "LOG_WARNING"):
    wp.config.log_level = wp.LOG_WARNING
else:  # older Warp
    wp.config.quiet = True

import mujoco_warp as mjw  # noqa: E402
from mujoco_warp._src import types as mjw_types  # noqa: E402

from blender_backflip.core.errors import BackflipError  # noqa: E402
from blender_backflip.core.xp import torch_namespace  # noqa: E402

# Model fields that differ between body variants (policy/bodies.py: proportions, mass, friction). Each gets a
# per-world copy; all are batched ("*") fields in MuJoCo Warp, so geometry varies per world too.
VARIANT_FIELDS = (
    "qpos0", "qpos_spring",
    "body_pos", "body_quat", "body_ipos", "body_iquat", "body_mass", "body_subtreemass", "body_inertia",
    "body_invweight0",
    "jnt_pos", "dof_invweight0", "dof_armature", "dof_damping",
    "geom_size", "geom_pos", "geom_quat", "geom_aabb", "geom_rbound", "geom_friction",
    "actuator_gainprm", "actuator_biasprm", "actuator_forcerange", "actuator_ctrlrange", "actuator_acc0",
    "actuator_lengthrange",
)
# Fields that may differ between variants but that this model's physics never reads in MuJoCo Warp: light
# placement, the CPU bounding-volume tree, CPU-only constants, and dof_length (used only by sleeping, off here).
_IGNORED = {"light_poscom0", "light_pos0", "bvh_aabb", "dof_M0", "dof_length", "cam_poscom0", "cam_pos0"}


def _model_array_fields() -> list[str]:
    names = []
    for f in dataclasses.fields(mjw_types.Model):
        shape = getattr(f.type, "shape", None)
        if shape is not None and hasattr(mujoco.MjModel, f.name):
            names.append(f.name)
    return names


class WarpBackend:
    def __init__(self, model: mujoco.MjModel, num_envs: int, device: str = "cuda", nconmax: int = 48,
                 njmax: int | None = None):
        wp.init()
        self.xp = torch_namespace()
        self.torch_device = torch.device(device)
        if self.torch_device.type == "cuda" and self.torch_device.index is None:
            self.torch_device = torch.device("cuda", torch.cuda.current_device())
        self.device = str(self.torch_device)
        self.num_envs = num_envs
        self._model = model
        self._wp_device = wp.device_from_torch(self.torch_device)
        # Contacts: the feet (boxes, up to 4 each) and whatever else touches before the episode terminates.
        # Constraint rows: 4 per contact (pyramidal cone, condim 3) plus every joint limit.
        njmax = njmax or 4 * nconmax + int(model.jnt_limited.sum())
        with wp.ScopedDevice(self._wp_device):
            self.m = mjw.put_model(model, batch_sizes={f: num_envs for f in VARIANT_FIELDS})
            self.d = mjw.make_data(model, nworld=num_envs, nconmax=nconmax, njmax=njmax)
        t = wp.to_torch
        self.qpos, self.qvel, self.ctrl = t(self.d.qpos), t(self.d.qvel), t(self.d.ctrl)
        self.xfrc_applied = t(self.d.xfrc_applied)
        self.xpos, self.geom_xpos, self.subtree_com = t(self.d.xpos), t(self.d.geom_xpos), t(self.d.subtree_com)
        self.geom_xmat = t(self.d.geom_xmat).reshape(num_envs, model.ngeom, 9)  # a view, as the CPU batch's layout
        self._fields = {f: t(getattr(self.m, f)) for f in VARIANT_FIELDS}
        self._shared = [f for f in _model_array_fields() if f not in VARIANT_FIELDS and f not in _IGNORED]
        self._pool: dict[str, torch.Tensor] = {}
        self._checked: set[int] = set()
        self._mask = torch.zeros(num_envs, dtype=torch.bool, device=self.torch_device)
        self._mask_wp = wp.from_torch(self._mask, dtype=wp.bool)
        self._graphs: dict[int, Any] = {}
        self._use_graph = self._wp_device.is_cuda

    # -- bodies ----------------------------------------------------------------------------------------------
    def _check_shared(self, model: mujoco.MjModel) -> None:
        if id(model) in self._checked:
            return
        for name in self._shared:
            if not np.array_equal(getattr(model, name), getattr(self._model, name)):
                raise BackflipError(f"A body variant changes model field '{name}', which the warp backend shares "
                                    f"between worlds; add it to VARIANT_FIELDS in policy/backends/warp_gpu.py.")
        self._checked.add(id(model))

    def set_pool(self, models: Sequence[mujoco.MjModel]) -> None:
        for m in models:
            self._check_shared(m)
        self._checked &= {id(m) for m in models}
        for f, view in self._fields.items():
            host = np.stack([np.asarray(getattr(m, f)) for m in models])
            self._pool[f] = torch.as_tensor(host, device=self.torch_device).to(view.dtype).reshape(
                (len(models),) + tuple(view.shape[1:]))

    def set_variants(self, ids: torch.Tensor, variant_ids: torch.Tensor) -> None:
        for f, view in self._fields.items():
            view[ids] = self._pool[f][variant_ids]

    # -- state -----------------------------------------------------------------------------------------------
    def reset(self, ids: torch.Tensor, qpos: torch.Tensor, qvel: torch.Tensor) -> None:
        self._mask.zero_()
        self._mask[ids] = True
        with wp.ScopedDevice(self._wp_device):
            mjw.reset_data(self.m, self.d, reset=self._mask_wp)
            self.qpos[ids] = qpos.to(self.qpos.dtype)
            self.qvel[ids] = qvel.to(self.qvel.dtype)
            self._positions()

    def _positions(self) -> None:
        """Body and geom poses and centres of mass at the current qpos (all worlds: a function of qpos alone)."""
        mjw.kinematics(self.m, self.d)
        mjw.com_pos(self.m, self.d)

    def _advance(self, nstep: int) -> None:
        for _ in range(nstep):
            mjw.step(self.m, self.d)
        self._positions()

    def step(self, nstep: int) -> None:
        with wp.ScopedDevice(self._wp_device):
            if not self._use_graph:
                self._advance(nstep)
                return
            graph = self._graphs.get(nstep)
            if graph is None:
                try:
                    with wp.ScopedCapture() as capture:
                        self._advance(nstep)
                    graph = self._graphs[nstep] = capture.graph
                except Exception as exc:  # graph capture needs a recent driver; stepping works without it
                    warnings.warn(f"CUDA graph capture of the physics step failed ({exc}); stepping uncaptured.",
                                  stacklevel=2)
                    self._use_graph = False
                    self._advance(nstep)
                    return
            wp.capture_launch(graph)

    def synchronize(self) -> None:
        wp.synchronize_device(self._wp_device)
