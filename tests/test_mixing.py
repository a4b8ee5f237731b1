"""Dialogue-aware mixing and stems, on real renders: espeak-ng speech in a video, our music
over it, and what comes out of the MP4 and the ZIP."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from media_factory import cards, decode_stereo, read_wav, speak, write_video

from vemidi.audio.mixing import DUCK_DB, duck_gain, mix
from vemidi.media.frames import decode_audio
from vemidi.pipeline import Controls, Pipeline

RATE = 44100
SPEECH_S = (4.0, 8.6)  # where espeak speaks in the clip below


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """12 s, two colour cards; a voice from 4 s to about 8.6 s, silence around it."""
    folder = tmp_path_factory.mktemp("talk")
    speech = speak("Hello there. Today we walk along the river and talk about the weather.",
                   12.0, at_s=4.0, words_per_min=150)  # fmt: skip
    picture = cards([(200, 40, 40), (40, 40, 200)], 6.0)
    return write_video(folder / "talk.mp4", picture, audio=speech)


@pytest.fixture(scope="module")
def scored(talk, tmp_path_factory):
    """The clip scored in ``mix`` mode, stems asked for."""
    pipeline = Pipeline()
    controls = Controls(audio_mode="mix", valence=0.5, arousal=0.5, seed=1)
    out = tmp_path_factory.mktemp("scored")
    return pipeline.soundtrack(talk, pipeline.analyze(talk), controls, out, stems=True)


def levels(mixed: np.ndarray, music: np.ndarray, voice: np.ndarray, window_s) -> np.ndarray:
    """Least-squares gains of music and voice in ``mixed`` over a window (robust to the AAC
    coding noise that a plain subtraction would measure)."""
    i, j = round(window_s[0] * RATE), round(window_s[1] * RATE)
    design = np.stack([music[i:j], voice[i:j]], axis=1)
    gains, *_ = np.linalg.lstsq(design, mixed[i:j], rcond=None)
    return gains


def test_duck_gain_falls_before_speech_and_returns_after():
    gain = duck_gain(10 * RATE, RATE, [(3.0, 4.0), (4.3, 6.0)], duck_db=12.0)
    low = 10 ** (-12 / 20)
    assert gain[: int(2.7 * RATE)].min() == 1.0  # untouched well before
    assert gain[int(3.0 * RATE)] == pytest.approx(low, abs=1e-3)  # down when speech starts
    assert gain[int(4.15 * RATE)] == pytest.approx(low, abs=1e-3)  # a short pause is bridged
    assert gain[int(6.9 * RATE) :].min() == 1.0  # back after the release
    steps = np.abs(np.diff(gain))
    assert steps.max() < 2e-4  # smooth (a switch would step by 0.75): no audible click
    assert np.all(duck_gain(RATE, RATE, [], 12.0) == 1.0)


def test_music_ducks_under_speech_and_the_dialogue_keeps_its_level(talk, scored):
    audio = scored.record["audio"]
    assert audio["mode"] == "mix" and audio["duck_db"] == DUCK_DB
    spans = audio["speech_s"]
    assert spans and spans[0][0] == pytest.approx(SPEECH_S[0], abs=0.3)
    assert spans[-1][1] == pytest.approx(SPEECH_S[1], abs=0.4)
    mixed = decode_stereo(scored.video_path).mean(axis=1)
    music = read_wav(scored.wav_path).mean(axis=1)
    voice = decode_audio(talk, RATE)
    n = min(len(mixed), len(music), len(voice))
    mixed, music, voice = mixed[:n], music[:n], voice[:n]
    before = levels(mixed, music, voice, (1.0, 3.0))
    during = levels(mixed, music, voice, (5.5, 8.0))
    after = levels(mixed, music, voice, (10.0, 11.5))
    ducked = 10 ** (-DUCK_DB / 20)
    assert before[0] == pytest.approx(1.0, abs=0.1) and after[0] == pytest.approx(1.0, abs=0.1)
    assert during[0] == pytest.approx(ducked, abs=0.06)  # the music falls by 12 dB ...
    assert during[1] == pytest.approx(1.0, abs=0.1)  # ... and the voice stays where it was


def test_under_mode_keeps_the_old_bed(talk):
    music = np.full((2 * RATE, 2), 0.1, np.float32)
    original = decode_audio(talk, RATE)[4 * RATE : 6 * RATE]
    track = mix(music, original, RATE, "under")
    assert track.speech_s == () and track.music_gain is None
    np.testing.assert_allclose(track.audio[:, 0] - 0.1, original * 10 ** (-12 / 20), atol=1e-4)
    assert mix(music, None, RATE, "mix").mode == "replace"  # no sound of its own: music alone


def test_stems_add_up_to_the_mix_and_ship_in_one_zip(scored):
    with zipfile.ZipFile(scored.stems_path) as archive:
        names = archive.namelist()
        stems = {n: read_wav(io.BytesIO(archive.read(n))) for n in names if n.startswith("stems/")}
        mixed = read_wav(io.BytesIO(archive.read(scored.wav_path.name)))
    expected = {scored.midi_path.name, scored.wav_path.name, scored.video_path.name,
                scored.json_path.name}  # fmt: skip
    assert expected <= set(names)
    assert any("bass" in n for n in stems) and any("drums" in n for n in stems)  # arousal > 0
    total = sum(stems.values())
    residual = np.sqrt(np.mean((total - mixed) ** 2)) / np.sqrt(np.mean(mixed**2))
    assert residual < 0.02  # 16-bit rounding of each stem, nothing more
    assert all(np.abs(s).max() > 0.01 for s in stems.values())  # each stem is audible


def test_cli_writes_the_stems_folder(talk, tmp_path):
    out = tmp_path / "stems"
    cmd = [sys.executable, "-m", "vemidi", "soundtrack", str(talk), "-o", str(tmp_path / "o.mp4"),
           "--audio-mode", "mix", "--duck", "9", "--loudness", "-23",
           "--stems", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (out / "o.mp4").exists() is False  # the bundle keeps vemidi's own names
    wavs = sorted(p.name for p in (out / "stems").iterdir())
    assert wavs and all(w.endswith(".wav") for w in wavs)
    assert {p.suffix for p in out.iterdir() if p.is_file()} == {".mid", ".wav", ".mp4", ".json"}
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "not empty" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
