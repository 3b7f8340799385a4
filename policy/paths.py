"""Default locations of the reference clip (kept outside the repository) and of training runs."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = Path(os.environ.get("BACKFLIP_CLIP", REPO.parent / "shared" / "motions" / "humanoid3d_backflip.txt"))
