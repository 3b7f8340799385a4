"""The Blender layer type-checks against fake-bpy-module-5.0 (in its own venv: the stubs cannot sit beside bpy)."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_operators_and_panels_type_check_against_the_bpy_stubs():
    result = subprocess.run(["bash", str(REPO / ".ci" / "typecheck")], cwd=REPO, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success" in result.stdout
