"""Shared fixtures: the seeded debug model and a scratch directory per test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def debug_model():
    """The tiny seeded random-weight model (real code path, no training)."""
    from vemidi.weights import load_music_model

    return load_music_model("debug").model


@pytest.fixture(scope="session")
def story(tmp_path_factory):
    """6 s: the astronaut photo for 3 s, a hard cut, a text card for 3 s; espeak speech."""
    from media_factory import story_video

    return story_video(tmp_path_factory.mktemp("story"))
