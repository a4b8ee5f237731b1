"""Compose music for a duration, an emotion (constant or per segment) and a list of cuts.

This is the music half of the pipeline: validate the request, load the model once, plan the
piece (tempo map with bar lines on the cuts, keys, chords), generate on the plan, add the drum
part, and shape the MIDI (velocities follow arousal; chords struck on cuts are accented as in
EMSYNC; the file carries the tempo map, meter, keys and a marker per cut).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vemidi.config import MAX_DURATION_S, CutConfig, PlanConfig, SamplingConfig, check_range
from vemidi.errors import InvalidInputError
from vemidi.music.boundaries import thin_cuts
from vemidi.types import EmotionSegment

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ComposeRequest:
    """Everything that decides a piece.

    Attributes:
        duration_s: length of the piece in seconds (0 < duration <= 30 min).
        segments: emotion segments in time order; the first starts at 0 and they may not
            overlap. A single segment means one mood for the whole piece.
        cuts_s: boundary times in seconds, sorted, inside (0, duration); thinned with
            ``cut_config.min_gap_s`` before generation.
        sampling: sampling settings.
        cut_config: cut thinning, tolerance and horizon.
        plan_config: tempo, meter and percussion choices.
        more_instruments: EMSYNC's instrument-count control.
        model: a music model name or checkpoint path (None = the default model).
    """

    duration_s: float
    segments: tuple[EmotionSegment, ...]
    cuts_s: tuple[float, ...] = ()
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    cut_config: CutConfig = field(default_factory=CutConfig)
    plan_config: PlanConfig = field(default_factory=PlanConfig)
    more_instruments: bool = True
    model: str | None = None

    def __post_init__(self) -> None:
        check_range("duration_s", self.duration_s, 1e-3, MAX_DURATION_S)
        if not self.segments:
            raise InvalidInputError("at least one emotion segment is needed.")
        if self.segments[0].start_s != 0.0:
            raise InvalidInputError(
                f"the first segment must start at 0 s, got {self.segments[0].start_s:g} s."
            )
        for before, after in zip(self.segments, self.segments[1:], strict=False):
            if after.start_s < before.end_s - 1e-6 or after.start_s <= before.start_s:
                raise InvalidInputError(
                    f"segments must be in time order without overlap; {after.start_s:g} s "
                    f"starts before {before.end_s:g} s ends."
                )
        if list(self.cuts_s) != sorted(self.cuts_s):
            raise InvalidInputError(f"cuts must be sorted, got {list(self.cuts_s)}.")
        for cut in self.cuts_s:
            if not 0.0 < cut < self.duration_s:
                raise InvalidInputError(
                    f"cut {cut:g} s is outside the piece (0 to {self.duration_s:g} s)."
                )

    @classmethod
    def constant(
        cls, duration_s: float, valence: float, arousal: float, **kwargs
    ) -> ComposeRequest:
        """A request with one mood for the whole duration."""
        check_range("valence", valence, -1.0, 1.0)
        check_range("arousal", arousal, -1.0, 1.0)
        check_range("duration_s", duration_s, 1e-3, MAX_DURATION_S)
        return cls(duration_s, (EmotionSegment(0.0, duration_s, valence, arousal),), **kwargs)

    def mean_arousal(self) -> float:
        """Duration-weighted arousal over the segments (0 where arousal is unconditioned)."""
        total = weight = 0.0
        for seg in self.segments:
            length = min(seg.end_s, self.duration_s) - seg.start_s
            if length > 0 and not math.isnan(seg.arousal):
                total += seg.arousal * length
                weight += length
        return total / weight if weight else 0.0


@dataclass(frozen=True)
class Composition:
    """A composed piece: the generation result, the drum hits, the MIDI and the model."""

    request: ComposeRequest
    model_name: str
    result: object  # vemidi.music.generate.GenerationResult
    midi: object  # pretty_midi.PrettyMIDI
    n_drum_hits: int = 0

    @property
    def plan(self) -> object:
        """The piece's :class:`vemidi.music.plan.Plan`."""
        return self.result.plan

    def summary(self) -> dict:
        """JSON-ready record of the piece: model, conditions, plan, notes, cuts."""
        from vemidi.music.keys import key_name

        r = self.result
        return {
            "model": self.model_name,
            "duration_s": round(r.duration_s, 3),
            "segments": [
                {
                    "start_s": s.start_s,
                    "end_s": s.end_s,
                    "valence": None if math.isnan(s.valence) else s.valence,
                    "arousal": None if math.isnan(s.arousal) else s.arousal,
                }
                for s in self.request.segments
            ],
            "tempo_bpm": r.plan.base_tempo_bpm,
            "beats_per_bar": r.plan.beats_per_bar,
            "keys": [key_name(k) for k in r.keys],
            "chords": [c.name for c in r.plan.chords],
            "plan": r.plan.to_dict(),
            "sampling": self.request.sampling.__dict__,
            "more_instruments": self.request.more_instruments,
            "n_tokens": len(r.tokens),
            "n_notes": len(r.decoded.notes) + self.n_drum_hits,
            "n_drum_hits": self.n_drum_hits,
            "cuts_requested_s": list(self.request.cuts_s),
            "cuts_targeted_s": [round(t, 3) for t in r.targets_s],
            "cuts_hit_s": [round(t, 3) for t in r.hits_s],
            "cuts_missed_s": [round(t, 3) for t in r.missed_s],
            "cuts_forced_s": [round(t, 3) for t in r.forced_s],
            "chord_times_s": [round(t, 3) for t in r.decoded.chord_times_s],
            "generation_s": round(r.elapsed_s, 3),
        }

    def write_midi(self, path: str | Path) -> None:
        """Write the MIDI file (tempo map, meter, keys, a marker on each cut)."""
        from vemidi.music.midi import write_midi

        write_midi(self.midi, path, self.result.plan)


def plan_for(request: ComposeRequest) -> object:
    """The :class:`vemidi.music.plan.Plan` a request describes (cuts thinned first)."""
    from vemidi.music.plan import build_plan

    config = request.plan_config
    return build_plan(
        request.duration_s,
        request.segments,
        thin_cuts(list(request.cuts_s), request.cut_config.min_gap_s),
        seed=request.sampling.seed,
        tempo_bpm=config.tempo_bpm,
        beats_per_bar=config.beats_per_bar,
        percussion=config.percussion,
    )


def compose(request: ComposeRequest, progress: Progress | None = None) -> Composition:
    """Generate the piece a request describes.

    Raises:
        ModelLoadError: the requested model is unknown or unreadable.
    """
    from vemidi.music.drums import drum_notes, drum_part
    from vemidi.music.generate import generate
    from vemidi.music.midi import DEFAULT_VELOCITY, to_pretty_midi
    from vemidi.weights import load_music_model

    loaded = load_music_model(request.model)
    plan = plan_for(request)
    result = generate(
        loaded.model,
        plan,
        list(request.segments),
        sampling=request.sampling,
        more_instruments=request.more_instruments,
        horizon_s=request.cut_config.horizon_s,
        progress=progress,
    )
    drums = drum_notes(plan, drum_part(plan))
    # Dynamics follow arousal: +-16 velocity steps around EMSYNC's 80.
    velocity = round(DEFAULT_VELOCITY + 16 * request.mean_arousal())
    midi = to_pretty_midi(result.decoded, plan, base_velocity=velocity, drums=drums)
    return Composition(request, loaded.name, result, midi, len(drums))
