"""Unusual media the tests generate: stills, tiny frames, late timestamps, truncated files.

Each either gets the right length and times, or one sentence that names the file and the limit.
"""

from __future__ import annotations

import numpy as np
import pytest
from media_factory import cards, run_ffmpeg, tone, write_video

from vemidi.errors import MediaError
from vemidi.media.frames import decode_audio, sample_frames
from vemidi.media.probe import probe

RED, BLUE = (200, 30, 30), (20, 40, 200)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """8 s: red then blue at 4 s, with a tone."""
    path = tmp_path_factory.mktemp("edges") / "clip.mp4"
    return write_video(path, cards([RED, BLUE], 4.0), audio=tone(8.0))


def test_stream_starting_late_counts_from_its_first_frame(clip, tmp_path):
    late = tmp_path / "late.mkv"
    run_ffmpeg("-i", str(clip), "-c", "copy", "-output_ts_offset", "30", str(late))
    info = probe(late)
    assert info.start_s == pytest.approx(30.0, abs=0.1)
    assert info.duration_s == pytest.approx(8.0, abs=0.1)  # not 38 s
    frames = sample_frames(late, rate_hz=1.0)
    assert frames[0].time_s == pytest.approx(0.0, abs=0.05) and frames[-1].time_s < 8.0
    audio = decode_audio(late, 16000, info.start_s)
    assert len(audio) == pytest.approx(8 * 16000, rel=0.02)
    assert np.abs(audio[:1600]).max() > 0.1  # the tone from the first frame on, not silence


def test_truncated_file_lasts_as_long_as_what_decodes(clip, tmp_path):
    whole = tmp_path / "front.mp4"
    run_ffmpeg("-i", str(clip), "-c", "copy", "-movflags", "+faststart", str(whole))
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the index at the front still says 8 s
    info = probe(cut)
    assert 1.0 < info.duration_s < 6.5


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_still_images_are_refused(tmp_path, suffix):
    from PIL import Image

    path = tmp_path / f"photo{suffix}"
    Image.new("RGB", (320, 200), RED).save(path)
    with pytest.raises(MediaError, match=rf"photo\{suffix} is a still image, not a video"):
        probe(path)


def test_tiny_frames_and_blips_are_refused_with_the_limit(tmp_path):
    tiny = write_video(tmp_path / "tiny.mp4", cards([RED], 2.0, size=(34, 18)))
    with pytest.raises(MediaError, match=r"34x18 frames; the smallest supported is 48x48"):
        probe(tiny)
    blip = write_video(tmp_path / "blip.mp4", cards([RED], 0.4))
    with pytest.raises(MediaError, match=r"plays 0\.40 s; the shortest supported is 1 s"):
        probe(blip)


def _shot(colour, frames: int, seed: int) -> list[np.ndarray]:
    """A textured shot (flat colour plus fixed noise) of ``frames`` frames, 160x96."""
    noise = np.random.default_rng(seed).integers(-30, 30, (96, 160, 1))
    picture = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
    return [picture] * frames


@pytest.mark.parametrize("strobe_from", [127, 2])  # after the cut only, or all through
def test_strobes_and_flashes_are_not_cuts(tmp_path, strobe_from):
    """A red flash every 4th frame (6.25 a second at 25 fps) with a hard cut at 5.0 s: the one
    cut is found on its frame; a single white flash in a still shot is no cut."""
    from vemidi.media.cuts import detect_cuts

    frames = _shot((60, 70, 160), 125, 1) + _shot((40, 160, 60), 125, 2)
    for i in range(strobe_from, 250, 4):
        frames[i] = np.full_like(frames[i], (230, 20, 20))
    strobe = write_video(tmp_path / "strobe.mp4", frames)
    assert detect_cuts(strobe, 10.0).detected_s == pytest.approx((5.0,), abs=0.041)
    still = _shot((90, 90, 90), 150, 3)
    still[70] = np.full_like(still[70], 255)
    flash = write_video(tmp_path / "flash.mp4", still)
    assert detect_cuts(flash, 6.0).detected_s == ()


def test_mpeg4_avi_keeps_every_cut_before_and_after_reencoding(tmp_path):
    """An MPEG-4 Part 2 AVI (re-encoded to H.264 when muxed): cuts at 4, 8 and 12 s are found
    in the source and again in the scored MP4."""
    from vemidi.media.cuts import detect_cuts
    from vemidi.media.mux import mux

    colours = [RED, (30, 180, 60), BLUE, (128, 128, 128)]
    avi = write_video(tmp_path / "four.avi", cards(colours, 4.0, size=(320, 180)),
                      audio=tone(16.0), video_codec="mpeg4", audio_codec="mp3")  # fmt: skip
    assert detect_cuts(avi, 16.0, min_gap_s=0.0).detected_s == pytest.approx((4, 8, 12), abs=0.05)
    scored = mux(avi, np.zeros((16 * 44100, 2), np.float32), tmp_path / "scored.mp4")
    found = detect_cuts(scored, probe(scored).duration_s, min_gap_s=0.0).detected_s
    assert found == pytest.approx((4, 8, 12), abs=0.05)
