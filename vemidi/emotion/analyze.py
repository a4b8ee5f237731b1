"""Analyse a video: cuts, every modality, late fusion, valence/arousal, per scene and overall.

Each modality runs once over the whole video; per-scene results re-use those passes (faces per
frame are cached, transcript segments and OCR lines carry times, audio and colour features are
cheap to recompute on a slice). A scene shorter than ``min_segment_s`` is analysed over a window
of that length centred on it, so it borrows evidence from its neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vemidi import background
from vemidi.config import check_choice, check_range
from vemidi.emotion.affect import to_valence_arousal
from vemidi.emotion.fusion import DEFAULT_WEIGHTS, MODALITIES, ModalityResult, fuse
from vemidi.emotion.models import ModalityModels, embedded_models

Progress = Callable[[float, str], None]
PROFILES = ("embedded", "hub")  # model profiles: offline packaged weights, or Hub models
AUDIO_RATE_HZ = 16000


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of the analysis (defaults: the embedded profile on a CPU)."""

    frame_rate_hz: float = 2.0
    max_frames: int = 600  # longer videos are sampled more sparsely (memory: ~0.7 MB a frame)
    max_side_px: int = 640
    max_duration_s: float = 600.0
    min_cut_gap_s: float = 4.0
    cut_threshold: float = 3.0
    min_segment_s: float = 2.0
    ocr_frames: int = 8
    weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_WEIGHTS.items())

    def __post_init__(self) -> None:
        check_range("frame_rate_hz", self.frame_rate_hz, 0.1, 30.0)
        check_range("max_frames", self.max_frames, 10, 100_000)
        check_range("max_side_px", self.max_side_px, 64, 4096)
        check_range("max_duration_s", self.max_duration_s, 1.0, 7200.0)
        check_range("min_cut_gap_s", self.min_cut_gap_s, 0.0, 60.0)
        check_range("min_segment_s", self.min_segment_s, 0.0, 60.0)
        for name, weight in self.weights:
            check_range(f"weight of {name}", weight, 0.0, 10.0)


@dataclass(frozen=True)
class SceneEmotion:
    """The fused result of one scene (the span between two kept cuts)."""

    start_s: float
    end_s: float
    probs: dict[str, float]
    valence: float
    arousal: float


@dataclass(frozen=True)
class Analysis:
    """Everything the analysis found (``to_json`` gives the documented JSON)."""

    path: str
    duration_s: float
    cuts_s: tuple[float, ...]
    modalities: dict[str, ModalityResult]
    fused: ModalityResult
    valence: float
    arousal: float
    segments: tuple[SceneEmotion, ...] = field(default_factory=tuple)
    profile: str = "embedded"

    def to_json(self) -> dict:
        """JSON-ready dict: duration_s, cuts_s, modalities, fused, valence, arousal, segments."""
        return {
            "path": self.path,
            "profile": self.profile,
            "duration_s": round(self.duration_s, 3),
            "cuts_s": list(self.cuts_s),
            "modalities": {
                name: {
                    "probs": _round(r.probs),
                    "confidence": round(r.confidence, 4),
                    "evidence": r.evidence,
                }
                for name, r in self.modalities.items()
            },
            "fused": {
                "probs": _round(self.fused.probs),
                "confidence": round(self.fused.confidence, 4),
            },
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "segments": [
                {
                    "start_s": s.start_s,
                    "end_s": s.end_s,
                    "probs": _round(s.probs),
                    "valence": round(s.valence, 4),
                    "arousal": round(s.arousal, 4),
                }
                for s in self.segments
            ],
        }


def _round(probs: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in probs.items()}


class VideoAnalyzer:
    """Runs one profile's analyzers over a video; models load lazily, once per process."""

    def __init__(
        self, config: AnalysisConfig | None = None, models: ModalityModels | None = None
    ) -> None:
        self.config = config or AnalysisConfig()
        self.models = models or embedded_models()

    def analyze(self, path: str | Path, progress: Progress | None = None) -> Analysis:
        """Analyse one video file.

        Raises:
            MediaError: the file is not a readable video or is too long.
        """
        from vemidi.emotion.onscreen_text import analyze_onscreen_text, lines_result
        from vemidi.emotion.speech import speech_result
        from vemidi.media.cuts import detect_cuts
        from vemidi.media.frames import decode_audio, sample_frames
        from vemidi.media.probe import probe

        cfg, m = self.config, self.models
        report = progress or (lambda f, m: None)
        info = probe(path, cfg.max_duration_s)
        # Cut detection decodes every frame in PyAV and numpy, which release the GIL: it runs
        # in a thread beside the other modalities (30 s clip: 1.1 s that no longer add up;
        # bench/analyze_speed.py).
        finding_cuts = background.pool().submit(
            detect_cuts, path, info.duration_s, cfg.cut_threshold, cfg.min_cut_gap_s
        )
        report(0.05, "sampling frames (scene cuts alongside)")
        # At most max_frames in all: a 10-minute video at 2 frames/s held 830 MB of frames.
        rate_hz = min(cfg.frame_rate_hz, cfg.max_frames / max(info.duration_s, 1e-3))
        frames = [(f.time_s, f.rgb) for f in sample_frames(path, rate_hz, cfg.max_side_px)]
        audio = decode_audio(path, AUDIO_RATE_HZ, info.start_s) if info.has_audio else None
        report(0.2, "faces")
        m.faces.start_video()
        results = {"faces": m.faces.analyze(frames)}
        report(0.4, "speech")
        transcript = m.transcribe(audio) if audio is not None else []
        results["speech"] = speech_result(transcript, m.text_emotion)
        report(0.55, "on-screen text")
        results["text"] = analyze_onscreen_text(frames, m.text_emotion, cfg.ocr_frames)
        report(0.7, "scene cuts")
        cuts = finding_cuts.result()
        report(0.8, "audio and image content")
        results["audio"] = _audio(m.audio, audio, 0.0, info.duration_s)
        results["visual"] = m.visual([rgb for _, rgb in frames])
        weights = dict(cfg.weights)
        fused = fuse(results, weights)
        valence, arousal = to_valence_arousal(fused.probs)
        lines = results["text"].evidence.get("lines", [])
        scenes = []
        for start_s, end_s in cuts.segments:
            lo, hi = _window(start_s, end_s, cfg.min_segment_s, info.duration_s)
            inside = [(t, rgb) for t, rgb in frames if lo <= t < hi] or frames[:1]
            scene = {
                "faces": m.faces.analyze(inside),
                "speech": speech_result(
                    [s for s in transcript if s["end_s"] > lo and s["start_s"] < hi],
                    m.text_emotion,
                ),
                "text": lines_result([x for x in lines if lo <= x["time_s"] < hi], m.text_emotion),
                "audio": _audio(m.audio, audio, lo, hi),
                "visual": m.visual([rgb for _, rgb in inside]),
            }
            scene_fused = fuse(scene, weights)
            if scene_fused.confidence == 0.0:
                scene_fused = fused
            v, a = to_valence_arousal(scene_fused.probs)
            scenes.append(SceneEmotion(round(start_s, 3), round(end_s, 3), scene_fused.probs, v, a))
        report(1.0, "analysed")
        return Analysis(
            path=str(path),
            duration_s=info.duration_s,
            cuts_s=cuts.cuts_s,
            modalities={name: results[name] for name in MODALITIES},
            fused=fused,
            valence=valence,
            arousal=arousal,
            segments=tuple(scenes),
            profile=m.name,
        )


def _audio(analyze, audio, lo: float, hi: float) -> ModalityResult:
    from vemidi.emotion.fusion import absent

    if audio is None:
        return absent("no audio track")
    return analyze(audio[int(lo * AUDIO_RATE_HZ) : math.ceil(hi * AUDIO_RATE_HZ)])


def _window(
    start_s: float, end_s: float, min_len_s: float, duration_s: float
) -> tuple[float, float]:
    """The span itself, or a ``min_len_s`` window centred on it when it is shorter."""
    if end_s - start_s >= min_len_s:
        return start_s, end_s
    centre = (start_s + end_s) / 2
    lo = max(0.0, min(centre - min_len_s / 2, duration_s - min_len_s))
    return lo, min(duration_s, lo + min_len_s)


def make_analyzer(profile: str = "embedded", config: AnalysisConfig | None = None):
    """The video analyzer of a model profile: ``embedded`` (offline) or ``hub`` (online hosts).

    Raises:
        InvalidInputError: unknown profile.
        ModelLoadError: (hub) a model is neither cached nor downloadable.
    """
    check_choice("profile", profile, PROFILES)
    if profile == "hub":
        from vemidi.emotion.hub import hub_models

        return VideoAnalyzer(config, hub_models())
    return VideoAnalyzer(config)
