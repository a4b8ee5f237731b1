"""Loudness in LUFS with a true-peak ceiling, on real renders: the WAV we write and the audio
track of the MP4 we mux, measured with pyloudnorm's own meter and an independent 4x
oversampler (scipy's polyphase resampler), not with the code under test."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from media_factory import cards, decode_stereo, read_wav, tone, write_video
from scipy.signal import resample_poly

from vemidi.audio import loudness
from vemidi.music.compose import ComposeRequest, compose
from vemidi.pipeline import Controls, Pipeline
from vemidi.synth import render, render_soundtrack, write_wav

RATE = 44100
TARGETS = (-16.0, -23.0, -14.0)


def measured(audio: np.ndarray) -> tuple[float, float]:
    """(integrated LUFS by pyloudnorm's meter, true peak in dBTP by scipy's 4x resampler)."""
    lufs = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
    peak = np.abs(resample_poly(audio.astype(np.float64), 4, 1, axis=0)).max()
    return float(lufs), float(20 * np.log10(peak))


@pytest.fixture(scope="module")
def piece():
    """A real 12 s piece of the shipped model with drums (wide dynamics: hard for -14)."""
    request = ComposeRequest.constant(12.0, 0.5, 0.8, cuts_s=(6.0,))
    return compose(request)


def test_our_meter_agrees_with_pyloudnorm(piece):
    raw = render(piece.midi, 12.0)
    quiet_start = np.concatenate([raw[: 3 * RATE] * 0.01, raw])  # the gates must drop it
    for audio in (raw, quiet_start, raw[:, :1].copy()):
        assert loudness.integrated_loudness(audio, RATE) == pytest.approx(
            pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64)), abs=0.01
        )
    assert loudness.integrated_loudness(np.zeros((RATE, 2)), RATE) == float("-inf")


def test_true_peak_sees_between_the_samples():
    # A sine at a quarter of the sample rate sampled 45 degrees off its crests: every sample
    # is at -3 dB, the wave itself reaches 0 dBTP.
    t = np.arange(RATE) / RATE
    wave = np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4)
    assert 20 * np.log10(np.abs(wave).max()) == pytest.approx(-3.01, abs=0.01)
    assert loudness.true_peak_dbtp(wave) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("target", TARGETS)
def test_rendered_wav_meets_the_target(piece, target, tmp_path):
    write_wav(tmp_path / "music.wav", render_soundtrack(piece.midi, 12.0, None, target))
    lufs, peak = measured(read_wav(tmp_path / "music.wav"))
    assert lufs == pytest.approx(target, abs=0.5)
    assert peak < -1.0


def test_limiter_holds_the_ceiling_on_spiky_audio():
    rng = np.random.default_rng(0)
    audio = (0.01 * rng.standard_normal((10 * RATE, 2))).astype(np.float32)
    audio[::RATE] = 0.9  # a click every second: 30 dB over the rest
    out = loudness.normalise(audio, RATE, -14.0)
    lufs, peak = measured(out.audio)
    assert lufs == pytest.approx(-14.0, abs=0.5) and peak < -1.0
    assert out.gain.max() / out.gain.min() > 10  # the clicks were held down, not the whole


def test_muxed_mp4_meets_each_target(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", cards([(200, 40, 40), (40, 40, 200)], 4.0),
                       audio=tone(8.0, 500.0))  # fmt: skip
    pipeline = Pipeline()
    analysis = pipeline.analyze(clip)
    for target in TARGETS:
        controls = Controls(valence=0.6, arousal=0.8, seed=2, loudness_lufs=target)
        result = pipeline.soundtrack(clip, analysis, controls, tmp_path / str(target))
        lufs, peak = measured(decode_stereo(result.video_path))
        assert lufs == pytest.approx(target, abs=0.5), target
        assert peak < -1.0, target
        audio = result.record["audio"]
        assert audio["loudness_lufs"] == pytest.approx(target, abs=0.1)
        assert audio["true_peak_dbtp"] < -1.0


def test_targets_outside_the_range_are_refused():
    from vemidi.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="loudness"):
        Controls(loudness_lufs=0.0)
    with pytest.raises(InvalidInputError, match="loudness"):
        loudness.normalise(np.zeros((RATE, 2), np.float32), RATE, -70.0)
