"""Training windows: augmented examples -> batches of tokens, offsets and conditions.

Each example is tokenised once (several augmented variants per work), with the meter and chord
under every token (the plan inputs the model sees at every position). A batch draws examples
with major and minor works equally likely (the corpus is mostly major), crops a window that
starts at the piece's beginning half of the time (where the condition is the only information),
draws half of its windows from works for three or more instruments (``more_share``: the corpus
is 95% one- and two-part folk tunes by example, while a soundtrack asks for a full texture),
and computes the boundary offsets from the example's own CHORD tokens. Conditions are dropped to
the null vector with probability ``cond_dropout`` each (EMSYNC: 0.2), and the whole boundary
signal with probability ``no_boundary_prob`` (EMSYNC: 0.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vemidi.music import tokenizer as tk
from vemidi.training.corpus import Example, tick_times


@dataclass(frozen=True)
class LabelScale:
    """How raw proxy measures become conditions in [-1, 1] (stored with the model).

    valence = clip(mode_strength / mode_scale, -1, 1);
    arousal = clip((ln(notes_per_beat) - density_center) / density_scale, -1, 1).
    """

    mode_scale: float
    density_center: float
    density_scale: float

    @classmethod
    def fit(cls, examples: list[Example]) -> LabelScale:
        """Scales from the corpus: the 90th percentile of |mode|, the 5-95% density range.

        Both scales are at least ``1e-3``: a corpus of a few alike works (a smoke-test run) has
        no spread, and the labels then saturate instead of dividing by zero.
        """
        modes = np.abs([e.mode for e in examples])
        log_density = np.log([e.notes_per_beat for e in examples])
        low, mid, high = np.percentile(log_density, [5, 50, 95])
        mode_scale = max(float(np.percentile(modes, 90)), 1e-3)
        return cls(mode_scale, float(mid), max(float((high - low) / 2), 1e-3))

    def valence(self, mode: float) -> float:
        """Valence condition of a raw mode strength."""
        return float(np.clip(mode / self.mode_scale, -1, 1))

    def arousal(self, notes_per_beat: float) -> float:
        """Arousal condition of a raw note density (notes per beat)."""
        z = (math.log(max(notes_per_beat, 1e-3)) - self.density_center) / self.density_scale
        return float(np.clip(z, -1, 1))


def seconds_to_next_chord(tokens: np.ndarray) -> np.ndarray:
    """For each token, seconds from its time to the next CHORD token after it (inf if none).

    A token's time is the time after it (the running sum of shifts up to and including it).
    """
    times = tick_times(tokens) * tk.TICK_S
    chord_idx = np.flatnonzero(tokens == tk.CHORD)
    nxt = np.searchsorted(chord_idx, np.arange(len(tokens)), side="right")
    result = np.full(len(tokens), np.inf, dtype=np.float32)
    has = nxt < len(chord_idx)
    result[has] = times[chord_idx[nxt[has]]] - times[has]
    return result


@dataclass
class Batch:
    """Arrays for one training step (numpy; the trainer moves them to torch)."""

    inputs: np.ndarray  # (B, T) int64
    targets: np.ndarray  # (B, T) int64, PAD where padded
    offsets: np.ndarray  # (B, T) float32 model inputs (horizon - min(horizon, distance))
    plan: np.ndarray  # (B, T, 2) int64: meter class and chord class under each token
    valence: np.ndarray  # (B,) float32, NaN = null
    arousal: np.ndarray  # (B,) float32, NaN = null
    key: np.ndarray  # (B,) int64, -1 = null


class WindowSampler:
    """Draws training windows from examples (see the module docstring)."""

    def __init__(
        self,
        examples: list[Example],
        scale: LabelScale,
        length: int,
        horizon_s: float = 8.0,
        start_prob: float = 0.5,
        cond_dropout: float = 0.2,
        no_boundary_prob: float = 0.2,
        use_key: bool = True,
        more_share: float | None = 0.5,
    ) -> None:
        self.examples = examples
        self.scale = scale
        self.length = length
        self.horizon_s = horizon_s
        self.start_prob = start_prob
        self.cond_dropout = cond_dropout
        self.no_boundary_prob = no_boundary_prob
        self.use_key = use_key
        self.to_chord = [seconds_to_next_chord(e.tokens.astype(np.int64)) for e in examples]
        major = np.array([e.mode > 0 for e in examples])
        n_major, n_minor = max(1, major.sum()), max(1, (~major).sum())
        weights = np.where(major, 0.5 / n_major, 0.5 / n_minor)
        sizes = np.array([min(len(e.tokens), 2 * length) for e in examples], dtype=float)
        weights = weights * sizes
        more = np.array([e.more_instruments for e in examples])
        if more_share is not None and more.any() and (~more).any():
            weights = np.where(
                more,
                more_share * weights / weights[more].sum(),
                (1 - more_share) * weights / weights[~more].sum(),
            )
        self.probs = weights / weights.sum()

    def window(self, index: int, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tokens, offsets and plan inputs (length + 1 each) of a window; the instrument token
        first (with the plan inputs of the window's first token)."""
        example = self.examples[index]
        tokens = example.tokens.astype(np.int64)
        plan = np.stack([example.meter, example.chord], axis=1).astype(np.int64)
        # The instrument token stands where the window starts: the time after token start - 1.
        first = plan[min(start, len(plan) - 1)][None]
        plan = np.concatenate([first, plan[1:][start : start + self.length]])
        to_chord = self.to_chord[index]
        body, body_dist = tokens[1:], to_chord[1:]
        piece = np.concatenate([[tokens[0]], body[start : start + self.length]])
        dist = np.concatenate(
            [
                [body_dist[start] if start < len(body) else np.inf],
                body_dist[start : start + self.length],
            ]
        )
        offsets = self.horizon_s - np.minimum(self.horizon_s, dist)
        pad = self.length + 1 - len(piece)
        if pad > 0:
            piece = np.concatenate([piece, np.full(pad, tk.PAD)])
            offsets = np.concatenate([offsets, np.zeros(pad)])
            plan = np.concatenate([plan, np.repeat(plan[-1:], pad, axis=0)])
        return piece, offsets.astype(np.float32), plan

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """A random batch."""
        rows, offs, plans, val, aro, keys = [], [], [], [], [], []
        for index in rng.choice(len(self.examples), size=batch_size, p=self.probs):
            example = self.examples[index]
            body_len = len(example.tokens) - 1
            start = 0
            if rng.random() >= self.start_prob and body_len > self.length:
                start = int(rng.integers(0, body_len - self.length + 1))
            piece, offsets, plan = self.window(index, start)
            if rng.random() < self.no_boundary_prob:
                offsets = np.zeros_like(offsets)
            rows.append(piece)
            offs.append(offsets)
            plans.append(plan)
            v = self.scale.valence(example.mode)
            a = self.scale.arousal(example.notes_per_beat)
            val.append(np.nan if rng.random() < self.cond_dropout else v)
            aro.append(np.nan if rng.random() < self.cond_dropout else a)
            drop_key = not self.use_key or rng.random() < self.cond_dropout
            keys.append(-1 if drop_key else example.key)
        tokens = np.stack(rows)
        offsets = np.stack(offs)
        return Batch(
            inputs=tokens[:, :-1],
            targets=tokens[:, 1:],
            offsets=offsets[:, :-1],
            plan=np.stack(plans)[:, :-1],
            valence=np.array(val, dtype=np.float32),
            arousal=np.array(aro, dtype=np.float32),
            key=np.array(keys, dtype=np.int64),
        )

    def fixed_batches(self, batch_size: int, n_batches: int) -> list[Batch]:
        """Deterministic evaluation batches: windows at each example's start, conditions on."""
        batches = []
        order = list(range(len(self.examples)))[: batch_size * n_batches]
        for i in range(0, len(order), batch_size):
            chunk = order[i : i + batch_size]
            pieces = [self.window(j, 0) for j in chunk]
            tokens = np.stack([p[0] for p in pieces])
            offsets = np.stack([p[1] for p in pieces])
            plans = np.stack([p[2] for p in pieces])
            batches.append(
                Batch(
                    inputs=tokens[:, :-1],
                    targets=tokens[:, 1:],
                    offsets=offsets[:, :-1],
                    plan=plans[:, :-1],
                    valence=np.array(
                        [self.scale.valence(self.examples[j].mode) for j in chunk], np.float32
                    ),
                    arousal=np.array(
                        [self.scale.arousal(self.examples[j].notes_per_beat) for j in chunk],
                        np.float32,
                    ),
                    key=np.array(
                        [self.examples[j].key if self.use_key else -1 for j in chunk], np.int64
                    ),
                )
            )
        return batches
