"""Soundfont resolution and FluidSynth rendering."""

from __future__ import annotations

import numpy as np
import pytest

from vemidi.errors import VemidiError
from vemidi.music import tokenizer as tk
from vemidi.music.midi import to_pretty_midi
from vemidi.synth import (
    available_soundfonts,
    fade_out,
    loudness_normalise,
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


def test_normalise_and_fade():
    audio = np.full((44100, 2), 0.1, dtype=np.float32)
    loud = loudness_normalise(audio, target_rms_db=-18.0)
    assert np.sqrt(np.mean(loud**2)) == pytest.approx(10 ** (-18 / 20), rel=1e-3)
    spike = np.zeros((44100, 2), dtype=np.float32)
    spike[100] = 0.5  # one click: the peak ceiling, not the RMS target, sets the gain
    assert np.max(np.abs(loudness_normalise(spike, peak_db=-1.0))) == pytest.approx(
        10 ** (-1 / 20), rel=1e-3
    )
    faded = fade_out(loud, 0.5)
    assert faded[-1, 0] == pytest.approx(0.0, abs=1e-3) and faded[0, 0] == loud[0, 0]
