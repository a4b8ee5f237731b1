"""Soundfont resolution and FluidSynth rendering."""

from __future__ import annotations

import numpy as np
import pytest

from vemidi.errors import VemidiError
from vemidi.music import tokenizer as tk
from vemidi.music.midi import to_pretty_midi
from vemidi.synth import (
    available_soundfonts,
    fade_gain,
    render,
    resolve_soundfont,
)


def _midi(duration_s: float = 3.0):
    notes = [tk.Note(tk.Instrument.PIANO, p, 0.2, 2.0) for p in (60, 64, 67)]
    return to_pretty_midi(tk.decode(tk.encode(notes), end_s=duration_s))


def test_a_general_midi_soundfont_is_found():
    fonts = available_soundfonts()
    assert fonts, "no soundfont: packages.txt installs fluid-soundfont-gm"
    assert resolve_soundfont() == fonts[0]


def test_missing_soundfont_is_a_clear_error(tmp_path):
    with pytest.raises(VemidiError, match="soundfont"):
        resolve_soundfont(tmp_path / "none.sf2")


def test_render_is_audible_and_exact_length():
    audio = render(_midi(3.0), 3.0)
    assert audio.shape == (3 * 44100, 2)
    rms_note = np.sqrt(np.mean(audio[44100 : 2 * 44100].astype(float) ** 2))
    rms_tail = np.sqrt(np.mean(audio[-4410:].astype(float) ** 2))
    assert rms_note > 10 * max(rms_tail, 1e-9)


def test_fade_gain_ends_silent_and_leaves_the_rest():
    gain = fade_gain(44100, 0.5)
    assert gain[0] == 1.0 and gain[22049] == 1.0 and gain[-1] == pytest.approx(0.0, abs=1e-4)
    assert np.all(np.diff(gain[22050:]) <= 0)
    assert np.all(fade_gain(1000, 3.0) == 1.0)  # shorter than the fade: untouched
