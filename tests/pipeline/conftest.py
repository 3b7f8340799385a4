"""Fixtures of the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.helpers import make_shot


@pytest.fixture(scope="session")
def shot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small shot shared by the tests that only read it (never written to)."""
    return make_shot(tmp_path_factory.mktemp("shot") / "shot.blend")
