"""Ground contact from geometry: the lowest point of every geom, for many simulations at once.

MuJoCo's batch API exposes geom poses but not the contact list; the lowest point of each primitive is exact
for the character's spheres, capsules and boxes on a flat floor at z = 0.
"""

from __future__ import annotations

import mujoco
import numpy as np

from .character import Character

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

    def lowest(self, geom_xpos: np.ndarray, geom_xmat: np.ndarray) -> np.ndarray:
        """(B, n) height of the lowest point of each non-floor geom."""
        z = geom_xpos[:, self.geoms, 2]
        mat = geom_xmat[:, self.geoms].reshape(len(z), len(self.geoms), 3, 3)
        size = self._size
        # Vertical reach of a box: sum over local axes of |R[2, k]| * half size k; of a capsule: |R[2, 2]| * half length.
        box_reach = np.sum(np.abs(mat[:, :, 2, :]) * size[None], axis=-1)
        capsule_reach = np.abs(mat[:, :, 2, 2]) * size[None, :, 1] + size[None, :, 0]
        reach = np.where(self._box, box_reach, np.where(self._capsule, capsule_reach, size[None, :, 0]))
        return z - reach

    def non_foot_touch(self, lowest: np.ndarray) -> np.ndarray:
        return np.any(lowest[:, ~self.is_foot] < GROUND_TOUCH, axis=-1)

    def foot_penetration(self, lowest: np.ndarray) -> np.ndarray:
        """(B,) how far the deepest foot point is below the floor (m, >= 0)."""
        return np.maximum(-np.min(lowest[:, self.is_foot], axis=-1), 0.0)
