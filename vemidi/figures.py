"""Pictures of an analysis for people: the valence-arousal plane and the faces that were read.

Both return RGB arrays ``(height, width, 3)`` uint8 (matplotlib's Agg backend, no display), so
any front end can show them without keeping figures alive.
"""

from __future__ import annotations

import io

import numpy as np

from vemidi.emotion.affect import EMOTIONS, affect_table


def _figure_rgb(fig) -> np.ndarray:
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def va_plane(analysis, chosen: tuple[float, float] | None = None) -> np.ndarray:
    """The valence-arousal plane: Ekman anchors, the detected point, the per-scene trajectory
    (numbered in time order) and, when given, the point the user chose.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = affect_table()
    fig, ax = plt.subplots(figsize=(4.6, 4.2), dpi=100)
    ax.axhline(0, color="#bbb", linewidth=0.8)
    ax.axvline(0, color="#bbb", linewidth=0.8)
    for i, emotion in enumerate(EMOTIONS):
        ax.annotate(emotion, (table.valence[i], table.arousal[i]), color="#888", fontsize=8,
                    ha="center", va="center")  # fmt: skip
    scenes = analysis.segments
    if len(scenes) > 1:
        xs, ys = [s.valence for s in scenes], [s.arousal for s in scenes]
        ax.plot(xs, ys, "-o", color="#9467bd", markersize=4, linewidth=1, label="scenes")
        for k, (x, y) in enumerate(zip(xs, ys, strict=True), start=1):
            ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.plot(analysis.valence, analysis.arousal, "o", color="#1f77b4", markersize=10,
            label="detected")  # fmt: skip
    if chosen is not None and not np.allclose(chosen, (analysis.valence, analysis.arousal)):
        ax.plot(*chosen, "*", color="#d62728", markersize=14, label="your choice")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("valence (negative ... positive)")
    ax.set_ylabel("arousal (calm ... excited)")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return _figure_rgb(fig)


def faces_key_frame(video_path, analysis, max_side_px: int = 640) -> np.ndarray | None:
    """The frame with the largest face, each face boxed and labelled; None when no face."""
    from PIL import Image, ImageDraw, ImageFont

    from vemidi.media.frames import frame_at

    key = analysis.modalities["faces"].evidence.get("key_frame")
    if not key:
        return None
    image = Image.fromarray(frame_at(video_path, key["time_s"], max_side_px))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, image.width // 30))
    for face in key["faces"]:
        x0, y0, x1, y1 = face["box"]
        draw.rectangle((x0, y0, x1, y1), outline=(255, 220, 0), width=3)
        draw.text((x0 + 3, max(0, y0 - font.size - 4)), face.get("label", ""),
                  fill=(255, 220, 0), font=font)  # fmt: skip
    return np.asarray(image)
