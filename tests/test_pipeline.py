"""The one-call pipeline end to end on generated videos: MP4, WAV, MIDI and JSON that agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pretty_midi
import pytest
from media_factory import cards, tone, write_video

from vemidi.errors import VemidiError
from vemidi.media.frames import decode_audio
from vemidi.pipeline import Controls, Pipeline, emotion_segments


def streams(path):
    """(type, codec, duration_s, frames) of every stream in a media file."""
    import av

    with av.open(str(path)) as container:
        return [
            (s.type, s.codec_context.name, float(s.duration * s.time_base), s.frames)
            for s in container.streams
        ]


def band_level(audio: np.ndarray, freq_hz: float, rate_hz: int) -> float:
    """Magnitude of one frequency in a mono signal (normalised by length)."""
    spectrum = np.abs(np.fft.rfft(audio))
    k = round(freq_hz * len(audio) / rate_hz)
    return float(spectrum[k - 2 : k + 3].max() / len(audio))


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """8 s of colour cards with hard cuts every 2 s and a 1 kHz tone as its own audio."""
    folder = tmp_path_factory.mktemp("clip")
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 220, 40)]
    return write_video(folder / "clip.mp4", cards(colours, 2.0), audio=tone(8.0, 1000.0))


def test_soundtrack_end_to_end(pipeline, clip, tmp_path):
    analysis = pipeline.analyze(clip)
    controls = Controls(cuts_s=(2.0, 6.0), seed=3)
    result = pipeline.soundtrack(clip, analysis, controls, tmp_path)
    info = streams(result.video_path)
    video = [s for s in info if s[0] == "video"]
    audio = [s for s in info if s[0] == "audio"]
    source = [s for s in streams(clip) if s[0] == "video"]
    assert video[0][1] == source[0][1] == "h264" and video[0][3] == source[0][3]  # copied
    assert len(audio) == 1 and audio[0][1] == "aac"
    assert audio[0][2] == pytest.approx(analysis.duration_s, abs=0.05)
    sound = decode_audio(result.video_path, 44100)
    assert np.sqrt(np.mean(sound[: 5 * 44100] ** 2)) > 0.01  # audible music
    assert band_level(sound, 1000.0, 44100) < 1e-3  # replace: the original tone is gone
    # The MIDI, the WAV and the JSON describe the same piece.
    midi = pretty_midi.PrettyMIDI(str(result.midi_path))
    record = json.loads(result.json_path.read_text())
    piece = record["composition"]
    assert sum(len(i.notes) for i in midi.instruments) == piece["n_notes"] > 0
    assert piece["cuts_requested_s"] == [2.0, 6.0] == record["controls"]["cuts_s"]
    assert piece["duration_s"] == pytest.approx(analysis.duration_s, abs=1e-3)
    assert max(n.end for i in midi.instruments for n in i.notes) <= analysis.duration_s + 0.01
    assert record["analysis"]["cuts_s"] == list(analysis.cuts_s)
    wav = decode_audio(result.wav_path, 44100)
    assert len(wav) == pytest.approx(analysis.duration_s * 44100, abs=2)
    assert result.pianoroll_path.stat().st_size > 1000


def test_mix_and_keep_modes(pipeline, clip, tmp_path):
    analysis = pipeline.analyze(clip)
    mixed = pipeline.soundtrack(clip, analysis, Controls(audio_mode="mix"), tmp_path / "mix")
    assert band_level(decode_audio(mixed.video_path, 44100), 1000.0, 44100) > 0.01
    kept = pipeline.soundtrack(clip, analysis, Controls(audio_mode="keep"), tmp_path / "keep")
    audio = [s for s in streams(kept.video_path) if s[0] == "audio"]
    assert len(audio) == 2 and all(s[2] == pytest.approx(8.0, abs=0.05) for s in audio)


def test_analysis_is_cached_by_content(pipeline, clip, tmp_path):
    first = pipeline.analyze(clip)
    copy = tmp_path / "renamed.mp4"
    shutil.copyfile(clip, copy)
    assert pipeline.analyze(copy) is first


def test_per_scene_segments_follow_the_override(pipeline, story):
    analysis = pipeline.analyze(story)
    assert len(analysis.segments) == 2
    same = emotion_segments(analysis, Controls(per_scene=True))
    assert [s.valence for s in same] == pytest.approx([s.valence for s in analysis.segments])
    shifted = emotion_segments(analysis, Controls(per_scene=True, arousal=-0.9))
    assert all(s.arousal <= a.arousal for s, a in zip(shifted, analysis.segments, strict=True))
    one = emotion_segments(analysis, Controls(valence=-0.5, arousal=0.2))
    assert [(s.valence, s.arousal) for s in one] == [(-0.5, 0.2)]


@pytest.mark.parametrize(
    "kwargs",
    [{"valence": 2.0}, {"audio_mode": "louder"}, {"temperature": -1.0}, {"min_cut_gap_s": -1}],
)
def test_bad_controls_are_clear(kwargs):
    with pytest.raises(VemidiError):
        Controls(**kwargs)


def test_cut_outside_the_video_leaves_nothing(pipeline, clip, tmp_path, own_temp_dir):
    analysis = pipeline.analyze(clip)
    out = tmp_path / "out"
    out.mkdir()
    before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(VemidiError, match="outside"):
        pipeline.soundtrack(clip, analysis, Controls(cuts_s=(3.0, 30.0)), out)
    assert list(out.iterdir()) == []
    after = set(os.listdir(tempfile.gettempdir()))
    assert not {p for p in after - before if p.startswith("vemidi-")}


def run(*args):
    return subprocess.run([sys.executable, "-m", "vemidi", *args], capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def test_cli_soundtrack(clip, tmp_path):
    out, mid, js = tmp_path / "out.mp4", tmp_path / "out.mid", tmp_path / "out.json"
    result = run("soundtrack", str(clip), "-o", str(out), "--midi", str(mid), "--json", str(js),
                 "--valence", "-0.6", "--arousal", "0.3", "--cuts", "4", "--seed", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and out.is_file() and mid.is_file()
    record = json.loads(js.read_text())
    assert record["composition"]["segments"][0]["valence"] == -0.6
    assert record["composition"]["cuts_requested_s"] == [4.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.mid", "out.mp4"]


@pytest.mark.parametrize(
    "args",
    [
        ["--audio-mode", "mix", "-o", "x.avi"],
        ["--cuts", "3,abc", "-o", "x.mp4"],
        ["--cuts", "30", "-o", "x.mp4"],  # the clip is 8 s: refused before the analysis
        ["--valence", "5", "-o", "x.mp4"],
        ["--soundfont", "missing.sf2", "-o", "x.mp4"],
        ["--model", "nope", "-o", "x.mp4"],
    ],
)
def test_cli_soundtrack_bad_input(clip, tmp_path, args):
    result = run("soundtrack", str(clip), *[a.replace("x.", str(tmp_path / "x.")) for a in args])
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_warm_up_loads_every_embedded_model():
    from vemidi import weights

    Pipeline().warm_up()
    loaders = (weights.load_music_model, weights.load_face_models, weights.load_ocr,
               weights.load_sentence_encoder, weights.load_whisper)  # fmt: skip
    assert all(loader.cache_info().currsize >= 1 for loader in loaders)
