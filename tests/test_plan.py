"""The musical plan (tempo map, bars on cuts, keys, harmony), drums and the DAW-ready MIDI."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import wave

import numpy as np
import pretty_midi
import pytest

from vemidi.errors import VemidiError
from vemidi.music import harmony
from vemidi.music.drums import CRASH, KICK, SNARE, bar_pattern, drum_part, groove
from vemidi.music.plan import Plan, bar_lengths, build_plan, fit_beats, tempo_for_arousal
from vemidi.types import EmotionSegment


def _mood(duration_s, valence=0.5, arousal=0.3):
    return [EmotionSegment(0.0, duration_s, valence, arousal)]


def test_tempo_follows_arousal_and_user_tempo_overrides():
    assert (
        tempo_for_arousal(-1) == 60 and tempo_for_arousal(0) == 96 and tempo_for_arousal(1) == 132
    )
    assert (
        build_plan(20, _mood(20, arousal=0.8), []).base_tempo_bpm
        > build_plan(20, _mood(20, arousal=-0.8), []).base_tempo_bpm
    )
    assert build_plan(20, _mood(20), [], tempo_bpm=150).base_tempo_bpm == 150


@pytest.mark.parametrize("seed", range(12))
def test_bar_lines_fall_on_cuts_within_ten_percent(seed):
    rng = random.Random(seed)
    duration = rng.uniform(20, 90)
    cuts, t = [], rng.uniform(4, 10)
    while t < duration - 5:
        cuts.append(round(t, 3))
        t += rng.uniform(4, 12)
    arousal = rng.uniform(-1, 1)
    plan = build_plan(duration, _mood(duration, arousal=arousal), cuts, seed=seed)
    starts = {round(b.start_s, 6) for b in plan.bars}
    for cut in cuts:
        assert round(cut, 6) in starts  # a bar line on every cut
    for section in plan.sections:
        assert section.beats == int(section.beats)
        if section.beats >= 5:
            assert abs(section.tempo_bpm / plan.base_tempo_bpm - 1) <= 0.10 + 1e-9
        assert plan.beat_to_s(section.start_beat + section.beats) == pytest.approx(section.end_s)
    assert plan.beat_to_s(plan.total_beats) == pytest.approx(duration)
    assert sum(b.beats for b in plan.bars) == plan.total_beats


def test_fitting_prefers_whole_bars_then_whole_beats():
    assert fit_beats(8.0, 120, 4) == 16  # exactly four bars
    assert fit_beats(7.3, 117.6, 4) == 14  # 3 or 4 bars would be 16% / 12% off
    assert bar_lengths(14, 4) == [4, 4, 4, 2]
    assert bar_lengths(13, 4) == [4, 4, 5]
    assert bar_lengths(3, 4) == [3]


def test_keys_change_only_at_cuts_and_follow_valence():
    segments = [EmotionSegment(0, 10, 0.7, 0.2), EmotionSegment(10, 20, -0.7, 0.2)]
    plan = build_plan(20, segments, [10.0], seed=3)
    major, minor = plan.sections
    assert major.key < 12 <= minor.key and major.key % 12 == minor.key % 12  # parallel keys
    no_cut = build_plan(20, segments, [], seed=3)
    assert len({s.key for s in no_cut.sections}) == 1


def test_harmony_cadences_into_each_cut_and_starts_on_the_tonic():
    plan = build_plan(40, _mood(40, valence=-0.6, arousal=0.5), [9.0, 19.5, 30.0], seed=5)
    for index, section in enumerate(plan.sections):
        chords = [
            c
            for c in plan.chords
            if section.start_beat <= c.start_beat < section.start_beat + section.beats
        ]
        assert chords[0].start_beat == section.start_beat
        assert (
            chords[0].chord == harmony.degree(section.key, "i" if section.key >= 12 else "I").chord
        )
        if index + 1 < len(plan.sections):
            assert chords[-1].degree in ("V", "V7")
            assert chords[-2].degree in ("iv", "iio", "IV", "ii", "V7/V")  # V7/V: minor only
    assert [c.degree for c in plan.chords[-3:]][1:] == ["V", "i"]  # the piece ends on a cadence
    keys = [plan.section_at(c.start_beat).key for c in plan.chords]
    assert all(
        c.name == harmony.chord_name(c.chord, k) for c, k in zip(plan.chords, keys, strict=True)
    )
    assert harmony.chord_name(harmony.chord_id(8, "dim"), 6 + 12) == "G#dim"  # in F# minor
    assert harmony.chord_name(harmony.chord_id(10, "maj"), 2 + 12) == "Bb"  # in D minor


def test_harmonic_rhythm_follows_arousal():
    def chords_per_bar(arousal):
        plan = build_plan(40, _mood(40, arousal=arousal), [], seed=1)
        return len(plan.chords) / len(plan.bars)

    assert chords_per_bar(0.8) > chords_per_bar(0.0) > chords_per_bar(-0.8)


def test_calm_dorian_keeps_a_chord_per_bar_for_its_colour_chords():
    """Calm major and minor sections change chord every two bars; a Dorian one every bar, so
    that its walk has room for IV or bVII beside the cadence (else it reads as minor)."""
    for valence, per_bar in ((-0.8, 0.5), (0.8, 0.5), (0.0, 1.0)):
        for seed in range(3):
            plan = build_plan(30, _mood(30, valence=valence, arousal=-0.8), [], seed=seed)
            slots = [c for c in plan.chords if "/" not in c.degree]  # not applied dominants
            assert len(slots) / len(plan.bars) == per_bar
    colour = [
        {"IV", "bVII"} & {c.degree for c in plan.chords}
        for plan in (
            build_plan(30, _mood(30, valence=0.0, arousal=-0.8), [], seed=seed) for seed in range(6)
        )
    ]
    assert sum(map(bool, colour)) >= 4


def test_minor_keys_lead_into_v_and_vi_by_their_applied_dominants():
    i, iv, iii, v, vi = (harmony.degree(12, n) for n in ("i", "iv", "III", "V", "VI"))

    def led(*chords):
        return [(d.name, beats) for d, beats in harmony.applied_dominants(list(chords))]

    # In C minor: D7 takes the last bar of a longer iv before G, or all of a shorter one.
    two_bars = [("i", 8), ("iv", 4), ("V7/V", 4), ("V", 8)]
    assert led((i, 8), (iv, 8), (v, 8)) == two_bars
    assert led((i, 2), (iv, 2), (v, 2)) == [("i", 2), ("V7/V", 2), ("V", 2)]
    d7 = harmony.applied_dominants([(i, 2), (iv, 2), (v, 2)])[1][0]
    assert d7.chord == harmony.chord_id(2, "dom7") and d7.key == 12
    # III already is VI's dominant (Eb before Ab) and stays; the first chord always stays.
    assert led((i, 2), (iii, 2), (vi, 2), (v, 2)) == [("i", 2), ("III", 2), ("V7/V", 2), ("V", 2)]
    assert led((v, 2), (vi, 2), (i, 2)) == [("V", 2), ("VI", 2), ("i", 2)]
    for key, names, dorian in (
        (0, ("I", "IV", "V", "I"), False),
        (12, ("i", "IV", "V", "i"), True),
    ):
        plain = [(harmony.degree(key, n, dorian), 2) for n in names]
        assert harmony.applied_dominants(plain) == plain  # major and Dorian keys: none
    applied = 0
    for seed, arousal in itertools.product(range(3), (-0.8, 0.0, 0.8)):
        plan = build_plan(30, _mood(30, valence=-0.8, arousal=arousal), [], seed=seed)
        for chord, after in itertools.pairwise(plan.chords):
            if "/" in chord.degree:
                applied += 1
                assert harmony.chord_quality(chord.chord) == "dom7"
                assert chord.beats <= harmony.APPLIED_BEATS
                assert (harmony.chord_root(chord.chord) - harmony.chord_root(after.chord)) % 12 == 7
                assert after.degree.removesuffix("7") == chord.degree.split("/")[1]
    assert applied >= 6
    for valence in (0.0, 0.8):
        plan = build_plan(30, _mood(30, valence=valence, arousal=0.8), [], seed=0)
        assert not any("/" in c.degree for c in plan.chords)


def test_plan_round_trips_through_json():
    plan = build_plan(30, _mood(30), [7.3, 15.1, 22.8], seed=2, beats_per_bar=3)
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert {b.beats for b in plan.bars} <= {2, 3, 4}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tempo_bpm": 10.0},
        {"beats_per_bar": 9},
        {"percussion": "loud"},
        {"cuts_s": [40.0]},
    ],
)
def test_bad_plan_requests_raise(kwargs):
    args = {"cuts_s": []} | kwargs
    with pytest.raises(VemidiError):
        build_plan(30, _mood(30), **args)


def test_chord_analysis_templates():
    c_major = np.zeros(12)
    c_major[[0, 4, 7]] = 1
    assert harmony.chord_name(harmony.best_chord(c_major)) == "C"
    g7 = np.zeros(12)
    g7[[7, 11, 2, 5]] = 1
    assert harmony.chord_name(harmony.best_chord(g7, bass_pc=7)) == "G7"
    assert harmony.best_chord(np.zeros(12)) == harmony.NO_CHORD
    assert harmony.scale_pitch_classes(9 + 12)[:3] == (9, 11, 0)  # A minor


def test_drum_patterns_fill_and_crash_on_cuts():
    assert groove(0.2) == "soft" and groove(0.5) == "steady" and groove(0.9) == "driving"
    for beats in (2, 3, 4, 5):
        hits = bar_pattern(beats, "steady")
        assert {p for _, p, _ in hits} >= {KICK, SNARE} or beats < 2
        assert max(t for t, _, _ in hits) < beats
    plan = build_plan(24, _mood(24, arousal=0.9), [8.0, 16.0], seed=0)
    hits = drum_part(plan)
    for cut_beat in plan.cut_beats:
        assert any(h.pitch == CRASH and h.beat == cut_beat for h in hits)
        before = [h for h in hits if cut_beat - 1 <= h.beat < cut_beat]
        assert len(before) >= 4 and all(h.pitch in (SNARE, 45, 47, 50) for h in before)
    calm = build_plan(24, _mood(24, arousal=-0.5), [8.0])
    assert drum_part(calm) == []  # auto: no drums at low arousal
    assert drum_part(build_plan(24, _mood(24, arousal=-0.5), [8.0], percussion="on"))
    assert not drum_part(build_plan(24, _mood(24, arousal=0.9), [8.0], percussion="off"))


def _log_rms(path, frame=441):
    """Log RMS in 10 ms frames of a WAV file (mono mix)."""
    with wave.open(str(path)) as f:
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(float)
        data = data.reshape(-1, f.getnchannels()).mean(axis=1)
    n = len(data) // frame
    return np.log(np.sqrt((data[: n * frame].reshape(n, frame) ** 2).mean(axis=1)) + 1)


def test_daw_midi_downbeats_on_cuts_and_plays_like_our_wav(tmp_path):
    from vemidi.cli import main

    mid, wav = tmp_path / "piece.mid", tmp_path / "piece.wav"
    code = main(["compose", "--duration", "30", "--cuts", "7.3,15.1,22.8", "--arousal", "0.5",
                 "--model", "debug", "-o", str(mid), "--wav", str(wav)])  # fmt: skip
    assert code == 0
    midi = pretty_midi.PrettyMIDI(str(mid))
    downbeats = midi.get_downbeats()
    for cut in (7.3, 15.1, 22.8):
        assert np.min(np.abs(downbeats - cut)) < 0.002  # the cut is a downbeat in a sequencer
    tempi = midi.get_tempo_changes()[1]
    assert len(tempi) >= 2 and all(60 <= t <= 200 for t in tempi)
    assert midi.time_signature_changes and midi.key_signature_changes
    import mido

    markers = [m.text for m in mido.MidiFile(str(mid)).tracks[0] if m.type == "marker"]
    assert markers == ["cut 1", "cut 2", "cut 3"]
    assert any(i.is_drum and i.notes for i in midi.instruments)  # arousal 0.5: drums on
    # FluidSynth's own player reads the file (its tempo map included) and must sound like our WAV.
    out = tmp_path / "fluidsynth.wav"
    from vemidi.synth import resolve_soundfont

    command = ["fluidsynth", "-ni", "-q", "-g", "0.25", "-r", "44100", "-F", str(out),
               str(resolve_soundfont()), str(mid)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    ours, theirs = _log_rms(wav), _log_rms(out)
    n = min(len(ours), len(theirs)) - 300  # our WAV fades out over the last 3 s
    assert np.corrcoef(ours[:n], theirs[:n])[0, 1] > 0.9  # the same loudness contour
    onsets_a, onsets_b = np.maximum(0, np.diff(ours)), np.maximum(0, np.diff(theirs))
    by_lag = {k: np.corrcoef(onsets_a[10:n], onsets_b[10 + k : n + k])[0, 1] for k in range(-5, 6)}
    assert max(by_lag, key=by_lag.get) == 0  # the same onsets, to a 10 ms frame
    assert by_lag[0] > 0.6 > max(v for k, v in by_lag.items() if k)


def test_seconds_and_beats_map_both_ways():
    plan = build_plan(30, _mood(30), [7.3, 15.1, 22.8], seed=1)
    for beat in (0.0, 3.5, plan.cut_beats[0], plan.cut_beats[0] - 0.25, plan.total_beats):
        assert plan.s_to_beat(plan.beat_to_s(beat)) == pytest.approx(beat)
    assert plan.s_to_beat(7.3) == plan.cut_beats[0]


def test_neutral_valence_is_dorian_between_major_and_minor():
    modes = [build_plan(20, _mood(20, valence=v), [], seed=2).sections[0] for v in (-0.6, 0.0, 0.6)]
    assert [s.mode for s in modes] == ["minor", "dorian", "major"]
    dorian = modes[1]
    assert dorian.key >= 12 and dorian.key_name.endswith("dorian")
    plan = build_plan(40, _mood(40, valence=0.0, arousal=0.5), [], seed=2)
    degrees = {c.degree for c in plan.chords}
    assert degrees <= {"i", "ii", "bIII", "IV", "v", "V", "V7", "iv", "iio", "bVII"}
    assert "IV" in degrees or "bVII" in degrees  # the Dorian colour: major IV, bVII


def test_harmony_mode_follows_valence_without_overlap():
    """The plan's own major/minor balance (chord tones weighted by length) orders the moods
    for every seed and arousal: the progression nearest valence's target is kept."""
    by_valence = {}
    for valence in (-0.8, 0.0, 0.8):
        modes = []
        for arousal in (-0.8, 0.0, 0.8):
            for seed in range(4):
                plan = build_plan(30, _mood(30, valence=valence, arousal=arousal), [], seed=seed)
                chords = [c.chord for c in plan.chords]
                modes.append(harmony.harmony_mode(chords, [c.beats for c in plan.chords]))
        by_valence[valence] = modes
    assert max(by_valence[-0.8]) < min(by_valence[0.0])
    assert max(by_valence[0.0]) < min(by_valence[0.8])
    assert abs(sum(by_valence[0.0]) / len(by_valence[0.0])) < 0.1  # neutral sits in between
