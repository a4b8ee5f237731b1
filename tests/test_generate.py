"""Generation: exact duration, determinism, grammar, cuts and time-varying emotion."""

from __future__ import annotations

import dataclasses
import math

import pretty_midi
import pytest
import torch

from vemidi.config import CutConfig, SamplingConfig
from vemidi.errors import VemidiError
from vemidi.music import tokenizer as tk
from vemidi.music.boundaries import BoundaryTracker, offset_input, thin_cuts
from vemidi.music.compose import ComposeRequest, compose
from vemidi.music.generate import generate
from vemidi.music.logits import DecodeState, Sampler, default_rules
from vemidi.types import EmotionSegment


def _one(duration_s: float, valence: float = 0.5, arousal: float = 0.5) -> list[EmotionSegment]:
    return [EmotionSegment(0.0, duration_s, valence, arousal)]


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
    runs = [
        generate(debug_model, 6.0, _one(6.0), sampling=SamplingConfig(seed=s)).tokens
        for s in (11, 11, 12)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_grammar_holds_on_generated_tokens(debug_model):
    result = generate(debug_model, 12.0, _one(12.0), cuts_s=[4.0, 8.0])
    body = result.tokens[1:]
    assert not {tk.PAD, tk.START, tk.LESS_INSTRUMENTS, tk.MORE_INSTRUMENTS} & set(body)
    sounding: set[int] = set()
    for token in body:
        if tk.is_note(token):
            kind, instrument, pitch = tk.note_parts(token)
            key = (instrument, pitch)
            if kind == tk.ON:
                assert key not in sounding, "note-on for a note that is already sounding"
                sounding.add(key)
            else:
                assert key in sounding, "note-off for a note that is not sounding"
                sounding.discard(key)
    # Sounding notes are closed at the end.
    assert all(n.end_s <= 12.0 + 1e-9 for n in result.decoded.notes)


def test_grammar_rules_mask_logits():
    state = DecodeState()
    config = SamplingConfig()
    logits = torch.zeros(tk.VOCAB_SIZE)
    for rule in default_rules(config):
        logits = rule(logits, state)
    off = tk.note_token(tk.OFF, tk.Instrument.PIANO, 60)
    assert math.isinf(logits[off]) and math.isinf(logits[tk.PAD])
    state.update(tk.note_token(tk.ON, tk.Instrument.PIANO, 60), config)
    logits = torch.zeros(tk.VOCAB_SIZE)
    for rule in default_rules(config):
        logits = rule(logits, state)
    assert math.isinf(logits[off])  # no zero-length note
    assert math.isinf(logits[tk.note_token(tk.ON, tk.Instrument.PIANO, 60)])
    state.update(tk.shift_token(10), config)
    logits = torch.zeros(tk.VOCAB_SIZE)
    for rule in default_rules(config):
        logits = rule(logits, state)
    assert not math.isinf(logits[off])


def test_notes_held_too_long_are_released_first():
    config = SamplingConfig(max_note_s=2.0)
    state = DecodeState()
    state.update(tk.note_token(tk.ON, tk.Instrument.STRINGS, 50), config)
    state.update(tk.shift_token(125), config)
    state.update(tk.shift_token(125), config)
    state.update(tk.shift_token(10), config)
    logits = torch.zeros(tk.VOCAB_SIZE)
    for rule in default_rules(config):
        logits = rule(logits, state)
    allowed = torch.nonzero(~torch.isinf(logits)).flatten().tolist()
    assert allowed == [tk.note_token(tk.OFF, tk.Instrument.STRINGS, 50)]


def test_boundary_chord_needs_notes_then_holds():
    config = SamplingConfig(chord_min_notes=3, chord_hold_s=1.0)
    state = DecodeState()
    state.update(tk.CHORD, config)
    logits = default_rules(config)[2](torch.zeros(tk.VOCAB_SIZE), state)
    assert math.isinf(logits[tk.shift_token(10)])  # no time may pass before the chord sounds
    for pitch in (60, 64, 67):
        state.update(tk.note_token(tk.ON, tk.Instrument.PIANO, pitch), config)
    state.update(tk.shift_token(10), config)
    logits = default_rules(config)[2](torch.zeros(tk.VOCAB_SIZE), state)
    assert math.isinf(logits[tk.note_token(tk.ON, tk.Instrument.PIANO, 72)])  # held
    assert math.isinf(logits[tk.note_token(tk.OFF, tk.Instrument.PIANO, 64)])
    state.update(tk.shift_token(125), config)
    logits = default_rules(config)[2](torch.zeros(tk.VOCAB_SIZE), state)
    assert not math.isinf(logits[tk.note_token(tk.ON, tk.Instrument.PIANO, 72)])


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
    tracker = BoundaryTracker([4.0, 8.0], CutConfig())
    assert tracker.on_chord(4.5) is True
    assert tracker.on_chord(5.0) is False
    tracker.offset(9.5)
    tracker.on_chord(9.5)  # 8.0 passed by more than the tolerance: missed
    tracker.finish()
    assert tracker.hits_s == [4.0] and tracker.missed_s == [8.0]


def test_hits_and_misses_cover_the_targets(debug_model):
    result = generate(debug_model, 16.0, _one(16.0), cuts_s=[4.0, 9.0, 13.0])
    assert sorted(result.hits_s + result.missed_s) == [4.0, 9.0, 13.0]
    for hit in result.hits_s:
        assert any(abs(c - hit) <= 1.0 for c in result.decoded.chord_times_s)


def test_every_cut_gets_a_held_chord_unless_the_rule_is_off(debug_model):
    cuts = [2.5, 7.0, 11.0, 15.5]
    on = generate(debug_model, 18.0, _one(18.0), cuts_s=cuts, sampling=SamplingConfig(seed=4))
    assert on.hits_s == cuts and not on.missed_s and set(on.forced_s) <= set(on.hits_s)
    for cut in on.forced_s:  # forced chords land on the cut itself (8 ms ticks)
        assert min(abs(c - cut) for c in on.decoded.chord_times_s) < tk.TICK_S
    for cut in cuts:  # and they are chords: at least 3 notes start there
        near = min(on.decoded.chord_times_s, key=lambda c: abs(c - cut))
        assert sum(abs(n.start_s - near) < 1e-6 for n in on.decoded.notes) >= 3
    alone = SamplingConfig(cut_chords=False)
    runs = [generate(debug_model, 18.0, _one(18.0), cuts_s=cuts,
                     sampling=dataclasses.replace(alone, seed=s)) for s in range(4)]  # fmt: skip
    assert all(not r.forced_s for r in runs)
    assert any(r.missed_s for r in runs)  # the random model alone misses cuts


def test_density_prior_changes_step_lengths_not_how_often_time_moves():
    from vemidi.music.logits import DensityPrior

    torch.manual_seed(0)
    base = torch.randn(tk.VOCAB_SIZE)
    shifts = slice(tk.SHIFT_BASE, tk.NOTE_BASE)
    ticks = torch.arange(1, tk.NOTE_BASE - tk.SHIFT_BASE + 1, dtype=torch.float32)
    mean_step = {}
    for arousal in (-0.8, 0.8):
        prior = DensityPrior(1.0)
        prior.arousal = arousal
        p = torch.softmax(prior(base.clone(), DecodeState()), 0)
        before = float(torch.softmax(base, 0)[shifts].sum())
        assert float(p[shifts].sum()) == pytest.approx(before, rel=1e-4)
        mean_step[arousal] = float((p[shifts] * ticks).sum() / p[shifts].sum())
    assert mean_step[0.8] < mean_step[-0.8]  # excited: shorter steps between events
    off = DensityPrior(1.0)  # arousal NaN (unconditioned): no change
    assert torch.equal(off(base.clone(), DecodeState()), base)


def test_segments_switch_condition(debug_model):
    two = [EmotionSegment(0.0, 5.0, -0.8, -0.8), EmotionSegment(5.0, 10.0, 0.8, 0.8)]
    one = [EmotionSegment(0.0, 10.0, -0.8, -0.8)]
    a = generate(debug_model, 10.0, two, sampling=SamplingConfig(seed=4))
    b = generate(debug_model, 10.0, one, sampling=SamplingConfig(seed=4))

    def onsets(result):
        return [(n.instrument, n.pitch, n.start_s) for n in result.decoded.notes if n.start_s < 4.9]

    assert onsets(a) == onsets(b)  # identical until the condition switches
    assert a.tokens != b.tokens


def test_long_piece_slides_the_window(debug_model):
    seen = []
    result = generate(debug_model, 30.0, _one(30.0), progress=lambda f, _m: seen.append(f))
    context = dataclasses.asdict(debug_model.cfg)["context"]
    assert len(result.tokens) > context  # the window was re-encoded at least once
    assert result.decoded.duration_s == pytest.approx(30.0, abs=0.008)
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
