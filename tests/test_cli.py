"""The command line as a user runs it: files written, exit code 2 and one line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave

import numpy as np
import pretty_midi
import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vemidi", *args], capture_output=True, text=True, timeout=300
    )


def test_compose_writes_midi_wav_and_json(tmp_path):
    mid, wav, js = tmp_path / "a.mid", tmp_path / "a.wav", tmp_path / "a.json"
    out = run(
        "compose", "--model", "debug", "--valence", "0.5", "--arousal", "0.2",
        "--duration", "8", "--cuts", "2,3,7", "-o", str(mid), "--wav", str(wav), "--json", str(js),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "model debug" in out.stdout
    assert abs(pretty_midi.PrettyMIDI(str(mid)).get_end_time() - 8.0) <= 0.01
    with wave.open(str(wav)) as w:
        assert w.getframerate() == 44100 and w.getnchannels() == 2
        assert abs(w.getnframes() / 44100 - 8.0) <= 0.01
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert np.sqrt(np.mean(audio.astype(float) ** 2)) > 100  # audible, not silence
    summary = json.loads(js.read_text())
    assert summary["model"] == "debug"
    assert summary["duration_s"] == 8.0
    assert summary["cuts_targeted_s"] == [2.0, 7.0]  # 3 s is thinned (gap < 4 s)
    assert sorted(summary["cuts_hit_s"] + summary["cuts_missed_s"]) == [2.0, 7.0]


def test_compose_segments_file(tmp_path):
    seg = tmp_path / "seg.json"
    seg.write_text(json.dumps([
        {"start_s": 0, "end_s": 3, "valence": -0.5, "arousal": 0.1},
        {"start_s": 3, "end_s": 6, "valence": 0.5, "arousal": None},
    ]))  # fmt: skip
    out = run("compose", "--model", "debug", "--duration", "6", "--segments", str(seg),
              "-o", str(tmp_path / "s.mid"))  # fmt: skip
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--valence", "2", "--duration", "5"],
        ["--arousal", "-1.5", "--duration", "5"],
        ["--duration", "0"],
        ["--duration", "2000"],
        ["--duration", "10", "--cuts", "6,3"],
        ["--duration", "10", "--cuts", "11"],
        ["--duration", "10", "--cuts", "abc"],
        ["--duration", "5", "--model", "nonexistent"],
        ["--duration", "5", "--segments", "/no/such/file.json"],
        ["--duration", "5", "--tonal-anchor", "-1"],
    ],
)
def test_bad_input_exits_2_with_one_line(args, tmp_path):
    out = run("compose", *args, "-o", str(tmp_path / "x.mid"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vemidi: error: ")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "x.mid").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--more-share", "1.5"],
        ["--lr", "0"],
        ["--batch-size", "0"],
        ["--init-from", "/no/x.pt"],
        ["--dropout", "1.5"],
    ],
)
def test_bad_training_options_exit_2_before_the_corpus_is_parsed(args, tmp_path):
    pytest.importorskip("music21")
    out = run("train", *args, "--run-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vemidi: error: "), out.stderr
    assert not (tmp_path / "run").exists() and not any(tmp_path.iterdir())


def test_training_on_a_missing_gpu_or_from_a_bad_data_cache_exits_2(tmp_path):
    import torch

    bogus = tmp_path / "data.pkl.gz"
    bogus.write_bytes(b"\x1f\x8b not really gzip")
    cases = [["--data", str(bogus)]]
    if not torch.cuda.is_available():
        cases.append(["--device", "cuda"])
    for args in cases:
        out = run("train", *args, "--run-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path))
        assert out.returncode == 2 and "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vemidi: error: "), out.stderr
        assert not (tmp_path / "run").exists()
    assert "torch sees no CUDA GPU" in out.stderr or torch.cuda.is_available()


def test_output_paths_are_checked_before_any_work(tmp_path, story):
    """A path under a file fails at once (not after the analysis); missing folders are created
    the same way by every command."""
    blocker = tmp_path / "FILE"
    blocker.write_text("not a folder")
    for command in (["compose", "--model", "debug", "--duration", "2", "-o", f"{blocker}/x.mid"],
                    ["soundtrack", str(story), "-o", f"{blocker}/o.mp4"],
                    ["analyze", str(story), "--json", f"{blocker}/a.json"]):  # fmt: skip
        start = time.perf_counter()
        out = run(*command)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert (
            out.stderr.strip()
            == f"vemidi: error: cannot write {blocker}/"
            + command[-1].split("/")[-1]
            + f": {blocker} is a file, not a folder."
        )
        assert time.perf_counter() - start < 8  # no analysis ran (a fresh process imports ~3 s)
    out = run("compose", "--model", "debug", "--duration", "2", "-o", f"{tmp_path}/new/x.mid")
    assert out.returncode == 0 and (tmp_path / "new" / "x.mid").is_file()


def test_output_names_must_match_what_is_written(tmp_path, story):
    """``-o piece.wav`` used to write MIDI under a WAV name; each output's suffix is checked
    before any work, in one sentence, and nothing is written."""
    cases = [
        (["compose", "--model", "debug", "--duration", "2", "-o", f"{tmp_path}/piece.wav"],
         f"{tmp_path}/piece.wav: a MIDI file must be named .mid or .midi."),
        (["compose", "--model", "debug", "--duration", "2", "-o", f"{tmp_path}/p.mid",
          "--wav", f"{tmp_path}/p.mp3"], f"{tmp_path}/p.mp3: a WAV file must be named .wav."),
        (["soundtrack", str(story), "-o", f"{tmp_path}/o.mov"],
         f"{tmp_path}/o.mov: a video file must be named .mp4."),
        (["soundtrack", str(story), "-o", f"{tmp_path}/o.mp4", "--pianoroll", f"{tmp_path}/r"],
         f"{tmp_path}/r: a piano roll picture file must be named .png."),
    ]  # fmt: skip
    for command, message in cases:
        out = run(*command)
        assert out.returncode == 2 and out.stderr.strip() == f"vemidi: error: {message}"
    assert list(tmp_path.iterdir()) == []
    out = run("compose", "--model", "debug", "--duration", "2", "-o", f"{tmp_path}/p.MIDI")
    assert out.returncode == 0 and (tmp_path / "p.MIDI").is_file()


def test_evaluate_with_a_file_that_is_not_a_data_cache_exits_2(tmp_path):
    pytest.importorskip("music21")
    bogus = tmp_path / "data.pkl"
    bogus.write_text("not a pickle\n")
    out = run("evaluate", "--quick", "--data", str(bogus), "--json", str(tmp_path / "r.json"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"vemidi: error: {bogus} is not a training data cache "
        "(vemidi train writes data.pkl in its run dir)."
    )
    assert not (tmp_path / "r.json").exists()


def test_evaluate_with_a_missing_training_log_exits_2_before_any_work(tmp_path):
    start = time.perf_counter()
    missing, first = tmp_path / "log.csv", tmp_path / "first.csv"
    first.write_text(
        "step,tokens,elapsed_s,lr,train_loss,tokens_per_s,heldout_loss,heldout_accuracy\n"
    )
    out = run("evaluate", "--model", "debug", "--quick", "--training-log", str(first), str(missing),
              "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"vemidi: error: training log {missing} does not exist."
    assert not (tmp_path / "r.json").exists()  # nothing evaluated, nothing written
    assert time.perf_counter() - start < 8  # a fresh process imports ~3 s; the grid takes minutes
