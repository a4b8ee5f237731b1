"""A classifier two-sample test: can per-piece features tell generated music from real music?

Each piece (pitched notes in seconds; drums are left out because the corpus has none) becomes a
vector of 20 features a listener could notice: density, note lengths and their spread, blips,
inter-onset gaps and long gaps, silence, polyphony, register, pitch-class entropy, key clarity,
notes in the key's scale, stepwise melody, leap size, unison doubling and rhythmic regularity.
A logistic regression (standardised features, L2 penalty, fitted by Newton's method) is
cross-validated over stratified folds and scored by ROC AUC on the held-out folds: 0.5 means the
two sets cannot be told apart, 1.0 that they always can. Running the same test on two random
halves of the real set gives the floor the figure should be read against. The reported figures
average over three fold splits (``FOLD_SEEDS``): one split alone swings by about 0.02.

All our own numpy: no scikit-learn dependency for one small model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from vemidi.music.keys import key_correlations
from vemidi.music.tokenizer import Note
from vemidi.training import measures

FOLD_SEEDS = (0, 1, 2)  # the fold splits a reported AUC averages over

FEATURES = (
    "notes_per_s",
    "mean_duration_s",
    "duration_cv",
    "short_note_share",
    "long_note_share",
    "ioi_mean_s",
    "ioi_cv",
    "long_gap_share",
    "silence_share",
    "longest_silence_s",
    "polyphony",
    "pitch_mean",
    "pitch_range",
    "pitch_class_entropy",
    "key_clarity",
    "in_scale_share",
    "step_share",
    "mean_leap",
    "unison_share",
    "grooving_similarity",
)


def features(
    notes: list[Note],
    duration_s: float,
    beat_of: Callable[[float], float],
    bars: Sequence[tuple[float, int]],
) -> np.ndarray:
    """The :data:`FEATURES` of one piece: its notes in seconds, ``beat_of`` mapping a time in
    seconds to its beat, and the piece's whole ``bars`` as (start beat, beats), which the
    rhythm's grooving similarity is counted in."""
    notes = measures.pitched(notes)
    if not notes:
        return np.zeros(len(FEATURES))
    durations = np.array([n.end_s - n.start_s for n in notes])
    onsets = np.unique(np.round([n.start_s for n in notes], 3))
    ioi = np.diff(onsets) if len(onsets) > 1 else np.array([duration_s])
    silence_share, longest = measures.silence(notes, duration_s)
    pitches = np.array([n.pitch for n in notes])
    correlations = key_correlations(pitches, durations)
    best = int(np.argmax(correlations))
    from vemidi.music.harmony import scale_pitch_classes

    scale = set(scale_pitch_classes(best))
    in_scale = sum(d for p, d in zip(pitches, durations, strict=True) if p % 12 in scale)
    melody = _top_line(notes)
    steps = np.abs(np.diff(melody)) if len(melody) > 1 else np.zeros(1)
    moving = steps[steps > 0]
    values = {
        "notes_per_s": len(notes) / duration_s,
        "mean_duration_s": durations.mean(),
        "duration_cv": durations.std() / max(durations.mean(), 1e-9),
        "short_note_share": measures.short_note_share(notes),
        "long_note_share": float(np.mean(durations > 2.0)),
        "ioi_mean_s": ioi.mean(),
        "ioi_cv": ioi.std() / max(ioi.mean(), 1e-9),
        "long_gap_share": float(np.mean(ioi >= 1.6)),
        "silence_share": silence_share,
        "longest_silence_s": longest,
        "polyphony": measures.polyphony(notes, duration_s),
        "pitch_mean": pitches.mean(),
        "pitch_range": float(pitches.max() - pitches.min()),
        "pitch_class_entropy": measures.pitch_class_entropy(notes),
        "key_clarity": float(correlations.max()),
        "in_scale_share": in_scale / max(durations.sum(), 1e-9),
        "step_share": float(np.mean(moving <= 2)) if len(moving) else 0.0,
        "mean_leap": float(moving.mean()) if len(moving) else 0.0,
        "unison_share": measures.unison_doubling_share(notes),
        "grooving_similarity": measures.grooving_similarity(
            [beat_of(n.start_s) for n in notes], bars
        ),
    }
    return np.array([float(values[name]) for name in FEATURES])


def _top_line(notes: list[Note]) -> np.ndarray:
    """The highest pitch starting at each onset (a proxy for the melody)."""
    by_onset: dict[float, int] = {}
    for n in notes:
        t = round(n.start_s, 3)
        by_onset[t] = max(by_onset.get(t, 0), n.pitch)
    return np.array([by_onset[t] for t in sorted(by_onset)], dtype=float)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 25) -> np.ndarray:
    """Weights (bias last) of an L2-penalised logistic regression, by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not penalised
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -30, 30)))
        gradient = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def cross_validated_auc(
    a: np.ndarray, b: np.ndarray, folds: int = 5, seed: int = 0, l2: float = 1.0
) -> float:
    """ROC AUC of telling rows of ``a`` (label 1) from rows of ``b`` (label 0) on held-out folds.

    Stratified folds; features standardised with each training fold's mean and spread.
    """
    x = np.vstack([a, b]).astype(float)
    y = np.concatenate([np.ones(len(a)), np.zeros(len(b))])
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for label in (0, 1):
        index = np.flatnonzero(y == label)
        fold[rng.permutation(index)] = np.arange(len(index)) % folds
    scores = np.zeros(len(y))
    for k in range(folds):
        train, test = fold != k, fold == k
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
        w = fit_logistic((x[train] - mean) / std, y[train], l2)
        design = np.hstack([(x[test] - mean) / std, np.ones((test.sum(), 1))])
        scores[test] = design @ w
    return roc_auc(scores, y)


def mean_auc(a: np.ndarray, b: np.ndarray, seeds: Sequence[int] = FOLD_SEEDS) -> float:
    """:func:`cross_validated_auc` averaged over the fold splits of ``seeds``."""
    return float(np.mean([cross_validated_auc(a, b, seed=seed) for seed in seeds]))


def auc_by_level(
    generated: np.ndarray, levels: np.ndarray, real: np.ndarray, seeds: Sequence[int] = FOLD_SEEDS
) -> dict[float, float]:
    """The cross-validated AUC (:func:`mean_auc`) of each level's generated rows alone against
    all of ``real``.

    Pooled over the grid, rows that miss the corpus in opposite directions at different levels
    (long notes at low arousal, a flurry at high) form a cloud that a linear classifier cannot
    cut from the corpus cleanly, so the pooled AUC can fall while every level stays as easy to
    tell; a generator is more real-like only where these fall too.
    """
    return {
        float(level): mean_auc(generated[levels == level], real, seeds)
        for level in np.unique(levels)
    }


def feature_gaps(generated: np.ndarray, real: np.ndarray) -> list[tuple[str, float]]:
    """Each feature's difference of means in real standard deviations, largest first."""
    gaps = (generated.mean(axis=0) - real.mean(axis=0)) / (real.std(axis=0) + 1e-9)
    ranked = sorted(zip(FEATURES, gaps, strict=True), key=lambda item: -abs(item[1]))
    return [(name, round(float(gap), 2)) for name, gap in ranked]


def two_sample_test(
    generated: np.ndarray, real: np.ndarray, seed: int = 0, groups: list[str] | None = None
) -> dict:
    """The test on generated vs real feature rows, with the real-vs-real floor beside it.

    Returns the AUC (:func:`mean_auc`), the real-vs-real AUC (two random halves of ``real``; with
    ``groups``, the halves never share a group, e.g. two excerpts of one work), the features
    whose means differ most (in real standard deviations) and the per-feature means.
    """
    rng = np.random.default_rng(seed)
    labels = groups if groups is not None else [str(i) for i in range(len(real))]
    names = sorted(set(labels))
    first = {names[i] for i in rng.permutation(len(names))[: len(names) // 2]}
    in_first = np.array([g in first for g in labels])
    return {
        "auc": mean_auc(generated, real),
        "real_vs_real_auc": mean_auc(real[in_first], real[~in_first]),
        "n_generated": len(generated),
        "n_real": len(real),
        "largest_differences": feature_gaps(generated, real)[:6],
        "means": {
            name: {"generated": float(g), "real": float(r)}
            for name, g, r in zip(FEATURES, generated.mean(axis=0), real.mean(axis=0), strict=True)
        },
    }
