"""Probing, frame sampling, audio decoding and scene cuts on videos the tests generate."""

from __future__ import annotations

import numpy as np
import pytest
from media_factory import FPS, cards, fade, tone, write_video

from vemidi.errors import MediaError
from vemidi.media.cuts import detect_cuts, segments_between
from vemidi.media.frames import decode_audio, sample_frames
from vemidi.media.mux import mux
from vemidi.media.probe import probe

RED, GREEN, BLUE, GREY = (200, 30, 30), (30, 180, 60), (20, 40, 200), (128, 128, 128)


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    """Four 5 s cards: hard cuts at 5, 10 and 15 s, with a tone."""
    path = tmp_path_factory.mktemp("v") / "cuts.mp4"
    return write_video(path, cards([RED, GREEN, BLUE, GREY], 5.0), audio=tone(20.0))


def test_probe(cut_video):
    info = probe(cut_video)
    assert info.duration_s == pytest.approx(20.0, abs=0.1)
    assert info.fps == pytest.approx(FPS)
    assert (info.width_px, info.height_px) == (160, 96)
    assert info.has_audio and info.rotation_deg == 0


def test_frames_are_sampled_and_downscaled(cut_video):
    frames = sample_frames(cut_video, rate_hz=1.0, max_side_px=80)
    assert len(frames) == 20
    assert frames[0].rgb.shape == (48, 80, 3)
    assert frames[7].time_s == pytest.approx(7.0, abs=0.05)
    assert frames[7].rgb[40, 70, 1] > 150  # the green card


def test_audio_is_mono_16k(cut_video):
    audio = decode_audio(cut_video)
    assert audio.ndim == 1 and len(audio) == pytest.approx(20 * 16000, rel=0.01)
    assert 0.3 < abs(audio).max() <= 1.0


def test_hard_cuts_found_within_one_frame(cut_video):
    cuts = detect_cuts(cut_video, 20.0)
    assert len(cuts.cuts_s) == 3
    for found, want in zip(cuts.cuts_s, (5.0, 10.0, 15.0), strict=True):
        assert abs(found - want) <= 1.0 / FPS + 1e-6
    assert cuts.segments[0] == (0.0, cuts.cuts_s[0]) and cuts.segments[-1][1] == 20.0


def test_cuts_are_thinned(tmp_path):
    path = write_video(tmp_path / "fast.mp4", cards([RED, GREEN, BLUE, GREY, RED, BLUE], 2.0))
    cuts = detect_cuts(path, 12.0, min_gap_s=4.0)
    assert len(cuts.detected_s) == 5
    assert list(cuts.cuts_s) == pytest.approx([2.0, 6.0, 10.0], abs=0.05)


def test_slow_fade_and_static_video_have_no_cuts(tmp_path):
    faded = write_video(tmp_path / "fade.mp4", fade(8.0))
    assert detect_cuts(faded, 8.0).cuts_s == ()
    static = write_video(tmp_path / "static.mp4", cards([GREY], 6.0))
    cuts = detect_cuts(static, 6.0)
    assert cuts.cuts_s == () and cuts.segments == ((0.0, 6.0),)
    assert decode_audio(static).size == 0  # no audio track: empty, not an error
    assert not probe(static).has_audio


def test_rotation_is_reported_and_applied(tmp_path):
    path = write_video(tmp_path / "rot.mp4", cards([RED], 1.0), rotation_deg=90)
    info = probe(path)
    assert info.rotation_deg in (90, 270)
    frame = sample_frames(path, rate_hz=1.0)[0]
    assert frame.rgb.shape[0] > frame.rgb.shape[1]  # displayed upright: portrait


def test_segments_between():
    assert segments_between([3.0, 7.0], 10.0) == [(0.0, 3.0), (3.0, 7.0), (7.0, 10.0)]
    assert segments_between([], 4.0) == [(0.0, 4.0)]


@pytest.mark.parametrize("content", [b"", b"this is not a video at all", None])
def test_bad_files_are_clear_errors(tmp_path, cut_video, content):
    path = tmp_path / "bad.mp4"
    if content is None:  # a truncated real video
        path.write_bytes(cut_video.read_bytes()[:2000])
    else:
        path.write_bytes(content)
    with pytest.raises(MediaError, match=r"bad\.mp4"):
        probe(path)
        sample_frames(path)


def test_missing_and_too_long(tmp_path, cut_video):
    with pytest.raises(MediaError, match="does not exist"):
        probe(tmp_path / "none.mp4")
    with pytest.raises(MediaError, match="limit"):
        probe(cut_video, max_duration_s=10.0)


def test_audio_only_file_has_no_video_stream(tmp_path):
    import av

    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        import numpy as np

        pcm = (tone(1.0, rate_hz=16000) * 32767).astype(np.int16)
        for start in range(0, len(pcm), 1024):
            frame = av.AudioFrame.from_ndarray(pcm[start : start + 1024].reshape(1, -1),
                                               format="s16", layout="mono")  # fmt: skip
            frame.sample_rate = 16000
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(MediaError, match="no video stream"):
        probe(path)


@pytest.mark.parametrize(
    ("suffix", "video_codec", "audio_codec", "rate"),
    [
        (".mov", "libx264", "aac", 44100),
        (".mkv", "libx264", "aac", 44100),
        (".webm", "libvpx-vp9", "libopus", 48000),
        (".avi", "mpeg4", "mp3", 44100),
    ],
)
def test_common_containers(tmp_path, suffix, video_codec, audio_codec, rate):
    path = write_video(
        tmp_path / f"clip{suffix}", cards([RED, BLUE], 5.0), audio=tone(10.0, rate_hz=rate),
        audio_rate_hz=rate, video_codec=video_codec, audio_codec=audio_codec,
    )  # fmt: skip
    info = probe(path)
    assert info.duration_s == pytest.approx(10.0, abs=0.2) and info.has_audio
    assert len(sample_frames(path, rate_hz=1.0)) == pytest.approx(10, abs=1)
    assert len(decode_audio(path)) == pytest.approx(160000, rel=0.03)
    assert detect_cuts(path, info.duration_s).cuts_s == pytest.approx((5.0,), abs=0.05)
    # Muxed into MP4 with the original kept as the first track and music as the second.
    music = np.repeat(tone(info.duration_s, 330.0)[:, None], 2, axis=1)
    out = mux(path, music, tmp_path / "scored.mp4", keep_original=True)
    import av

    with av.open(str(out)) as container:
        kinds = [(s.type, s.codec_context.name) for s in container.streams]
        lengths = [float(s.duration * s.time_base) for s in container.streams.audio]
    copied = {"libx264": "h264", "libvpx-vp9": "vp9"}.get(video_codec, "h264")  # mpeg4: re-encoded
    assert kinds == [("video", copied), ("audio", "aac"), ("audio", "aac")]
    assert lengths == pytest.approx([info.duration_s] * 2, abs=0.06)


def test_same_picture_tells_repeats_from_changes():
    from vemidi.media.frames import same_picture

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    noisy = np.clip(frame.astype(int) + rng.integers(-1, 2, frame.shape), 0, 255).astype(np.uint8)
    assert same_picture(frame, frame) and same_picture(frame, noisy)  # re-encoding noise
    assert not same_picture(frame, 255 - frame)
    shifted = np.roll(frame, 8, axis=1)  # a camera pan
    assert not same_picture(frame, shifted)
    assert not same_picture(frame, frame[:80])  # another size
