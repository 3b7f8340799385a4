"""`python -m blender_backflip demo --out out/` and `python -m blender_backflip flip shot.blend ...` (see cli.py)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
