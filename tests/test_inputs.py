"""Controls from untyped values: typed, bounded, named, short; library errors without paths."""

from __future__ import annotations

import math

import pytest

from vemidi.errors import InvalidInputError
from vemidi.inputs import ECHO_CHARS, controls_from


def test_values_from_a_form_become_typed_controls():
    values = {"valence": "0.25", "seed": 7.0, "cuts_s": "4.2; 11", "top_p": 0.9,
              "beats_per_bar": "3", "tempo_bpm": "", "per_scene": True}  # fmt: skip
    controls = controls_from(values)
    assert controls.valence == 0.25 and controls.seed == 7 and isinstance(controls.seed, int)
    assert controls.cuts_s == (4.2, 11.0) and controls.beats_per_bar == 3
    assert controls.tempo_bpm is None and controls.per_scene is True
    assert controls_from({"cuts_s": ()}).cuts_s == ()  # cleared: no cuts at all
    assert controls_from({"tonal_anchor": "1"}).sampling().tonal_anchor == 1.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seed": None}, "seed is required."),
        ({"seed": 1.5}, "seed must be a whole number; got 1.5."),
        ({"temperature": math.nan}, "temperature must be a finite number; got nan."),
        ({"valence": "very happy"}, "valence must be a number; got 'very happy'."),
        ({"per_scene": "yes"}, "per_scene must be true or false; got 'yes'."),
        ({"valence": 3}, "valence must be between -1 and 1"),
        ({"top_p": True}, "top_p must be a number; got True."),
        ({"colour": 1}, "unknown control 'colour'"),
        ({"cuts_s": "4, x"}, "cuts_s must be comma-separated seconds such as 4.2,11.0"),
    ],
)
def test_bad_values_name_their_field(values, message):
    with pytest.raises(
        InvalidInputError, match="^" + message.replace(".", r"\.").replace("(", r"\(")
    ):
        controls_from(values)


def test_huge_inputs_are_not_echoed_whole():
    with pytest.raises(InvalidInputError) as error:
        controls_from({"cuts_s": "1," * 100_000})
    assert str(error.value) == "cuts_s lists 100000 times; at most 1000 are allowed."
    with pytest.raises(InvalidInputError) as error:
        controls_from({"cuts_s": "x" * 200_000})
    assert len(str(error.value)) < 80 + ECHO_CHARS


def test_library_errors_reach_users_without_their_words(tmp_path, caplog):
    """A file a library cannot read: one sentence of ours; the library's words (which name a
    server folder and an errno) go to the log only."""
    from vemidi.errors import MediaError
    from vemidi.media.probe import probe

    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x01not a video" * 100)
    with pytest.raises(MediaError) as error:
        probe(path)
    assert str(error.value) == "garbage.mp4 is not a readable video."
    assert str(tmp_path) in caplog.text  # the details are kept for whoever runs the server


LIMITS = {  # field: (lowest accepted, highest accepted, a value below, a value above)
    "valence": (-1.0, 1.0, -1.01, 1.01),
    "arousal": (-1.0, 1.0, -1.5, 2.0),
    "temperature": (0.05, 5.0, 0.0, 5.5),
    "top_p": (0.01, 1.0, 0.0, 1.2),
    "top_k": (0, 10_000, -1, 10_001),
    "tonal_anchor": (0.0, 10.0, -0.5, 10.5),
    "seed": (0, 2**32 - 1, -1, 2**32),
    "min_cut_gap_s": (0.0, 60.0, -0.1, 61.0),
    "tempo_bpm": (30.0, 240.0, 29.0, 241.0),
    "beats_per_bar": (2, 7, 1, 8),
}


@pytest.mark.parametrize("field", list(LIMITS))
def test_every_numeric_control_at_and_beyond_its_limits(field):
    """Through the one function the app, its API and the CLI share: the limits pass, one step
    beyond is one sentence naming the field and its range."""
    low, high, below, above = LIMITS[field]
    for value in (low, high, str(low)):
        controls_from({field: value})
    for value in (below, above):
        with pytest.raises(InvalidInputError) as error:
            controls_from({field: value})
        assert str(error.value).startswith(f"{field} must be between ")


@pytest.mark.parametrize(
    ("field", "value"), [("audio_mode", "loud"), ("percussion", "maybe"), ("soundfont", 3)]
)
def test_choices_and_text_fields_are_checked(field, value):
    with pytest.raises(InvalidInputError, match=field.replace("_", "[ _]")):
        controls_from({field: value})
