"""Shared fixtures: the seeded debug model and a scratch directory per test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def debug_model():
    """The tiny seeded random-weight model (real code path, no training)."""
    from vemidi.weights import load_music_model

    return load_music_model("debug").model
