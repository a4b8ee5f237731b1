"""Keys for valence: which key a mood asks for, and the optional decoding-time key prior.

The trained model has a key prefix (tonic + mode, 24 classes: 0-11 major, 12-23 minor, C = 0).
Valence chooses the mode: above ``mode_threshold`` a major key, below minus it a minor key,
otherwise no key (the model picks). The tonic is drawn once per piece from the seed and shared by
every segment, so a mood change moves to the parallel key. This key channel is our addition to
EMSYNC (see the model card): valence alone did not control mode in our CPU-sized model.

The key prior adds ``weight * ln(profile / max(profile))`` of the requested key's
Krumhansl-Kessler profile to the note-on logits of pitched instruments; it is off by default and
measured with and without in the evaluation.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from vemidi.music import tokenizer as tk
from vemidi.music.corpus import KK_MAJOR, KK_MINOR

if TYPE_CHECKING:
    import torch

    from vemidi.music.logits import DecodeState

N_KEYS = 24


def pick_tonic(seed: int) -> int:
    """The piece's tonic pitch class (0 = C), fixed by the seed."""
    return random.Random(seed).randrange(12)


def key_for_valence(valence: float, tonic: int, threshold: float) -> int | None:
    """Key class for a valence (None when valence is missing or near neutral)."""
    if math.isnan(valence) or abs(valence) <= threshold:
        return None
    return tonic % 12 + (0 if valence > 0 else 12)


def key_name(key: int | None) -> str:
    """Readable key, e.g. ``A minor``; ``open`` for none."""
    if key is None:
        return "open"
    names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
    return f"{names[key % 12]} {'major' if key < 12 else 'minor'}"


def _bias_table() -> torch.Tensor:
    """(24, vocab) log-profile bias on pitched note-on tokens, 0 elsewhere."""
    import torch

    table = torch.zeros(N_KEYS, tk.VOCAB_SIZE)
    for key in range(N_KEYS):
        profile = torch.tensor(KK_MAJOR if key < 12 else KK_MINOR, dtype=torch.float32)
        log_profile = torch.log(profile / profile.max())
        for instrument in tk.Instrument:
            if instrument == tk.Instrument.DRUMS:
                continue
            for pitch in range(tk.MIN_PITCH, tk.MAX_PITCH + 1):
                degree = (pitch - key) % 12
                table[key, tk.note_token(tk.ON, instrument, pitch)] = log_profile[degree]
    return table


class KeyPrior:
    """Logit rule: pull pitched note-ons towards the scale of ``key`` (None = inactive)."""

    _table: torch.Tensor | None = None  # built on first use, shared

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.key: int | None = None
        if weight > 0 and KeyPrior._table is None:
            KeyPrior._table = _bias_table()

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.weight > 0 and self.key is not None:
            logits = logits + self.weight * KeyPrior._table[self.key].to(logits.dtype)
        return logits
