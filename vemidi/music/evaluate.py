"""The evaluation of a music model (issue: emotion control, cut alignment, statistics, speed).

Every experiment generates with the real sampling loop and measures the notes with
:mod:`vemidi.music.measures`, never with the model's own tokens, so the numbers say what a
listener gets. ``run_evaluation`` runs them all and returns a JSON-ready report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from vemidi.config import SamplingConfig
from vemidi.music import measures
from vemidi.music import tokenizer as tk
from vemidi.music.keys import pick_tonic
from vemidi.types import EmotionSegment

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class EvalConfig:
    """Sizes of the experiments (defaults: the committed evaluation)."""

    grid: tuple[float, ...] = (-0.8, 0.0, 0.8)
    seeds: int = 5
    emotion_duration_s: float = 30.0
    cut_pieces: int = 10
    cut_duration_s: float = 60.0
    sampling: SamplingConfig = field(default_factory=SamplingConfig)


def _generate(model, duration_s, valence, arousal, seed, cuts_s=(), config=None):
    from vemidi.music.generate import generate

    sampling = replace((config or EvalConfig()).sampling, seed=seed)
    segments = [EmotionSegment(0.0, duration_s, valence, arousal)]
    tonic = None if math.isnan(valence) else pick_tonic(seed)
    return generate(model, duration_s, segments, list(cuts_s), sampling, tonic=tonic)


def emotion_control(model, config: EvalConfig, nulled: bool = False, progress=None) -> dict:
    """Pieces on the valence x arousal grid; Spearman of request vs measured mode and density.

    With ``nulled`` the model gets no conditions (and no key) while the requested values are kept
    for the correlation: the result should be near 0.
    """
    rows = []
    cells = [(v, a) for v in config.grid for a in config.grid]
    for i, (valence, arousal) in enumerate(cells):
        for seed in range(config.seeds):
            v_in, a_in = (math.nan, math.nan) if nulled else (valence, arousal)
            result = _generate(
                model, config.emotion_duration_s, v_in, a_in, seed, config=config
            )  # fmt: skip
            notes, duration = result.decoded.notes, result.duration_s
            rows.append(
                {
                    "valence": valence,
                    "arousal": arousal,
                    "seed": seed,
                    "notes_per_s": measures.notes_per_second(notes, duration),
                    "mode": measures.piece_mode(notes),
                    "key_change_rate": measures.key_change_rate(notes, duration),
                    "statistics": measures.statistics(notes, duration),
                    "tokens_per_s": result.tokens_per_s,
                    "generation_s": result.elapsed_s,
                }
            )
        if progress:
            progress((i + 1) / len(cells), f"emotion grid {i + 1}/{len(cells)}")
    return {
        "arousal_spearman": measures.spearman(
            [r["arousal"] for r in rows], [r["notes_per_s"] for r in rows]
        ),
        "valence_spearman": measures.spearman(
            [r["valence"] for r in rows], [r["mode"] for r in rows]
        ),
        "mean_mode_by_valence": {
            str(v): float(np.mean([r["mode"] for r in rows if r["valence"] == v]))
            for v in config.grid
        },
        "mean_notes_per_s_by_arousal": {
            str(a): float(np.mean([r["notes_per_s"] for r in rows if r["arousal"] == a]))
            for a in config.grid
        },
        "key_change_rate": float(np.mean([r["key_change_rate"] for r in rows])),
        "real_time_factor": len(rows)
        * config.emotion_duration_s
        / max(1e-9, sum(r["generation_s"] for r in rows)),
        "rows": rows,
    }


def random_cuts(rng: np.random.Generator, duration_s: float) -> list[float]:
    """A cut every 4-10 s (uniform), as in the issue's cut-alignment protocol."""
    cuts, t = [], float(rng.uniform(4, 10))
    while t < duration_s - 1.0:
        cuts.append(round(t, 3))
        t += float(rng.uniform(4, 10))
    return cuts


def cut_alignment(
    model, config: EvalConfig, boundaries: bool = True, guarantee: bool = True, progress=None
) -> dict:
    """Share of cuts with a CHORD onset within +-1 s, and distances to long sonorities.

    With ``boundaries=False`` the same cut lists are measured on pieces generated without the
    boundary signal (the ablation); the chance rate uses uniformly random times instead of cuts
    on the boundary-conditioned pieces. ``guarantee`` turns the decoding-time cut chord
    (``logits.CutChord``) on or off; ``forced_share`` is the share of cuts whose chord it forced.
    """
    rng = np.random.default_rng(1234)
    sampling = replace(config.sampling, cut_chords=guarantee and boundaries)
    config = replace(config, sampling=sampling)
    chord_hits, sonority_hits, distances, chance_chord, chance_sonority = [], [], [], [], []
    forced = 0
    for i in range(config.cut_pieces):
        cuts = random_cuts(rng, config.cut_duration_s)
        random_times = sorted(rng.uniform(0.5, config.cut_duration_s - 0.5, len(cuts)).tolist())
        result = _generate(
            model, config.cut_duration_s, 0.3, 0.3, 100 + i, cuts if boundaries else (),
            config=config,
        )  # fmt: skip
        forced += len(result.forced_s)
        chords = result.decoded.chord_times_s
        sonorities = measures.long_sonority_onsets(result.decoded.notes)
        chord_d = measures.nearest_distance(chords, cuts)
        son_d = measures.nearest_distance(sonorities, cuts)
        chord_hits += [d <= 1.0 for d in chord_d]
        sonority_hits += [d <= 1.0 for d in son_d]
        distances += son_d
        chance_chord += [d <= 1.0 for d in measures.nearest_distance(chords, random_times)]
        chance_sonority += [d <= 1.0 for d in measures.nearest_distance(sonorities, random_times)]
        if progress:
            progress((i + 1) / config.cut_pieces, f"cut pieces {i + 1}/{config.cut_pieces}")
    return {
        "cuts": len(chord_hits),
        "guarantee": sampling.cut_chords,
        "chord_within_1s": float(np.mean(chord_hits)),
        "forced_share": forced / max(1, len(chord_hits)),
        "long_sonority_within_1s": float(np.mean(sonority_hits)),
        "median_distance_to_long_sonority_s": float(np.median(distances)),
        "chance_chord_within_1s": float(np.mean(chance_chord)),
        "chance_long_sonority_within_1s": float(np.mean(chance_sonority)),
    }


def corpus_statistics(examples: list, duration_s: float = 30.0, limit: int = 200) -> list[dict]:
    """Statistics of the first ``duration_s`` of held-out corpus pieces (the reference)."""
    result = []
    for example in examples[:limit]:
        decoded = tk.decode([int(t) for t in example.tokens[1:]])
        length = min(duration_s, decoded.duration_s)
        notes = [n for n in decoded.notes if n.start_s < length]
        if length >= 5.0 and notes:
            result.append(measures.statistics(notes, length))
    return result


def statistics_overlap(generated: list[dict], reference: list[dict]) -> dict:
    """Overlap area per statistic between generated and reference pieces (1 = identical)."""
    report = {}
    for name in measures.STATISTICS:
        g = [s[name] for s in generated]
        r = [s[name] for s in reference]
        report[name] = {
            "overlap": measures.overlap_area(g, r),
            "generated_mean": float(np.mean(g)),
            "heldout_mean": float(np.mean(r)),
        }
    return report


def speed(model, duration_s: float = 60.0) -> dict:
    """Tokens/s and real-time factor for three pieces of ``duration_s`` (valence 0.5; arousal
    -0.8, 0 and 0.8: busier music needs more tokens per second), three cuts each."""
    pieces = []
    for arousal in (-0.8, 0.0, 0.8):
        result = _generate(model, duration_s, 0.5, arousal, 7, cuts_s=(15.0, 30.0, 45.0))
        pieces.append({"arousal": arousal, "tokens": len(result.tokens),
                       "seconds": result.elapsed_s,
                       "real_time_factor": duration_s / result.elapsed_s})  # fmt: skip
    seconds = sum(p["seconds"] for p in pieces)
    return {
        "duration_s": duration_s * len(pieces),
        "tokens": sum(p["tokens"] for p in pieces),
        "tokens_per_s": sum(p["tokens"] for p in pieces) / seconds,
        "seconds": seconds,
        "real_time_factor": duration_s * len(pieces) / seconds,
        "slowest_real_time_factor": min(p["real_time_factor"] for p in pieces),
        "pieces": pieces,
    }


def without_priors(config: EvalConfig) -> EvalConfig:
    """The same experiments with the decoding-time key and density priors off (the model's
    learned control alone)."""
    return replace(config, sampling=replace(config.sampling, key_prior=0.0, density_prior=0.0))


def config_dict(config: EvalConfig) -> dict:
    """JSON-ready description of an evaluation configuration."""
    return asdict(config)
