"""Generation on a plan: exact duration, determinism, grammar, struck cut chords, clean surface."""

from __future__ import annotations

import dataclasses
import math

import pretty_midi
import pytest
import torch

from vemidi.config import SamplingConfig
from vemidi.errors import VemidiError
from vemidi.music import tokenizer as tk
from vemidi.music.boundaries import offset_input, thin_cuts
from vemidi.music.compose import ComposeRequest, compose
from vemidi.music.generate import generate
from vemidi.music.logits import REGISTERS, DecodeState, Sampler, default_rules
from vemidi.music.plan import build_plan
from vemidi.training import measures
from vemidi.types import EmotionSegment

P, B = tk.Instrument.PIANO, tk.Instrument.BASS


def _one(duration_s: float, valence: float = 0.5, arousal: float = 0.5) -> list[EmotionSegment]:
    return [EmotionSegment(0.0, duration_s, valence, arousal)]


def _piece(model, duration_s, cuts=(), seed=0, segments=None, **sampling):
    segments = segments or _one(duration_s)
    plan = build_plan(duration_s, segments, list(cuts), seed=seed)
    return generate(model, plan, segments, SamplingConfig(seed=seed, **sampling))


def _masked(state: DecodeState, config: SamplingConfig | None = None) -> torch.Tensor:
    logits = torch.zeros(tk.VOCAB_SIZE)
    for rule in default_rules(config or SamplingConfig()):
        logits = rule(logits, state)
    return torch.isinf(logits)


def test_piece_ends_exactly_at_duration(debug_model, tmp_path):
    request = ComposeRequest.constant(9.37, 0.4, -0.2, model="debug", cuts_s=(3.0, 7.0))
    piece = compose(request)
    path = tmp_path / "piece.mid"
    piece.write_midi(path)
    midi = pretty_midi.PrettyMIDI(str(path))
    assert abs(midi.get_end_time() - 9.37) <= 0.01
    assert all(n.end <= 9.37 + 1e-6 for inst in midi.instruments for n in inst.notes)
    assert piece.summary()["n_notes"] > 0


def test_same_seed_same_tokens_other_seed_differs(debug_model):
    runs = [_piece(debug_model, 6.0, seed=s).tokens for s in (11, 11, 12)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_grammar_and_clean_surface_hold_on_generated_tokens(debug_model):
    result = _piece(debug_model, 20.0, cuts=[6.0, 13.0], seed=3)
    body = result.tokens[1:]
    assert not {tk.PAD, tk.START, tk.BAR, tk.LESS_INSTRUMENTS, tk.MORE_INSTRUMENTS} & set(body)
    sounding: dict[tuple, int] = {}  # (instrument, pitch) -> onset tick
    now = 0
    for token in body:
        if tk.is_shift(token):
            now += tk.shift_ticks(token)
        elif tk.is_note(token):
            kind, instrument, pitch = tk.note_parts(token)
            assert instrument != tk.Instrument.DRUMS  # drums come from the pattern library
            if kind == tk.ON:
                assert (instrument, pitch) not in sounding
                others = [t for (i, p), t in sounding.items() if p == pitch]
                assert all(t == now for t in others), "unison with a note struck earlier"
                if instrument == B:
                    assert not any(i == B for i, _ in sounding), "bass must be monophonic"
                sounding[(instrument, pitch)] = now
            else:
                sounding.pop((instrument, pitch), None)
    notes = result.decoded.notes
    assert all(n.end_s <= 20.0 + 1e-9 for n in notes)
    for n in notes:  # registers: bass E1-C4, piano C2-C5, guitar and strings C2-G5
        low, high = REGISTERS[n.instrument]
        assert low <= n.pitch <= high, n
    assert measures.short_note_share(notes) == 0.0  # a sixteenth is >= 100 ms at these tempi
    assert measures.unison_doubling_share(notes) <= 0.08 + 1e-9  # the budget
    assert measures.polyphony(notes, 20.0) >= 3.0  # the texture floor
    _, longest = measures.silence(notes, 20.0)
    assert longest <= 60.0 / result.plan.sections[0].tempo_bpm * 1.5 + 0.02
    # every onset is on the plan's sixteenth grid (to the millisecond)
    for note in notes:
        beat = result.plan.sections[0].start_beat  # find the section by time
        for section in result.plan.sections:
            if section.start_s <= note.start_s + 1e-9:
                beat = section.start_beat + (note.start_s - section.start_s) / (
                    section.seconds_per_beat
                )
        assert abs(beat * 4 - round(beat * 4)) < 1e-3


def test_rules_mask_logits():
    state = DecodeState()
    config = SamplingConfig(min_sounding_notes=0)
    off = tk.note_token(tk.OFF, P, 60)
    masked = _masked(state, config)
    assert masked[off] and masked[tk.PAD] and masked[tk.CHORD]
    assert not masked[tk.note_token(tk.ON, P, 72)] and masked[tk.note_token(tk.ON, P, 73)]
    strings = tk.Instrument.STRINGS
    assert (
        not masked[tk.note_token(tk.ON, strings, 79)] and masked[tk.note_token(tk.ON, strings, 80)]
    )
    assert masked[tk.note_token(tk.ON, tk.Instrument.DRUMS, 36)]
    state.update(tk.note_token(tk.ON, P, 60), config)
    masked = _masked(state, config)
    assert masked[off]  # no zero-length note
    assert masked[tk.note_token(tk.ON, P, 60)]
    assert masked[tk.note_token(tk.ON, tk.Instrument.STRINGS, 60)]  # no unison doubling
    assert not masked[tk.note_token(tk.ON, tk.Instrument.STRINGS, 72)]  # octaves are fine
    state.update(tk.note_token(tk.ON, B, 36), config)
    assert _masked(state, config)[tk.note_token(tk.ON, B, 43)]  # one bass note at a time
    state.update(tk.shift_token(2), config)
    assert not _masked(state, config)[off]


def test_silence_is_at_most_a_beat():
    config = SamplingConfig(max_silence_beats=1.0, min_sounding_notes=0)
    state = DecodeState()
    state.update(tk.note_token(tk.ON, P, 60), config)
    state.update(tk.shift_token(2), config)
    state.update(tk.note_token(tk.OFF, P, 60), config)  # silent from tick 2
    masked = _masked(state, config)
    assert not masked[tk.shift_token(4)] and masked[tk.shift_token(5)]
    state.update(tk.shift_token(4), config)
    masked = _masked(state, config)
    assert masked[tk.SHIFT_BASE : tk.NOTE_BASE].all()  # a note must start now


def test_texture_floor_keeps_three_notes_sounding():
    config = SamplingConfig(min_sounding_notes=3)
    state = DecodeState()
    for pitch in (48, 60):
        state.update(tk.note_token(tk.ON, P, pitch), config)
    assert _masked(state, config)[tk.SHIFT_BASE : tk.NOTE_BASE].all()  # two are not enough
    state.update(tk.note_token(tk.ON, P, 64), config)
    assert not _masked(state, config)[tk.shift_token(2)]


def test_notes_held_too_long_are_released_first():
    config = SamplingConfig(max_note_beats=2.0, min_sounding_notes=0)
    state = DecodeState()
    state.update(tk.note_token(tk.ON, tk.Instrument.STRINGS, 50), config)
    state.update(tk.shift_token(9), config)
    masked = _masked(state, config)
    allowed = torch.nonzero(~masked).flatten().tolist()
    assert allowed == [tk.note_token(tk.OFF, tk.Instrument.STRINGS, 50)]


def test_cut_releases_then_strikes_the_planned_chord():
    from vemidi.music import harmony

    config = SamplingConfig(chord_min_notes=3, min_sounding_notes=0)
    state = DecodeState(chord=harmony.chord_id(7, "maj"), next_cut_ticks=8)  # G major at tick 8
    state.update(tk.note_token(tk.ON, P, 64), config)
    assert _masked(state, config)[tk.shift_token(9)]  # time may not pass the cut
    state.update(tk.shift_token(8), config)
    allowed = torch.nonzero(~_masked(state, config)).flatten().tolist()
    assert allowed == [tk.note_token(tk.OFF, P, 64)]  # release first
    state.update(allowed[0], config)
    assert torch.nonzero(~_masked(state, config)).flatten().tolist() == [tk.CHORD]
    state.update(tk.CHORD, config)
    allowed = torch.nonzero(~_masked(state, config)).flatten().tolist()
    assert allowed and all(
        tk.note_parts(t)[1] == B and tk.note_parts(t)[2] % 12 == 7 for t in allowed
    )
    state.update(tk.note_token(tk.ON, B, 43), config)
    allowed = torch.nonzero(~_masked(state, config)).flatten().tolist()
    assert allowed and all(tk.note_parts(t)[2] % 12 in (7, 11, 2) for t in allowed)
    for pitch in (59, 62):
        state.update(tk.note_token(tk.ON, P, pitch), config)
    state.update(tk.shift_token(2), config)
    masked = _masked(state, config)
    assert masked[tk.note_token(tk.OFF, P, 59)]  # held for chord_hold_beats
    state.update(tk.shift_token(8), config)
    assert not _masked(state, config)[tk.note_token(tk.OFF, P, 59)]


def test_sampler_is_seeded_and_respects_top_k():
    logits = torch.linspace(0, 5, tk.VOCAB_SIZE)
    a = [Sampler(SamplingConfig(seed=3, top_k=2, top_p=1.0))(logits.clone()) for _ in range(5)]
    assert set(a) <= {tk.VOCAB_SIZE - 1, tk.VOCAB_SIZE - 2}
    b = [Sampler(SamplingConfig(seed=3, top_k=2, top_p=1.0))(logits.clone()) for _ in range(5)]
    assert a == b


def test_repetition_penalty_raises_temperature_on_narrow_steps():
    sampler = Sampler(SamplingConfig(temperature=1.0, top_p=0.5, repetition_penalty=0.4))
    peaked = torch.full((tk.VOCAB_SIZE,), -20.0)
    peaked[7] = 10.0
    for _ in range(10):
        sampler(peaked.clone())
    assert sampler.temperature() > 1.0


def test_cut_thinning_and_offsets():
    assert thin_cuts([1.0, 2.0, 5.5, 6.0, 10.0], 4.0) == [1.0, 5.5, 10.0]
    assert offset_input(math.inf, 8.0) == 0.0
    assert offset_input(2.0, 8.0) == 6.0


def test_every_cut_gets_a_struck_chord_on_the_frame(debug_model):
    cuts = [2.5, 7.0, 11.0, 15.5]
    on = _piece(debug_model, 18.0, cuts=cuts, seed=4)
    assert on.hits_s == pytest.approx(cuts) and not on.missed_s
    strikes = measures.struck_chords(on.decoded.notes)
    for cut in cuts:
        assert min(abs(s - cut) for s in strikes) <= 0.001
        beat = next(s.start_beat for s in on.plan.sections if abs(s.start_s - cut) < 1e-6)
        root = on.plan.chord_at(beat).chord % 12
        assert measures.strike_has_root_bass(on.decoded.notes, cut, root)
    alone = [_piece(debug_model, 18.0, cuts=cuts, seed=s, cut_chords=False) for s in range(2)]
    assert all(not r.hits_s and r.missed_s == pytest.approx(cuts) for r in alone)


def test_harmony_prior_prefers_chord_then_scale_tones():
    from vemidi.music import harmony
    from vemidi.music.logits import HarmonyPrior

    state = DecodeState(chord=harmony.chord_id(0, "maj"), key=0)
    out = HarmonyPrior(1.0)(torch.zeros(tk.VOCAB_SIZE), state)
    e, d, c_sharp = (out[tk.note_token(tk.ON, P, p)] for p in (64, 62, 61))
    assert e == 0.0 and -1.5 < d < 0.0 and c_sharp < d


def _heard(pitches: tuple[int, ...], beats: float, **state) -> tuple:
    """A TonalAnchor that has heard ``pitches`` (piano) sound for ``beats``, and the state."""
    from vemidi.music.logits import TonalAnchor

    anchor, s = TonalAnchor(1.0), DecodeState(**state)
    for p in pitches:
        s.sounding[int(P) * tk.N_PITCHES + p - tk.MIN_PITCH] = True
    anchor(torch.zeros(tk.VOCAB_SIZE), s)  # time 0: nothing heard yet
    s.time_ticks = round(beats * tk.TICKS_PER_BEAT)
    return anchor, s


def _tilted(anchor, state) -> dict[int, float]:
    """Pitch classes whose piano note-ons the anchor raised, and by how much."""
    out = anchor(torch.zeros(tk.VOCAB_SIZE), state)
    on = out[tk.note_token(tk.ON, P, 48) : tk.note_token(tk.ON, P, 48) + 12]
    drums = [out[tk.note_token(tk.ON, tk.Instrument.DRUMS, p)] for p in range(48, 60)]
    assert all(d == 0.0 for d in drums)  # drums are never tilted
    return {(48 + i) % 12: float(v) for i, v in enumerate(on) if v != 0.0}


def test_tonal_anchor_pulls_back_only_music_that_drifts_from_its_mode():
    from vemidi.music import harmony
    from vemidi.music.keys import mode_strength
    from vemidi.music.logits import ANCHOR_GAIN, ANCHOR_MAX

    c_major, a_minor = harmony.chord_id(0, "maj"), harmony.chord_id(9, "min")
    major = {"key": 0, "chord": c_major, "mode": "major", "valence": 0.8}
    # A C-major section whose music so far spells A minor: the tonic and fifth are raised, by
    # the gain times the shortfall from the plan's target (capped).
    anchor, state = _heard((57, 60, 64), 8, **major)
    weights = [1.0 if pc in (0, 4, 9) else 0.0 for pc in range(12)]
    shortfall = harmony.MODE_PER_VALENCE * 0.8 - mode_strength(range(12), weights)
    tilt = _tilted(anchor, state)
    assert set(tilt) == {0, 7}
    assert tilt[0] == pytest.approx(min(ANCHOR_MAX, ANCHOR_GAIN * shortfall), rel=1e-4)
    # Music that already reads major, or not enough heard yet, or no valence: left alone.
    assert _tilted(*_heard((60, 64, 67, 72), 8, **major)) == {}
    assert _tilted(*_heard((57, 60, 64), 1, **major)) == {}  # 3 note-beats
    assert _tilted(*_heard((57, 60, 64), 8, **{**major, "valence": math.nan})) == {}
    off, state = _heard((57, 60, 64), 8, **major)
    off.weight = 0.0
    assert torch.equal(off(torch.zeros(tk.VOCAB_SIZE), state), torch.zeros(tk.VOCAB_SIZE))
    cut, state = _heard((57, 60, 64), 8, **major)
    state.section_start_ticks = state.time_ticks  # a new section (a cut): it listens afresh
    assert _tilted(cut, state) == {} and cut.heard.sum() == 0
    # An A-minor section that spells C major: its tonic; over E major nothing (the tonic A
    # would clash with the chord's G#).
    minor = {"key": 21, "chord": a_minor, "mode": "minor", "valence": -0.8}
    assert set(_tilted(*_heard((60, 64, 67, 72), 8, **minor))) == {9}
    e_major = harmony.chord_id(4, "maj")
    assert _tilted(*_heard((60, 64, 67, 72), 8, **{**minor, "chord": e_major})) == {}
    # A D-Dorian section at valence 0 that reads D minor gets its major sixth (B, over a
    # G-major chord); one that reads major (F major) its tonic.
    dorian = {"key": 14, "chord": harmony.chord_id(7, "maj"), "mode": "dorian", "valence": 0.0}
    assert set(_tilted(*_heard((62, 65, 69, 74), 8, **dorian))) == {11}
    f_major = {**dorian, "chord": harmony.chord_id(2, "min")}
    assert set(_tilted(*_heard((65, 69, 72, 77), 8, **f_major))) == {2}


def test_density_prior_changes_step_lengths_not_how_often_time_moves():
    from vemidi.music.logits import DensityPrior

    torch.manual_seed(0)
    base = torch.randn(tk.VOCAB_SIZE)
    shifts = slice(tk.SHIFT_BASE, tk.NOTE_BASE)
    ticks = torch.arange(1, tk.NOTE_BASE - tk.SHIFT_BASE + 1, dtype=torch.float32)
    mean_step = {}
    for arousal in (-0.8, 0.8):
        p = torch.softmax(DensityPrior(1.0)(base.clone(), DecodeState(arousal=arousal)), 0)
        before = float(torch.softmax(base, 0)[shifts].sum())
        assert float(p[shifts].sum()) == pytest.approx(before, rel=1e-4)
        mean_step[arousal] = float((p[shifts] * ticks).sum() / p[shifts].sum())
    assert mean_step[0.8] < mean_step[-0.8]  # excited: shorter steps between events
    off = DensityPrior(1.0)  # arousal NaN (unconditioned): no change
    assert torch.equal(off(base.clone(), DecodeState()), base)


def test_segments_switch_condition(debug_model):
    two = [EmotionSegment(0.0, 5.0, 0.8, -0.8), EmotionSegment(5.0, 10.0, 0.8, 0.8)]
    one = [EmotionSegment(0.0, 10.0, 0.8, -0.8)]
    plan = build_plan(10.0, one, [], seed=4)
    a = generate(debug_model, plan, two, SamplingConfig(seed=4))
    b = generate(debug_model, plan, one, SamplingConfig(seed=4))

    def onsets(result):
        notes = result.decoded.notes  # sorted: doubled notes struck together may swap places
        return sorted((n.start_s, n.pitch, n.instrument) for n in notes if n.start_s < 4.5)

    assert onsets(a) == onsets(b)  # identical until the condition switches
    assert a.tokens != b.tokens


def test_long_piece_slides_the_window(debug_model):
    seen = []
    segments = _one(40.0, 0.5, 0.9)
    plan = build_plan(40.0, segments, [], seed=0)
    result = generate(debug_model, plan, segments, progress=lambda f, _m: seen.append(f))
    context = dataclasses.asdict(debug_model.cfg)["context"]
    assert len(result.tokens) > context  # the window was re-encoded at least once
    assert result.decoded.duration_s == pytest.approx(40.0)
    assert seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration_s": 0.0, "valence": 0.0, "arousal": 0.0},
        {"duration_s": 4000.0, "valence": 0.0, "arousal": 0.0},
        {"duration_s": 10.0, "valence": 1.5, "arousal": 0.0},
        {"duration_s": 10.0, "valence": 0.0, "arousal": 0.0, "cuts_s": (5.0, 2.0)},
        {"duration_s": 10.0, "valence": 0.0, "arousal": 0.0, "cuts_s": (12.0,)},
    ],
)
def test_bad_requests_raise_vemidi_error(kwargs):
    with pytest.raises(VemidiError):
        ComposeRequest.constant(**kwargs)


def test_unknown_model_lists_names():
    with pytest.raises(VemidiError, match="debug"):
        compose(ComposeRequest.constant(5.0, 0.0, 0.0, model="no-such-model"))


@torch.inference_mode()
def test_guidance_pushes_logits_away_from_the_unconditioned_model(debug_model):
    """With guidance g the sampler sees u + g (c - u): c conditioned on valence and arousal, u
    on neither (the same key, tokens and plan inputs); g = 1 is the conditioned model alone."""
    from vemidi.music.generate import _Window

    tokens, offsets, plans = [tk.MORE_INSTRUMENTS, tk.SHIFT_BASE + 3], [0.0, 0.5], [(0, 5)] * 2
    nan = float("nan")
    cond = debug_model.condition_vectors(
        torch.tensor([0.7, nan]), torch.tensor([-0.6, nan]), torch.tensor([3, 3])
    )

    def direct(row: int, extra: int) -> torch.Tensor:
        toks, offs, plns = tokens + [tk.SHIFT_BASE + 1] * extra, offsets + [0.6] * extra, plans
        return debug_model(
            torch.tensor([toks]),
            torch.tensor([offs]),
            cond=cond[row : row + 1],
            plan=torch.tensor([plns + [(1, 5)] * extra]),
        )[0, -1]

    for extra in (0, 1):
        assert not torch.allclose(direct(0, extra), direct(1, extra))
    for guidance in (1.0, 2.5):
        window = _Window(debug_model, tk.MORE_INSTRUMENTS, guidance)
        got = [
            window.encode(tokens, offsets, plans, cond),
            window.step(tk.SHIFT_BASE + 1, 0.6, (1, 5)),  # the cache keeps both streams
        ]
        for extra, logits in enumerate(got):
            c, u = direct(0, extra), direct(1, extra)
            assert torch.allclose(logits, u + guidance * (c - u), atol=1e-4)


def test_unison_doubling_only_struck_together_and_within_budget():
    S = tk.Instrument.STRINGS
    config = SamplingConfig(min_sounding_notes=0, max_unison_share=0.5)
    state = DecodeState()
    for pitch in (60, 64, 67):
        state.update(tk.note_token(tk.ON, P, pitch), config)
    assert not _masked(state, config)[tk.note_token(tk.ON, S, 60)]  # struck together: allowed
    assert _masked(state, SamplingConfig(min_sounding_notes=0))[tk.note_token(tk.ON, S, 60)]
    state.update(tk.note_token(tk.ON, S, 60), config)
    assert (state.onsets, state.doublings) == (4, 1)
    assert _masked(state, config)[tk.note_token(tk.ON, tk.Instrument.GUITAR, 64)]  # over budget
    state.update(tk.shift_token(2), config)
    for pitch in (72, 76, 79, 83):
        state.update(tk.note_token(tk.ON, S, pitch), config)
    assert _masked(state, config)[tk.note_token(tk.ON, tk.Instrument.GUITAR, 64)]  # held: no


def test_phrase_breath_holds_onsets_back_and_lands_on_the_downbeat():
    config = SamplingConfig(
        min_sounding_notes=3, breath_beats=1.0, held_breath_beats=0.0, max_silence_beats=1.0
    )
    state = DecodeState()
    state.update(tk.note_token(tk.ON, P, 60), config)
    state.update(tk.shift_token(4), config)  # tick 4; the phrase ends at tick 8
    state.next_breath_ticks = 8
    masked = _masked(state, config)
    assert masked[tk.note_token(tk.ON, P, 64)]  # no new onset in the last beat
    assert not masked[tk.shift_token(4)] and masked[tk.shift_token(5)]  # time moves, to 8
    state.next_breath_ticks = 12  # two beats away: the phrase still runs
    assert not _masked(state, config)[tk.note_token(tk.ON, P, 64)]
    quiet = DecodeState(silent_since_ticks=0, time_ticks=4, next_breath_ticks=8)
    assert not _masked(quiet, config)[tk.note_token(tk.ON, P, 64)]  # a rest over a beat: no


def test_phrase_breath_hold_keeps_the_chord_and_releases_the_rest():
    from vemidi.music import harmony

    strings = tk.Instrument.STRINGS
    held = SamplingConfig(breath_beats=1.0, held_breath_beats=2.0, max_silence_beats=1.0)
    state = DecodeState(chord=harmony.chord_id(0, "maj"))  # C major is planned
    for instrument, pitch in ((P, 60), (P, 64), (strings, 62)):  # C and E, and a stray D
        state.update(tk.note_token(tk.ON, instrument, pitch), held)
    state.update(tk.shift_token(4), held)
    state.next_breath_ticks = 12  # two beats left: the whole breath but its last half beat
    masked = _masked(state, held)
    assert not masked[tk.note_token(tk.OFF, strings, 62)]  # the stray tone goes first,
    assert masked[tk.shift_token(1)] and masked[tk.note_token(tk.OFF, P, 60)]  # nothing else
    unheld = SamplingConfig(breath_beats=2.0, held_breath_beats=0.0)
    assert not _masked(state, unheld)[tk.note_token(tk.OFF, P, 60)]  # left to the model
    state.arousal = -0.8  # calm: the shorter breath, not held
    masked = _masked(state, held)
    assert not masked[tk.note_token(tk.OFF, P, 60)] and not masked[tk.note_token(tk.ON, P, 67)]
    state.arousal = float("nan")  # no arousal given: held
    assert _masked(state, held)[tk.note_token(tk.OFF, P, 60)]
    state.update(tk.note_token(tk.OFF, strings, 62), held)
    masked = _masked(state, held)
    assert masked[tk.note_token(tk.OFF, P, 60)] and masked[tk.note_token(tk.OFF, P, 64)]  # held
    assert masked[tk.note_token(tk.ON, P, 67)] and not masked[tk.shift_token(1)]  # time moves
    state.update(tk.shift_token(tk.TICKS_PER_BEAT + tk.TICKS_PER_BEAT // 2), held)
    assert not _masked(state, held)[tk.note_token(tk.OFF, P, 60)]  # the last half beat: free
    no_chord = DecodeState(chord=harmony.NO_CHORD, time_ticks=4, next_breath_ticks=12)
    no_chord.update(tk.note_token(tk.ON, strings, 62), held)
    no_chord.update(tk.shift_token(1), held)
    assert _masked(no_chord, held)[tk.note_token(tk.OFF, strings, 62)]  # no plan: all held


def test_phrases_end_every_n_bars_and_on_cuts():
    from vemidi.music.generate import _phrase_ends

    plan = build_plan(24.0, _one(24.0, arousal=0.0), [10.0], seed=0)
    ends = _phrase_ends(plan, 4, [plan.cut_beats[0] * tk.TICKS_PER_BEAT])
    starts = [s.start_beat for s in plan.sections]
    assert plan.cut_beats[0] * tk.TICKS_PER_BEAT in ends
    for section, nxt in zip(plan.sections, [*starts[1:], plan.total_beats], strict=True):
        bars = [b.start_beat for b in plan.bars if section.start_beat <= b.start_beat < nxt]
        for i, beat in enumerate(bars):
            phrase_end = i > 0 and i % 4 == 0
            on_cut = i == 0 and beat in plan.cut_beats
            assert (beat * tk.TICKS_PER_BEAT in ends) == (phrase_end or on_cut)
    assert _phrase_ends(plan, 0, []) == []


@torch.inference_mode()
def test_guidance_can_leave_the_key_out_of_the_unconditioned_stream(debug_model):
    from vemidi.music.generate import stream_conditions

    nan = float("nan")
    for guidance_key, null_key in ((False, 7), (True, -1)):
        got = stream_conditions(debug_model, 0.5, -0.3, 7, guidance_key)
        want = debug_model.condition_vectors(
            torch.tensor([0.5, nan]), torch.tensor([-0.3, nan]), torch.tensor([7, null_key])
        )
        assert torch.equal(got, want)
    default = _piece(debug_model, 6.0, cuts=[3.0], seed=4)
    keyless = _piece(debug_model, 6.0, cuts=[3.0], seed=4, guidance_key=True)
    assert keyless.decoded.notes != default.decoded.notes  # a different push, other music
    assert keyless.hits_s == keyless.targets_s


def test_guidance_off_decodes_one_stream(debug_model):
    result = _piece(debug_model, 6.0, cuts=[3.0], seed=2, guidance=1.0)
    assert result.decoded.notes and result.hits_s == result.targets_s


def test_model_arousal_input_is_mapped_and_clipped(debug_model):
    from vemidi.music.generate import model_arousal

    assert model_arousal(0.8, 0.6, -0.4) == pytest.approx(0.08)
    assert model_arousal(-0.8, 0.6, -0.4) == pytest.approx(-0.88)
    assert model_arousal(-0.9, 1.0, -0.4) == -1.0  # clipped to the labels' range
    assert math.isnan(model_arousal(float("nan"), 0.6, -0.4))  # no condition stays none
    calm = _one(6.0, 0.5, -0.6)
    same = {"arousal_input_scale": 1.0, "arousal_input_shift": 0.0}
    plain = _piece(debug_model, 6.0, seed=3, segments=calm, **same)
    # the model hears another arousal than the request, so it writes other music
    assert _piece(debug_model, 6.0, seed=3, segments=calm).tokens != plain.tokens
    with pytest.raises(VemidiError):
        SamplingConfig(arousal_input_shift=-1.5)
