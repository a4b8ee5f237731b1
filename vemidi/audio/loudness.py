"""Loudness in LUFS (ITU-R BS.1770 through pyloudnorm) with a true-peak ceiling.

:func:`normalise` sets a piece's integrated loudness to a target (-16 LUFS, the usual web
target, by default; -23 for EBU R128 broadcast; -14 for streaming services) and keeps its true
peak under a ceiling (-1 dBTP). Loud targets push the peaks of dynamic music past the ceiling,
so a look-ahead peak limiter follows the gain; limiting lowers the loudness a little, so gain
and limiter alternate until the loudness is within 0.1 LU of the target.

True peak follows BS.1770-4 Annex 2: the signal is oversampled four times (a 48-tap polyphase
interpolator, as the recommendation suggests) and the largest absolute sample is the peak. AAC
encoding adds a few tenths of a dB of overshoot, so the limiter aims ``CODEC_MARGIN_DB`` under
the ceiling; the muxed MP4 is measured in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vemidi.config import check_range

WEB_LUFS = -16.0
BROADCAST_LUFS = -23.0  # EBU R128
STREAMING_LUFS = -14.0
TRUE_PEAK_DBTP = -1.0
CODEC_MARGIN_DB = 0.5
OVERSAMPLE = 4
_TAPS = 48
_HOLD_S = 0.02  # the limiter holds its gain this long around each peak ...
_SMOOTH_S = 0.01  # ... and ramps over this long: no clicks, no pumping on single peaks


@dataclass(frozen=True)
class Normalised:
    """A normalised signal, the per-sample gain that made it (apply it to stems so they add
    up to the mix), and what was measured after."""

    audio: np.ndarray
    gain: np.ndarray
    loudness_lufs: float
    true_peak_dbtp: float


def integrated_loudness(audio: np.ndarray, sample_rate_hz: int) -> float:
    """BS.1770 integrated loudness in LUFS (-inf for silence or under 0.4 s).

    pyloudnorm's K-weighting filters, then the gating of BS.1770-4 on block energies taken
    from a cumulative sum: pyloudnorm's own ``integrated_loudness`` loops over the 400 ms
    blocks in Python (1.1 s for 30 s of stereo, 22 s for ten minutes); this gives the same
    figure (tests/test_loudness.py) in a tenth of the time.
    """
    import pyloudnorm

    x = np.asarray(audio, dtype=np.float64)
    x = x if x.ndim == 2 else x[:, None]
    block, hop = round(0.4 * sample_rate_hz), 0.1 * sample_rate_hz
    if len(x) < block:
        return float("-inf")
    meter = pyloudnorm.Meter(sample_rate_hz)
    energy = np.zeros(round((len(x) / sample_rate_hz - 0.4) / 0.1) + 1)
    starts = (np.arange(len(energy)) * hop).astype(np.int64)
    ends = np.minimum(len(x), starts + block)
    weights = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770 channel gains (L, R, C, Ls, Rs)
    for ch in range(x.shape[1]):
        y = x[:, ch]
        for stage in meter._filters.values():
            y = stage.apply_filter(y)
        csum = np.concatenate([[0.0], np.cumsum(np.square(y))])
        energy += weights[ch] * (csum[ends] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(energy)
    gated = energy[block_lufs >= -70.0]
    if not gated.size:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    gated = energy[(block_lufs >= -70.0) & (block_lufs > relative)]
    return float(-0.691 + 10 * np.log10(gated.mean())) if gated.size else float("-inf")


def _phases() -> np.ndarray:
    """The interpolation filter (48 taps, as BS.1770-4 Annex 2 suggests), split into its four
    polyphase branches of 12 taps."""
    from scipy.signal import firwin

    taps = firwin(_TAPS, 1.0 / OVERSAMPLE) * OVERSAMPLE
    return taps.reshape(-1, OVERSAMPLE).T.astype(np.float32)


def sample_peaks(audio: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value of the 4x oversampled signal at it (over
    all channels); the filter's delay is taken out so peaks line up with their samples."""
    from scipy.signal import oaconvolve

    x = audio if audio.ndim == 2 else audio[:, None]
    n = len(x)
    peaks = np.abs(x).max(axis=1).astype(np.float32)
    delay = (_TAPS - 1) // (2 * OVERSAMPLE)
    for phase in _phases():
        for ch in range(x.shape[1]):
            y = np.abs(oaconvolve(x[:, ch], phase)[delay : delay + n])
            np.maximum(peaks[: len(y)], y, out=peaks[: len(y)])
    return peaks


def true_peak_dbtp(audio: np.ndarray) -> float:
    """True peak in dBTP (BS.1770-4 Annex 2; -inf for silence)."""
    if not len(audio):
        return float("-inf")
    peak = float(sample_peaks(audio).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def limiter_gain(audio: np.ndarray, ceiling_dbtp: float, sample_rate_hz: int) -> np.ndarray:
    """A smooth per-sample gain (<= 1) that keeps the true peak under ``ceiling_dbtp``.

    The gain each sample needs is held over ``_HOLD_S`` either side (a look-ahead: it falls
    before the peak) and averaged over ``_SMOOTH_S``; an average of values none above the
    need at a peak stays under it.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_dbtp / 20)
    need = np.minimum(1.0, ceiling / np.maximum(sample_peaks(audio), 1e-12)).astype(np.float32)
    if need.min() >= 1.0:
        return np.ones(len(audio), dtype=np.float32)
    hold = max(1, round(_HOLD_S * sample_rate_hz))
    smooth = max(1, min(hold, round(_SMOOTH_S * sample_rate_hz)))
    held = minimum_filter1d(need, size=2 * hold + 1, mode="nearest")
    return uniform_filter1d(held, size=smooth, mode="nearest")


def normalise(
    audio: np.ndarray,
    sample_rate_hz: int,
    target_lufs: float = WEB_LUFS,
    ceiling_dbtp: float = TRUE_PEAK_DBTP,
    rounds: int = 4,
) -> Normalised:
    """``audio`` at ``target_lufs`` integrated loudness with its true peak under
    ``ceiling_dbtp`` (aiming ``CODEC_MARGIN_DB`` lower; see the module docstring).

    Silence and clips too short to measure are returned unchanged (gain 1).
    """
    check_range("loudness target (LUFS)", target_lufs, -40.0, -6.0)
    check_range("true-peak ceiling (dBTP)", ceiling_dbtp, -12.0, 0.0)
    gain = np.ones(len(audio), dtype=np.float32)
    loudness = integrated_loudness(audio, sample_rate_hz)
    if not np.isfinite(loudness):
        return Normalised(audio, gain, loudness, true_peak_dbtp(audio))
    out = audio
    for _ in range(rounds):
        step = np.float32(10 ** ((target_lufs - loudness) / 20))
        gain *= step
        out = audio * gain[:, None] if audio.ndim == 2 else audio * gain
        limit = limiter_gain(out, ceiling_dbtp - CODEC_MARGIN_DB, sample_rate_hz)
        if limit.min() < 1.0:
            gain *= limit
            out = audio * gain[:, None] if audio.ndim == 2 else audio * gain
        loudness = integrated_loudness(out, sample_rate_hz)
        if abs(loudness - target_lufs) <= 0.1:
            break
    out = out.astype(np.float32, copy=False)
    return Normalised(out, gain, loudness, true_peak_dbtp(out))
