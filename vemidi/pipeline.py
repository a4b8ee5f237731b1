"""The whole product in one object: video -> analysis -> soundtrack (MIDI, WAV, MP4, JSON).

:class:`Pipeline` loads models once and lazily, caches analyses by file content (moving a slider
in the app never re-runs the analysis) and turns an analysis plus the user's
:class:`Controls` into a :class:`Soundtrack`. :func:`make_soundtrack` is the one-call version for
scripts. Every stage reports through ``progress(fraction, message)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vemidi import background
from vemidi.config import (
    USER_SAMPLING_FIELDS,
    CutConfig,
    PlanConfig,
    SamplingConfig,
    check_choice,
    check_range,
)
from vemidi.emotion.analyze import PROFILES

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Controls:
    """What the user steers; ``None`` means "use what the analysis detected".

    Attributes:
        valence, arousal: override of the detected emotion, each in [-1, 1].
        per_scene: follow the per-scene emotion; an override then shifts the whole trajectory
            so that its overall value becomes the override.
        cuts_s: boundary times in seconds (None: the detected cuts; () for none).
        seed, temperature, top_p, top_k: sampling (see :class:`SamplingConfig`).
        tonal_anchor: weight of the tonal anchor (0: off, the default; see
            :class:`~vemidi.config.SamplingConfig`).
        more_instruments: EMSYNC's instrument-count token (3+ instruments when True).
        soundfont: a .sf2/.sf3 path (None: the first found, see :mod:`vemidi.synth`).
        audio_mode: ``replace``, ``mix`` (dialogue kept, music ducked under speech), ``under``
            (the original lowered 12 dB under the music) or ``keep`` (see
            :mod:`vemidi.audio.mixing`).
        duck_db: how far the music falls under speech in ``mix`` mode (dB, 0-40).
        loudness_lufs: the music's integrated loudness (-16 web, -23 EBU R128 broadcast, -14
            streaming); its true peak stays under -1 dBTP (:mod:`vemidi.audio.loudness`).
        min_cut_gap_s: cuts closer than this to the previous kept one are dropped.
        model: music model name or checkpoint path (None: the default).
        tempo_bpm: base tempo (None: from arousal; see :mod:`vemidi.music.plan`).
        beats_per_bar: the meter.
        percussion: ``auto`` (drums where arousal > 0), ``on`` or ``off``.
    """

    valence: float | None = None
    arousal: float | None = None
    per_scene: bool = False
    cuts_s: tuple[float, ...] | None = None
    seed: int = 0
    temperature: float = SamplingConfig.temperature  # one source for every front end
    top_p: float = SamplingConfig.top_p
    top_k: int = SamplingConfig.top_k
    tonal_anchor: float = SamplingConfig.tonal_anchor
    more_instruments: bool = True
    soundfont: str | None = None
    audio_mode: str = "replace"
    min_cut_gap_s: float = 4.0
    model: str | None = None
    tempo_bpm: float | None = None
    beats_per_bar: int = 4
    percussion: str = "auto"
    duck_db: float = 12.0
    loudness_lufs: float = -16.0

    def __post_init__(self) -> None:
        from vemidi.audio.loudness import LUFS_RANGE
        from vemidi.audio.mixing import AUDIO_MODES, DUCK_RANGE_DB

        for name in ("valence", "arousal"):
            if getattr(self, name) is not None:
                check_range(name, getattr(self, name), -1.0, 1.0)
        check_choice("audio mode", self.audio_mode, AUDIO_MODES)
        check_range("duck_db", self.duck_db, *DUCK_RANGE_DB)
        check_range("loudness_lufs", self.loudness_lufs, *LUFS_RANGE)
        check_range("min_cut_gap_s", self.min_cut_gap_s, 0.0, 60.0)
        self.sampling()  # validates temperature, top_p, seed and the tonal anchor
        self.plan_config()  # validates tempo, meter and percussion

    def plan_config(self) -> PlanConfig:
        """The plan choices these controls describe."""
        return PlanConfig(
            tempo_bpm=self.tempo_bpm, beats_per_bar=self.beats_per_bar, percussion=self.percussion
        )

    def sampling(self) -> SamplingConfig:
        """The sampling settings these controls describe."""
        return SamplingConfig(**{name: getattr(self, name) for name in USER_SAMPLING_FIELDS})


@dataclass(frozen=True)
class Soundtrack:
    """The files one generation wrote, and its JSON record."""

    midi_path: Path
    wav_path: Path
    video_path: Path
    json_path: Path
    pianoroll_path: Path
    record: dict = field(default_factory=dict)
    stems_path: Path | None = None  # the ZIP of stems and files, when asked for


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the analysis cache key: same content, same analysis)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def emotion_segments(analysis, controls: Controls) -> tuple:
    """The generator's emotion segments for an analysis under the user's controls."""
    from vemidi.types import EmotionSegment

    valence = analysis.valence if controls.valence is None else controls.valence
    arousal = analysis.arousal if controls.arousal is None else controls.arousal
    if not controls.per_scene or len(analysis.segments) < 2:
        return (EmotionSegment(0.0, analysis.duration_s, valence, arousal),)
    shift_v, shift_a = valence - analysis.valence, arousal - analysis.arousal
    return tuple(
        EmotionSegment(
            s.start_s,
            s.end_s,
            float(min(1.0, max(-1.0, s.valence + shift_v))),
            float(min(1.0, max(-1.0, s.arousal + shift_a))),
        )
        for s in analysis.segments
    )


class Pipeline:
    """Loads the analyzers and the music model once; analyses are cached by file content."""

    def __init__(self, profile: str = "embedded", analysis_config=None, cache_size: int = 8):
        check_choice("profile", profile, PROFILES)
        self.profile = profile
        self.analysis_config = analysis_config
        self.cache_size = cache_size
        self._analyzer = None
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._digests: dict[tuple, str] = {}  # (path, size, mtime) -> content digest
        self._lock = threading.Lock()  # the app runs requests in several threads at once

    @property
    def analyzer(self):
        """The video analyzer of this profile (created on first use)."""
        with self._lock:
            if self._analyzer is None:
                from vemidi.emotion.analyze import make_analyzer

                self._analyzer = make_analyzer(self.profile, self.analysis_config)
        return self._analyzer

    def warm_up(self) -> None:
        """Load every model now, side by side (an app calls this in the background at start, so
        the first user does not wait; the CLI while it probes and decodes). Loading is mostly
        file reading and graph set-up in native code, so four loaders in threads finish in
        about the time of the slowest (bench/end_to_end.py). Failures are left for the first
        real use to report."""
        from vemidi import weights
        from vemidi.errors import VemidiError

        if self.profile == "embedded":
            loaders = [weights.load_face_models, weights.load_ocr, weights.load_whisper,
                       lambda: self.analyzer.models.text_emotion.prototypes()]  # fmt: skip
        else:
            loaders = [lambda: self.analyzer]  # creating the hub analyzer loads its pipelines
        loaders.append(lambda: weights.load_music_model(None))
        with ThreadPoolExecutor(max_workers=len(loaders), thread_name_prefix="vemidi-load") as pool:
            for future in [pool.submit(load) for load in loaders]:
                try:
                    future.result()
                except VemidiError as e:
                    log.warning("warm-up: %s", e)

    def _digest(self, video: str | Path) -> str:
        """The file's content digest, hashed once per path, size and modification time (the
        app asks again on every Generate; a large upload would be re-read each time)."""
        stat = Path(video).stat()
        key = (str(Path(video).resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = file_digest(video)
        return self._digests[key]

    def analyze(self, video: str | Path, progress: Progress | None = None):
        """Analyse a video, or return the cached analysis of a file with the same content.

        Raises:
            MediaError: the file is not a readable video or is too long.
        """
        from vemidi.media.probe import open_container

        open_container(video).close()  # a missing or empty file fails with its own message
        key = self._digest(video)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None:
            if progress:
                progress(1.0, "analysis (cached)")
            return cached
        analysis = self.analyzer.analyze(video, progress)
        with self._lock:
            self._cache[key] = analysis
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return analysis

    def soundtrack(
        self,
        video: str | Path,
        analysis,
        controls: Controls | None = None,
        out_dir: str | Path = ".",
        progress: Progress | None = None,
        stems: bool = False,
    ) -> Soundtrack:
        """Compose, render and mux a soundtrack for ``video`` from its ``analysis``.

        Writes ``<stem>-vemidi.{mid,wav,mp4,json,png}`` into ``out_dir`` (with ``stems``, also
        ``<stem>-vemidi-stems.zip``: a WAV per instrument, the MIDI, the WAV, the MP4 and the
        JSON); files appear only once complete, and nothing is left behind on failure.

        Raises:
            VemidiError: bad controls (cuts outside the video, ...), model, soundfont or ffmpeg
                failures, each with one clear sentence.
        """
        from vemidi.audio.mixing import mix
        from vemidi.media.mux import mux, publish
        from vemidi.music.compose import ComposeRequest, compose
        from vemidi.music.pianoroll import save_grid
        from vemidi.synth import SAMPLE_RATE_HZ, render_normalised, resolve_soundfont, write_wav

        controls = controls or Controls()
        report = progress or (lambda f, m: None)
        video, out_dir = Path(video), Path(out_dir)
        soundfont = resolve_soundfont(controls.soundfont)
        cuts = analysis.cuts_s if controls.cuts_s is None else tuple(sorted(controls.cuts_s))
        request = ComposeRequest(
            duration_s=analysis.duration_s,
            segments=emotion_segments(analysis, controls),
            cuts_s=cuts,
            sampling=controls.sampling(),
            cut_config=CutConfig(min_gap_s=controls.min_cut_gap_s),
            plan_config=controls.plan_config(),
            more_instruments=controls.more_instruments,
            model=controls.model,
        )
        piece = compose(request, lambda f, m: report(0.7 * f, m))
        stem = f"{video.stem}-vemidi"
        paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("mid", "wav", "mp4", "json", "png")}
        if stems:
            paths["zip"] = out_dir / f"{stem}-stems.zip"
        with tempfile.TemporaryDirectory(prefix="vemidi-") as tmp:
            work = {ext: Path(tmp) / p.name for ext, p in paths.items()}
            piece.write_midi(work["mid"])
            report(0.72, "rendering audio")
            music = render_normalised(
                piece.midi, analysis.duration_s, soundfont, controls.loudness_lufs
            )
            write_wav(work["wav"], music.audio)
            report(0.8, f"mixing ({controls.audio_mode})")
            track = mix(music.audio, _original_sound(video, controls.audio_mode), SAMPLE_RATE_HZ,
                        controls.audio_mode, controls.duck_db)  # fmt: skip
            report(0.85, "muxing and drawing the piano roll")
            # ffmpeg's AAC encoding waits in a subprocess: the piano roll is drawn meanwhile.
            muxing = background.pool().submit(
                mux, video, track.audio, work["mp4"], track.mode == "keep"
            )
            try:
                notes = piece.result.decoded.notes
                roll = ("vemidi soundtrack", notes, analysis.duration_s,
                        list(piece.result.targets_s), piece.plan, track.speech_s)  # fmt: skip
                save_grid([roll], work["png"], columns=1)
            finally:
                wait([muxing])  # ffmpeg is done with the folder before it can be removed
            muxing.result()
            record = {
                "video": video.name,
                "profile": self.profile,
                "analysis": analysis.to_json(),
                "controls": {**asdict(controls), "cuts_s": list(cuts)},
                "soundfont": soundfont.name,
                "composition": piece.summary(),
                "audio": {
                    "loudness_lufs": round(music.loudness_lufs, 2),
                    "true_peak_dbtp": round(music.true_peak_dbtp, 2),
                    "mode": track.mode,
                    "speech_s": [list(span) for span in track.speech_s],
                    "duck_db": track.duck_db,
                },
            }
            work["json"].write_text(json.dumps(record, indent=2, default=str))
            if stems:
                report(0.92, "rendering stems")
                _stems_zip(work, music.gain, analysis.duration_s, soundfont, Path(tmp) / "stems")
            for ext, path in paths.items():
                publish(work[ext], path)
        report(1.0, "done")
        return Soundtrack(paths["mid"], paths["wav"], paths["mp4"], paths["json"], paths["png"],
                          record, paths.get("zip"))  # fmt: skip


def _original_sound(video: Path, mode: str):
    """The video's own sound (mono, 44.1 kHz, from its first frame) when ``mode`` mixes it,
    else None."""
    from vemidi.media.frames import decode_audio
    from vemidi.media.probe import probe
    from vemidi.synth import SAMPLE_RATE_HZ

    if mode not in ("mix", "under"):
        return None
    info = probe(video, max_duration_s=float("inf"), decode_end=False)
    return decode_audio(video, SAMPLE_RATE_HZ, info.start_s) if info.has_audio else None


def _stems_zip(work: dict, gain, duration_s: float, soundfont: Path, folder: Path) -> None:
    """The stems bundle of one generation, zipped into ``work["zip"]``."""
    from vemidi.audio.stems import write_bundle, zip_bundle

    files = [work[ext] for ext in ("mid", "wav", "mp4", "json")]
    write_bundle(folder, work["mid"], duration_s, gain, files, soundfont)
    zip_bundle(folder, work["zip"])


def make_soundtrack(
    video: str | Path,
    out_dir: str | Path = ".",
    controls: Controls | None = None,
    profile: str = "embedded",
    progress: Progress | None = None,
) -> Soundtrack:
    """Analyse ``video`` and write its soundtrack files into ``out_dir`` (one call).

    Example:
        >>> from vemidi import make_soundtrack, Controls
        >>> make_soundtrack("clip.mp4", "out/", Controls(arousal=0.5)).video_path  # doctest: +SKIP
    """
    pipeline = Pipeline(profile)
    report = progress or (lambda f, m: None)
    analysis = pipeline.analyze(video, lambda f, m: report(0.5 * f, m))
    return pipeline.soundtrack(
        video, analysis, controls, out_dir, lambda f, m: report(0.5 + 0.5 * f, m)
    )
