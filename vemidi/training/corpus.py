"""Training corpus from the scores that ship inside the music21 wheel (no network).

Pipeline: corpus file -> :class:`Work` (notes in quarter lengths, voices, bars, long sonorities;
cached on disk, parsed in parallel) -> augmented :class:`Example` (instruments, transposition,
tokens in musical time, the meter and chord under every token, and proxy emotion labels).

Musical time: a quarter note is a beat and every score is rendered at the tokenizer's reference
tempo, so each beat is exactly four ticks; tempo lives in the plan, not in the data. Chords come
from our own per-beat template analysis (:func:`beat_chords`): the best-fitting triad or
dominant seventh over all notes sounding in the beat, kept from beat to beat unless another fits
clearly better (steadier than music21's raw chord on the beat, of which 15% are incomplete).

Licences: the corpus is out of copyright or licensed for use, but some encodings restrict use.
We skip what music21 lets us tell is restricted: collections whose ``license.txt`` grants only
non-commercial use (the Essen folksong set) and files whose header reserves rights to derivative
electronic formats (the Humdrum Palestrina encodings). See :func:`is_excluded`.

Proxy labels (the corpus has no emotion annotations; formulas repeated in the model card):

* valence: mode strength = (best Krumhansl-Kessler major-key correlation) - (best minor-key
  correlation) of the work's duration-weighted pitch-class histogram, divided by a corpus scale
  and clipped to [-1, 1];
* arousal: log of notes per beat, standardised over the corpus and clipped (tempo comes from
  arousal in the plan, so the model's part of arousal is how busy each beat is).

Boundaries: a CHORD token precedes every long sonority: an onset where at least two notes start
together and last at least two beats, or where a fermata marks at least two notes (fermatas are
held for twice their written length, as performed).
"""

from __future__ import annotations

import hashlib
import logging
import math
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vemidi.music import harmony
from vemidi.music import tokenizer as tk
from vemidi.music.keys import best_key, mode_strength

log = logging.getLogger(__name__)

# Collections used for training (music21 folder names); see the model card for what each is.
COLLECTIONS = (
    "bach",
    "beethoven",
    "mozart",
    "haydn",
    "schumann_robert",
    "schumann_clara",
    "schubert",
    "chopin",
    "corelli",
    "handel",
    "monteverdi",
    "josquin",
    "trecento",
    "oneills1850",
    "ryansMammoth",
    "airdsAirs",
    "miscFolk",
    "joplin",
    "weber",
    "beach",
    "cpebach",
    "ciconia",
    "luca",
    "lusitano",
    "liliuokalani",
    "johnson_j_r",
    "essenFolksong",
    "palestrina",
)
_RESTRICTED_MARKERS = (
    b"non-commercial",
    b"noncommercial",
    b"rights to all derivative electronic formats reserved",
)
_SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".abc", ".mid", ".midi")


@dataclass(frozen=True)
class Work:
    """One parsed piece in quarter lengths (before tempo, instruments and transposition).

    Attributes:
        source: corpus path and score index, e.g. ``bach/bwv66.6.mxl#0``.
        collection: music21 folder name.
        pitches, starts_q, ends_q, voices: one entry per note; voice 0 is the lowest part.
        n_voices: number of parts with notes.
        chords_q: onsets of long sonorities (boundary chords).
        bars_q: downbeats.
        bpm: the score's quarter-note tempo, or NaN when it has none.
    """

    source: str
    collection: str
    pitches: np.ndarray
    starts_q: np.ndarray
    ends_q: np.ndarray
    voices: np.ndarray
    n_voices: int
    chords_q: np.ndarray
    bars_q: np.ndarray
    bpm: float


def is_excluded(path: Path) -> bool:
    """Whether a corpus file's licence restricts use (see the module docstring)."""
    licence = path.parent / "license.txt"
    if licence.is_file() and any(m in licence.read_bytes().lower() for m in _RESTRICTED_MARKERS):
        return True
    data = path.read_bytes()
    if path.suffix == ".mxl":
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                data = b"".join(z.read(n) for n in z.namelist() if n.endswith(".xml"))
        except zipfile.BadZipFile:
            return True
    return any(m in data.lower() for m in _RESTRICTED_MARKERS)


def corpus_files(collections: Iterable[str] = COLLECTIONS) -> list[Path]:
    """Score files of the given music21 corpus collections, licence exclusions applied."""
    import music21

    root = Path(music21.__file__).parent / "corpus"
    files = []
    for name in collections:
        folder = root / name
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.suffix.lower() in _SCORE_SUFFIXES)
    return [p for p in files if not is_excluded(p)]


def _fermata_stretch(fermatas: list[tuple[float, float]]) -> Callable[[np.ndarray], np.ndarray]:
    """Time map in quarters that holds each fermata span twice as long."""
    spans = sorted(set(fermatas))
    xs, ys, shift, last_end = [0.0], [0.0], 0.0, -1.0
    for start, end in spans:
        if start < last_end or end <= start:
            continue
        xs += [start, end]
        ys += [start + shift, end + shift + (end - start)]
        shift += end - start
        last_end = end
    xs.append(1e9)
    ys.append(1e9 + shift)
    return lambda q: np.interp(q, xs, ys)


def _long_sonorities(
    starts: np.ndarray, ends: np.ndarray, fermata: np.ndarray, min_beats: float = 2.0
) -> np.ndarray:
    onsets: dict[float, list[int]] = {}
    for i, s in enumerate(np.round(starts, 3)):
        onsets.setdefault(float(s), []).append(i)
    chords = []
    for onset, idx in onsets.items():
        if len(idx) < 2:
            continue
        long_notes = sum(1 for i in idx if ends[i] - starts[i] >= min_beats - 1e-6)
        held = sum(1 for i in idx if fermata[i])
        if long_notes >= 2 or held >= 2:
            chords.append(onset)
    return np.array(sorted(chords), dtype=np.float64)


def _score_to_work(score: object, source: str, collection: str) -> Work | None:
    from music21 import expressions, tempo

    parts = list(getattr(score, "parts", [])) or [score]
    raw = []  # (pitch, start, end, part, fermata)
    for part_index, part in enumerate(parts):
        flat = part.stripTies(inPlace=False).flatten()
        for element in flat.notes:
            length = float(element.quarterLength)
            if length <= 0:
                continue
            start = float(element.offset)
            fermata = any(isinstance(e, expressions.Fermata) for e in element.expressions)
            for pitch in getattr(element, "pitches", ()):
                raw.append((pitch.midi, start, start + length, part_index, fermata))
    if len(raw) < 16:
        return None
    arr = np.array(raw, dtype=np.float64)
    part_ids = sorted(set(arr[:, 3].astype(int)))
    mean_pitch = {p: arr[arr[:, 3] == p, 0].mean() for p in part_ids}
    order = {p: rank for rank, p in enumerate(sorted(part_ids, key=lambda p: mean_pitch[p]))}
    voices = np.array([order[int(p)] for p in arr[:, 3]], dtype=np.int8)
    fermata = arr[:, 4].astype(bool)
    spans = zip(arr[:, 1], arr[:, 2], fermata, strict=False)
    stretch = _fermata_stretch([(s, e) for s, e, f in spans if f])
    starts, ends = stretch(arr[:, 1]), stretch(arr[:, 2])
    chords = _long_sonorities(arr[:, 1], arr[:, 2], fermata)
    bars: list[float] = []
    for measure in parts[0].getElementsByClass("Measure"):
        bars.append(float(measure.offset))
    marks = list(score.flatten().getElementsByClass(tempo.MetronomeMark))
    bpm = float(marks[0].getQuarterBPM() or math.nan) if marks else math.nan
    return Work(
        source=source,
        collection=collection,
        pitches=arr[:, 0].astype(np.int16),
        starts_q=starts.astype(np.float32),
        ends_q=ends.astype(np.float32),
        voices=voices,
        n_voices=len(part_ids),
        chords_q=stretch(chords).astype(np.float32) if len(chords) else np.zeros(0, np.float32),
        bars_q=stretch(np.array(bars)).astype(np.float32),
        bpm=bpm,
    )


def parse_file(path: Path, cache_dir: Path) -> list[Work]:
    """Parse one corpus file (an ABC file may hold many tunes) into works, cached on disk."""
    key = hashlib.sha1(str(path).encode()).hexdigest()[:16]
    cached = cache_dir / f"{key}.pkl"
    if cached.is_file():
        with cached.open("rb") as f:
            return pickle.load(f)
    from music21 import converter, stream

    collection = next((p.name for p in path.parents if p.parent.name == "corpus"), "other")
    works: list[Work] = []
    try:
        parsed = converter.parse(str(path))
        scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
        for index, score in enumerate(scores):
            work = _score_to_work(score, f"{collection}/{path.name}#{index}", collection)
            if work is not None:
                works.append(work)
    except Exception as e:  # music21 raises many types on odd encodings; skip the file
        log.warning("skipping %s: %s", path, e)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(works, f)
    tmp.replace(cached)
    return works


def _parse_job(args: tuple[Path, Path]) -> list[Work]:
    return parse_file(*args)


def parse_corpus(
    files: list[Path],
    cache_dir: Path,
    workers: int = 2,
    progress: Callable[[float, str], None] | None = None,
) -> list[Work]:
    """Parse many files in parallel (``workers`` processes), re-using the on-disk cache."""
    import multiprocessing as mp

    works: list[Work] = []
    jobs = [(p, cache_dir) for p in files]
    if workers <= 1:
        results: Iterable[list[Work]] = map(_parse_job, jobs)
    else:
        pool = mp.get_context("spawn").Pool(workers)
        results = pool.imap_unordered(_parse_job, jobs, chunksize=4)
    try:
        for done, batch in enumerate(results, 1):
            works.extend(batch)
            if progress is not None:
                progress(done / max(1, len(jobs)), f"{len(works)} works")
    finally:
        if workers > 1:
            pool.close()
            pool.join()
    works.sort(key=lambda w: w.source)
    return works


@dataclass(frozen=True)
class Example:
    """One augmented rendering of a work, tokenised, with its plan inputs and raw proxy labels.

    ``tokens`` starts with the instrument-count token; ``meter`` and ``chord`` give, for each
    token, the meter class and chord class at the time the token leaves (see
    :meth:`vemidi.music.plan.Plan.tick_tables`); ``mode`` is the raw mode strength,
    ``notes_per_beat`` the raw note density and ``key`` the key class after transposition.
    """

    source: str
    tokens: np.ndarray
    meter: np.ndarray
    chord: np.ndarray
    mode: float
    notes_per_beat: float
    key: int

    @property
    def more_instruments(self) -> bool:
        """Written for three or more instruments (its instrument-count token)."""
        return int(self.tokens[0]) == tk.MORE_INSTRUMENTS


def beat_chords(work: Work, min_gain: float = 0.1) -> np.ndarray:
    """Chord class of every beat of a work (untransposed), from the notes sounding in it.

    Each beat's duration-weighted pitch-class histogram (the lowest sounding pitch counted as
    the bass) goes to :func:`harmony.chord_scores`; the previous beat's chord is kept unless the
    best one fits better by ``min_gain`` (a steadier harmonic rhythm than beat-by-beat labels),
    and a beat without notes keeps the previous chord.
    """
    n_beats = math.ceil(float(work.ends_q.max())) if len(work.ends_q) else 0
    hist = np.zeros((n_beats, 12))
    bass = np.full(n_beats, 1000)
    for pitch, start, end in zip(work.pitches, work.starts_q, work.ends_q, strict=False):
        first, last = math.floor(start), math.ceil(end)
        for beat in range(first, min(last, n_beats)):
            overlap = min(end, beat + 1) - max(start, beat)
            if overlap > 0:
                hist[beat, int(pitch) % 12] += overlap
                bass[beat] = min(bass[beat], int(pitch))
    chords = np.full(n_beats, harmony.NO_CHORD, dtype=np.int16)
    previous = harmony.NO_CHORD
    for beat in range(n_beats):
        if hist[beat].sum() > 0:
            scores = harmony.chord_scores(hist[beat], int(bass[beat]) % 12)
            best = int(np.argmax(scores))
            if previous == harmony.NO_CHORD or scores[best] - scores[previous] >= min_gain:
                previous = best
        chords[beat] = previous
    return chords


def transpose_chords(chords: np.ndarray, semitones: int) -> np.ndarray:
    """Chord classes moved by ``semitones`` (``NO_CHORD`` stays)."""
    chords = chords.astype(np.int64)
    moved = (chords // 12) * 12 + (chords % 12 + semitones) % 12
    return np.where(chords == harmony.NO_CHORD, chords, moved).astype(np.int16)


def tick_times(tokens: np.ndarray) -> np.ndarray:
    """For each token, the tick it leaves time at (the running sum of its shifts and those
    before it)."""
    shift = np.zeros(tk.VOCAB_SIZE, dtype=np.int64)
    shift[tk.SHIFT_BASE : tk.NOTE_BASE] = np.arange(1, tk.MAX_SHIFT_TICKS + 1)
    return np.cumsum(shift[np.asarray(tokens, dtype=np.int64)])


def plan_inputs(
    tokens: np.ndarray, bars_q: np.ndarray, chords: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Meter and chord classes of every token of a score rendered at the reference tempo."""
    from vemidi.music.plan import METER_LENGTHS, METER_POSITIONS

    ticks = tick_times(tokens)
    bar_ticks = np.unique(np.round(np.asarray(bars_q) * tk.TICKS_PER_BEAT).astype(np.int64))
    if len(bar_ticks) == 0 or bar_ticks[0] > 0:
        bar_ticks = np.concatenate([[0], bar_ticks])
    lengths = np.diff(bar_ticks)
    lengths = np.append(lengths, lengths[-1] if len(lengths) else 4 * tk.TICKS_PER_BEAT)
    index = np.searchsorted(bar_ticks, ticks, side="right") - 1
    position = np.minimum(ticks - bar_ticks[index], METER_POSITIONS - 1)
    beats = np.clip(np.round(lengths[index] / tk.TICKS_PER_BEAT), 1, METER_LENGTHS).astype(int)
    meter = position + METER_POSITIONS * (beats - 1)
    if len(chords):
        chord = chords[np.minimum(ticks // tk.TICKS_PER_BEAT, len(chords) - 1)]
    else:
        chord = np.full(len(tokens), harmony.NO_CHORD)
    return meter.astype(np.int16), chord.astype(np.int16)


def augment(
    work: Work,
    rng: np.random.Generator,
    chords: np.ndarray | None = None,
    max_transpose: int = 5,
) -> Example | None:
    """Assign instruments and a transposition to a work and tokenise it at the reference tempo.

    ``chords`` is :func:`beat_chords` of the work (computed here when not given).
    """
    seconds_per_q = tk.BEAT_S  # a quarter note is a beat
    shift = int(rng.integers(-max_transpose, max_transpose + 1))
    melodic = (tk.Instrument.PIANO, tk.Instrument.STRINGS, tk.Instrument.GUITAR)
    if work.n_voices >= 2:
        upper = [melodic[rng.integers(3)]] * work.n_voices
        if rng.random() < 0.5:  # each voice its own instrument
            upper = [melodic[i] for i in rng.integers(0, 3, work.n_voices)]
        use_bass = rng.random() < (0.8 if work.n_voices >= 3 else 0.5)
        mapping = [
            tk.Instrument.BASS if (v == 0 and use_bass) else upper[v] for v in range(work.n_voices)
        ]
    else:
        mapping = [melodic[rng.integers(3)]]
    pitches = work.pitches.astype(int) + shift
    notes = [
        tk.Note(
            mapping[min(int(v), len(mapping) - 1)],
            int(p),
            float(s) * seconds_per_q,
            float(e) * seconds_per_q,
        )
        for p, s, e, v in zip(pitches, work.starts_q, work.ends_q, work.voices, strict=False)
        if tk.MIN_PITCH <= p <= tk.MAX_PITCH
    ]
    if len(notes) < 16:
        return None
    body = tk.encode(notes, chord_times_s=[float(c) * seconds_per_q for c in work.chords_q])
    tokens = np.array([tk.instrument_token(len({n.instrument for n in notes})), *body], np.int16)
    chords = beat_chords(work) if chords is None else chords
    meter, chord = plan_inputs(tokens, work.bars_q, transpose_chords(chords, shift))
    durations = np.array([n.end_s - n.start_s for n in notes])
    length_beats = (max(n.end_s for n in notes) - min(n.start_s for n in notes)) / seconds_per_q
    pitch_arr = np.array([n.pitch for n in notes])
    return Example(
        source=work.source,
        tokens=tokens,
        meter=meter,
        chord=chord,
        mode=mode_strength(pitch_arr, durations),
        notes_per_beat=len(notes) / max(length_beats, 1.0),
        key=best_key(pitch_arr, durations),
    )


def split_by_work(
    works: list[Work], held_out: float = 0.05, seed: int = 0
) -> tuple[list[Work], list[Work]]:
    """Deterministic train/held-out split by work (a fixed seed over sorted sources)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(works))
    n_test = max(1, round(held_out * len(works)))
    test_idx = set(order[:n_test].tolist())
    train = [w for i, w in enumerate(works) if i not in test_idx]
    test = [w for i, w in enumerate(works) if i in test_idx]
    return train, test
