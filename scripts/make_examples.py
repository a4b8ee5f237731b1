"""Write the app's example clips into assets/examples/ from offline material only.

Pictures: scikit-image's bundled sample images (public domain / CC0, see its data README);
speech: espeak-ng (packages-test.txt); the rest is drawn here. Each clip has hard cuts at known
times, a face or none, on-screen text and speech, so every analyzer has something to say.

    .venv/bin/python scripts/make_examples.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from media_factory import FPS, speak, write_video  # noqa: E402  (the tests' PyAV writer)

SIZE = (480, 270)


def _fit(rgb: np.ndarray, zoom: float = 1.0, pan: float = 0.0, top: float = 0.5) -> np.ndarray:
    """Crop a picture to 16:9 around a slowly moving centre and scale it to SIZE."""
    img = Image.fromarray(rgb if rgb.ndim == 3 else np.stack([rgb] * 3, -1))
    w, h = img.size
    cw = min(w, h * 16 / 9) / zoom
    ch = cw * 9 / 16
    x0 = (w - cw) / 2 + pan * (w - cw) / 2
    y0 = (h - ch) * top
    return np.asarray(img.crop((x0, y0, x0 + cw, y0 + ch)).resize(SIZE, Image.BILINEAR))


def _shot(rgb, seconds: float, zoom_to: float = 1.15, pan_to: float = 0.0, top: float = 0.5):
    """A slow zoom (and pan) over a still picture; ``top`` places the crop vertically."""
    n = round(seconds * FPS)
    return [_fit(rgb, 1 + (zoom_to - 1) * i / n, pan_to * i / n, top) for i in range(n)]


def _card(text: str, seconds: float, background, colour) -> list:
    img = Image.new("RGB", SIZE, background)
    font = ImageFont.load_default(size=34)
    box = ImageDraw.Draw(img).textbbox((0, 0), text, font=font)
    x, y = (SIZE[0] - (box[2] - box[0])) / 2, (SIZE[1] - (box[3] - box[1])) / 2
    ImageDraw.Draw(img).text((x, y), text, fill=colour, font=font)
    return [np.asarray(img)] * round(seconds * FPS)


def _tint(rgb: np.ndarray, scale) -> np.ndarray:
    rgb = rgb if rgb.ndim == 3 else np.stack([rgb] * 3, -1)
    return np.clip(rgb.astype(np.float32) * np.array(scale), 0, 255).astype(np.uint8)


def _speech(text: str, seconds: float, speed_wpm: int, at_s: float = 0.5) -> np.ndarray:
    """espeak-ng's voice for ``text`` placed at ``at_s`` in a track of ``seconds`` (44.1 kHz)."""
    return 0.8 * speak(text, seconds, at_s, words_per_min=speed_wpm)


def _pad(seconds: float, chord_hz: tuple[float, ...], level: float) -> np.ndarray:
    """A soft sustained chord under the speech (the clip's own 'location sound')."""
    t = np.arange(round(seconds * 44100)) / 44100
    return (level * sum(np.sin(2 * np.pi * f * t) for f in chord_hz) / len(chord_hz)).astype(
        np.float32
    )


def birthday(out: Path) -> Path:
    """12 s, joyful: a smiling face, a birthday card, a bright cat; cuts at 4 and 8 s."""
    from skimage import data

    frames = (
        _shot(data.astronaut(), 4.0, 1.2, top=0.05)
        + _card("Happy birthday Anna!", 4.0, (255, 200, 60), (200, 20, 90))
        + _shot(data.chelsea(), 4.0, 1.1, 0.3)
    )
    audio = _speech("Happy birthday! What a wonderful day. I am so happy for you!", 12.0, 150)
    audio += _pad(12.0, (261.6, 329.6, 392.0), 0.05)  # C major
    return write_video(out / "birthday.mp4", frames, audio=audio)


def farewell(out: Path) -> Path:
    """12 s, sad: a grey dim portrait, a dark farewell card, the moon; cuts at 5 and 9 s."""
    from skimage import data

    frames = (
        _shot(_tint(data.camera(), (0.55, 0.6, 0.75)), 5.0, 1.1, -0.3)
        + _card("Goodbye, old friend", 4.0, (12, 16, 40), (150, 160, 190))
        + _shot(_tint(data.moon(), (0.5, 0.55, 0.7)), 3.0, 1.05)
    )
    audio = _speech("I miss you. Everything feels empty and lonely without you.", 12.0, 110)
    audio += _pad(12.0, (220.0, 261.6, 329.6), 0.04)  # A minor
    return write_video(out / "farewell.mp4", frames, audio=audio)


def main() -> None:
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is needed (make setup-test installs packages-test.txt)")
    out = ROOT / "assets" / "examples"
    out.mkdir(parents=True, exist_ok=True)
    for make in (birthday, farewell):
        path = make(out)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
