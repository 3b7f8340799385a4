"""Ground contact from geometry: the lowest point of every geom, for many simulations at once.

MuJoCo's batch API exposes geom poses but not the contact list; the lowest point of each primitive is exact
for the character's spheres, capsules and boxes on a flat floor at z = 0. The poses may be numpy arrays (CPU)
or torch tensors (MuJoCo Warp on the GPU): the probe keeps a copy of its constants on each device it meets.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .character import Character
from .xp import namespace

GROUND_TOUCH = 0.005  # a geom whose lowest point is below this height (m) touches the floor


class GroundProbe:
    """Lowest points of a character's geoms from geom_xpos (B, ngeom, 3) and geom_xmat (B, ngeom, 9)."""

    def __init__(self, character: Character):
        model = character.model
        geoms = [g for g in range(model.ngeom) if g != character.floor_geom]
        self.geoms = np.array(geoms, dtype=np.int64)
        kinds = model.geom_type[self.geoms]
        self._sphere = kinds == mujoco.mjtGeom.mjGEOM_SPHERE
        self._capsule = kinds == mujoco.mjtGeom.mjGEOM_CAPSULE
        self._box = kinds == mujoco.mjtGeom.mjGEOM_BOX
        self._size = model.geom_size[self.geoms].copy()
        self.is_foot = np.isin(self.geoms, character.foot_geoms)
        self._numpy = (self.geoms, self._size, self._box, self._capsule, self.is_foot, ~self.is_foot)
        self._on_device: dict[tuple, tuple] = {}

    def _constants(self, like) -> tuple:
        """(geoms, size, box, capsule, foot, non_foot) as arrays of `like`'s kind, device and float dtype."""
        xp = namespace(like)
        if xp.name == "numpy":
            return self._numpy
        key = (str(like.device), like.dtype)
        if key not in self._on_device:
            self._on_device[key] = tuple(xp.asarray(a, like=like) for a in self._numpy)
        return self._on_device[key]

    def lowest(self, geom_xpos: np.ndarray, geom_xmat: np.ndarray) -> np.ndarray:
        """(B, n) height of the lowest point of each non-floor geom; geom_xmat is (B, ngeom, 9) or (B, ngeom, 3, 3)."""
        xp = namespace(geom_xpos)
        geoms, size, box, capsule, _, _ = self._constants(geom_xpos)
        z = geom_xpos[:, geoms, 2]
        mat = xp.reshape(geom_xmat[:, geoms], (z.shape[0], len(self.geoms), 3, 3))
        # Vertical reach of a box: sum over local axes of |R[2, k]| * half size k; of a capsule: |R[2, 2]| * half length.
        box_reach = xp.sum(xp.abs(mat[:, :, 2, :]) * size[None], axis=-1)
        capsule_reach = xp.abs(mat[:, :, 2, 2]) * size[None, :, 1] + size[None, :, 0]
        reach = xp.where(box, box_reach, xp.where(capsule, capsule_reach, size[None, :, 0]))
        return z - reach

    def lowest_in(self, data: mujoco.MjData) -> np.ndarray:
        """(1, n) lowest points for one simulation's MjData (after its kinematics)."""
        return self.lowest(data.geom_xpos[None], data.geom_xmat.reshape(1, -1, 9))

    def non_foot_touch(self, lowest: np.ndarray) -> np.ndarray:
        non_foot = self._constants(lowest)[5]
        return namespace(lowest).any(lowest[:, non_foot] < GROUND_TOUCH, axis=-1)

    def lift_clear(self, lowest: np.ndarray) -> np.ndarray:
        """(B,) how far to raise a body so that no geom is below the floor (m, >= 0)."""
        xp = namespace(lowest)
        return xp.maximum(-xp.min(lowest, axis=-1), 0.0)

    def foot_penetration(self, lowest: np.ndarray) -> np.ndarray:
        """(B,) how far the deepest foot point is below the floor (m, >= 0)."""
        xp = namespace(lowest)
        foot = self._constants(lowest)[4]
        return xp.maximum(-xp.min(lowest[:, foot], axis=-1), 0.0)
