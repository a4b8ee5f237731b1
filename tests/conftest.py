"""Shared fixtures: the seeded debug model, a story video and a temporary folder per test."""

from __future__ import annotations

import tempfile

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


@pytest.fixture
def own_temp_dir(tmp_path, monkeypatch):
    """The temporary folder (Python's and child processes') of this test alone.

    ``make test`` runs tests in two processes at once, so a check that nothing is left in the
    system's temporary folder would see the other process's work in progress.
    """
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
