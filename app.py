"""vemidi's browser app (Gradio): drop a video, see what it feels, steer, get it back scored.

Gradio UI only: the work happens in :mod:`vemidi.pipeline`. ``python app.py`` (or ``make run``)
serves it on ``GRADIO_SERVER_NAME``:``GRADIO_SERVER_PORT`` (default 127.0.0.1:7860); on Hugging
Face Spaces the same file is the Space's ``app_file``. ``VEMIDI_PROFILE=hub`` makes the hub
models the default analysis profile.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr

from vemidi.config import SamplingConfig
from vemidi.emotion.affect import EMOTIONS
from vemidi.errors import VemidiError

log = logging.getLogger("vemidi.app")
ROOT = Path(__file__).resolve().parent
EXAMPLES = sorted(str(p) for p in (ROOT / "assets" / "examples").glob("*.mp4"))
MAX_VIDEO_S = float(os.environ.get("VEMIDI_MAX_VIDEO_S", 300))  # longer uploads are refused
MAX_UPLOAD = os.environ.get("VEMIDI_MAX_UPLOAD", "200mb")
OUTPUT_ROOT = Path(os.environ.get("VEMIDI_OUTPUT_DIR", Path(tempfile.gettempdir()) / "vemidi-app"))
OUTPUT_TTL_S = 3600.0  # generated files are kept this long for download
MODALITY_TITLES = {
    "faces": "Faces",
    "speech": "Speech",
    "text": "On-screen text",
    "audio": "Audio",
    "visual": "Image content",
}
PROFILE = os.environ.get("VEMIDI_PROFILE", "embedded")
# Requests (analysis, generation) run two at a time, each on one torch thread: on the 2-core
# machines we target, four users at once then each wait at most ~2.5x their time alone, where
# one request at a time on two threads made the fourth wait ~4x (bench/concurrency.py; README).
HEAVY_CONCURRENCY = int(os.environ.get("VEMIDI_CONCURRENCY", 2))
TORCH_THREADS = int(os.environ.get("VEMIDI_TORCH_THREADS", 1))


class _CheckedByVemidi:
    """Pass a value Gradio cannot read as a number on to the handler unchanged, where
    :mod:`vemidi.inputs` reports it in one sentence with the field's name (Gradio's own answer
    to text or NaN typed through the API is a multi-line "Could not preprocess" message)."""

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except Exception:  # Gradio raises several types here; the handler checks every field
            return payload


class Number(_CheckedByVemidi, gr.Number):
    def get_block_name(self) -> str:
        return "number"  # the same widget in the page


class Slider(_CheckedByVemidi, gr.Slider):
    def get_block_name(self) -> str:
        return "slider"


def spaces_bootstrap() -> None:
    """On Hugging Face Spaces, install requirements-nodeps.txt with ``--no-deps`` once.

    Spaces installs requirements.txt with dependencies; facenet-pytorch and fer publish pins
    (old torch, TensorFlow, moviepy 1) that would break it, so they come in here. Only runs
    where Spaces sets ``SPACE_ID`` and the packages are missing.
    """
    import importlib.util

    if not os.environ.get("SPACE_ID"):
        return
    if all(importlib.util.find_spec(name) for name in ("facenet_pytorch", "fer")):
        return
    nodeps = ROOT / "requirements-nodeps.txt"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-r", str(nodeps)],
                   check=True)  # fmt: skip


@functools.cache
def pipeline(profile: str):
    """One pipeline per model profile for the whole process (models load once)."""
    import torch

    from vemidi.emotion.analyze import AnalysisConfig
    from vemidi.pipeline import Pipeline

    torch.set_num_threads(TORCH_THREADS)  # see HEAVY_CONCURRENCY

    return Pipeline(profile, AnalysisConfig(max_duration_s=MAX_VIDEO_S))


def user_errors(handler):
    """Show every problem a user can cause as one sentence in the page; the app keeps serving."""

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except VemidiError as e:
            raise gr.Error(str(e)) from e
        except gr.Error:
            raise
        except Exception as e:  # a bug: the log keeps the details, the page one sentence
            log.exception("%s failed", handler.__name__)
            raise gr.Error(
                "vemidi hit an internal error (logged on the server); please try again."
            ) from e

    return wrapped


def _progress(progress: gr.Progress, lo: float = 0.0, hi: float = 1.0):
    return lambda fraction, message: progress(lo + (hi - lo) * fraction, desc=message)


def _require(video: str | None) -> str:
    if not video:
        raise VemidiError("Please upload a video first (mp4, mov, webm, mkv or avi).")
    return video


def _evidence_text(analysis) -> tuple[str, str, str]:
    """Transcript, on-screen text and a line on the audio and colour features."""
    mods = analysis.modalities
    speech = mods["speech"].evidence.get("text") or mods["speech"].evidence.get("absent", "")
    onscreen = mods["text"].evidence.get("text") or mods["text"].evidence.get("absent", "")
    lines = []
    for name in ("audio", "visual"):
        ev = mods[name].evidence
        if "absent" in ev:
            lines.append(f"**{MODALITY_TITLES[name]}**: {ev['absent']}")
        else:
            shown = ", ".join(
                f"{k.replace('_', ' ')} {v:.2f}" for k, v in ev.items() if isinstance(v, float)
            )
            lines.append(f"**{MODALITY_TITLES[name]}**: {shown}")
    return speech, onscreen, "\n\n".join(lines)


def _label(result) -> dict[str, float]:
    """A modality's probabilities for gr.Label; an absent modality shows as empty."""
    return {} if result.confidence == 0 else {e: result.probs[e] for e in EMOTIONS}


@user_errors
def analyze(video: str | None, profile: str, progress=gr.Progress()):
    """Analyse the video; fill the per-modality view, the sliders and the cut list."""
    from vemidi.figures import faces_key_frame, va_plane

    video = _require(video)
    analysis = pipeline(profile).analyze(video, _progress(progress))
    speech, onscreen, features = _evidence_text(analysis)
    confidences = ", ".join(
        f"{MODALITY_TITLES[n]} {r.confidence:.2f}" for n, r in analysis.modalities.items()
    )
    summary = (
        f"**Detected:** valence {analysis.valence:+.2f}, arousal {analysis.arousal:+.2f} · "
        f"{len(analysis.cuts_s)} cut(s), {len(analysis.segments)} scene(s) · "
        f"confidence per modality: {confidences}"
    )
    return (
        summary,
        *(_label(analysis.modalities[name]) for name in MODALITY_TITLES),
        _label(analysis.fused),
        faces_key_frame(video, analysis),
        speech,
        onscreen,
        features,
        va_plane(analysis),
        round(analysis.valence, 2),
        round(analysis.arousal, 2),
        ", ".join(f"{c:.2f}" for c in analysis.cuts_s),
    )


@user_errors
def use_detected(video: str | None, profile: str):
    """Reset the sliders and the cut list to what the analysis found (cached: instant)."""
    analysis = pipeline(profile).analyze(_require(video))
    cuts = ", ".join(f"{c:.2f}" for c in analysis.cuts_s)
    return round(analysis.valence, 2), round(analysis.arousal, 2), cuts


def _fresh_output_dir() -> Path:
    """A new folder for one generation; folders older than OUTPUT_TTL_S are removed."""
    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT_ROOT.iterdir():
        if time.time() - old.stat().st_mtime > OUTPUT_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    out = OUTPUT_ROOT / uuid.uuid4().hex
    out.mkdir()
    return out


@user_errors
def generate(
    video,
    profile,
    valence,
    arousal,
    per_scene,
    cuts_text,
    seed,
    temperature,
    top_p,
    instruments,
    soundfont,
    audio_mode,
    percussion="auto",
    tempo=0,
    beats_per_bar="4",
    loudness=-16,
    duck=12,
    stems=False,
    tonal_anchor=False,
    progress=gr.Progress(),
):
    """Compose, render and mux with the user's settings; re-uses the cached analysis."""
    from vemidi.figures import va_plane
    from vemidi.inputs import controls_from

    video = _require(video)
    controls = controls_from(  # typed and bounded in one place, each field named on error
        {
            "valence": valence,
            "arousal": arousal,
            "per_scene": bool(per_scene),
            "cuts_s": cuts_text if (cuts_text or "").strip() else (),  # cleared: no cuts
            "seed": seed,
            "temperature": temperature,
            "top_p": top_p,
            "tonal_anchor": 1.0 if tonal_anchor else 0.0,
            "more_instruments": instruments == "more (3+)",
            "soundfont": soundfont or None,
            "audio_mode": audio_mode,
            "percussion": percussion,
            "tempo_bpm": tempo if tempo not in (0, "0", None, "") else None,
            "beats_per_bar": beats_per_bar,
            "loudness_lufs": loudness,
            "duck_db": duck,
        }
    )
    pipe = pipeline(profile)
    analysis = pipe.analyze(video, _progress(progress, 0.0, 0.1))
    out_dir = _fresh_output_dir()
    try:
        result = pipe.soundtrack(
            video, analysis, controls, out_dir, _progress(progress, 0.1, 1), stems=bool(stems)
        )
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    report = _plan_report(result.record)
    files = [str(p) for p in (result.video_path, result.midi_path, result.wav_path,
                              result.json_path, result.stems_path) if p is not None]  # fmt: skip
    chosen = (controls.valence, controls.arousal)
    return (
        str(result.video_path),
        str(result.wav_path),
        str(result.pianoroll_path),
        files,
        report,
        va_plane(analysis, chosen),
    )


def _plan_report(record: dict) -> str:
    """What was composed, in a few lines: tempo, meter, keys, chords, cuts, drums."""
    piece = record["composition"]
    plan = piece["plan"]
    keys = " -> ".join(dict.fromkeys(s["key_name"] for s in plan["sections"]))
    chords = " ".join(c["name"] for c in plan["chords"][:16])
    more = " ..." if len(plan["chords"]) > 16 else ""
    drums = sum(s["drums"] for s in plan["sections"])
    audio = record["audio"]
    speech = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in audio["speech_s"])
    mixing = {
        "replace": "the music replaces the original sound",
        "mix": f"music ducked {audio['duck_db']:g} dB under speech ({speech}; shaded on the roll)"
        if speech
        else "no speech found: the music is not ducked",
        "under": "the original sound 12 dB under the music",
        "keep": "the original sound kept as the first track, the music as the second",
    }[audio["mode"]]
    return (
        f"**{piece['n_notes']} notes** in {piece['duration_s']:.1f} s at "
        f"**{piece['tempo_bpm']:.0f} bpm** in {piece['beats_per_bar']}/4, key **{keys}**; "
        f"chords struck on {len(piece['cuts_hit_s'])}/{len(piece['cuts_targeted_s'])} cuts "
        f"(each cut is a bar line); drums in {drums}/{len(plan['sections'])} sections.  \n"
        f"Chords: {chords}{more}  \n"
        f"Composed in {piece['generation_s']:.1f} s with {piece['model']}, soundfont "
        f"{record['soundfont']}.  \n"
        f"Music at {audio['loudness_lufs']:.1f} LUFS, true peak {audio['true_peak_dbtp']:.1f} "
        f"dBTP; {mixing}."
    )


LOUDNESS_CHOICES = [
    ("-16 LUFS (web)", -16),
    ("-23 LUFS (EBU R128 broadcast)", -23),
    ("-14 LUFS (streaming)", -14),
]


def _soundfont_choices() -> list[tuple[str, str]]:
    from vemidi.synth import available_soundfonts

    return [(p.name, str(p)) for p in available_soundfonts()]


def build() -> gr.Blocks:
    """The whole page."""
    fonts = _soundfont_choices()
    with gr.Blocks(title="vemidi", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "# vemidi\nDrop a video: vemidi reads what its faces, speech, on-screen text, sound "
            "and pictures feel, shows you, lets you steer, and writes an original soundtrack "
            "in time and in key, whose bar lines and struck chords land on the scene cuts "
            "(the EMSYNC method, on a CPU)."
        )
        with gr.Row():
            with gr.Column(scale=1):
                video_in = gr.Video(label="Your video", sources=["upload"], elem_id="video-in")
                analyze_btn = gr.Button("Analyse", elem_id="analyze")
            with gr.Column(scale=1):
                summary = gr.Markdown("Upload a video or pick an example below.")
                va_image = gr.Image(
                    label="Valence and arousal", interactive=False, elem_id="va-plane"
                )
        with gr.Accordion("What each modality feels", open=True):
            with gr.Row():
                labels = [
                    gr.Label(label=title, num_top_classes=3) for title in MODALITY_TITLES.values()
                ]
                fused = gr.Label(label="Fused", num_top_classes=3, elem_id="fused")
            with gr.Row():
                face_frame = gr.Image(label="Faces read (key frame)", interactive=False)
                with gr.Column():
                    transcript = gr.Textbox(label="Speech transcript", interactive=False)
                    ocr = gr.Textbox(label="On-screen text", interactive=False)
                    features = gr.Markdown()
        gr.Markdown("## Steer the music")
        with gr.Row():
            valence, arousal = (
                Slider(-1, 1, value=0, step=0.05, label=name.title(), info=info, elem_id=name)
                for name, info in (("valence", "negative ... positive"),
                                   ("arousal", "calm ... excited"))
            )  # fmt: skip
            reset = gr.Button("Use detected", size="sm")
        with gr.Row():
            cuts = gr.Textbox(
                label="Cuts (seconds, comma-separated)",
                elem_id="cuts",
                info="detected cuts; edit, add or clear them",
            )
            per_scene = gr.Checkbox(label="Follow the emotion scene by scene", value=False)
        with gr.Accordion("More settings", open=False):
            with gr.Row():
                seed = Number(value=0, precision=0, label="Seed")
                temperature = Slider(0.5, 2.0, value=SamplingConfig.temperature, step=0.05,
                                     label="Temperature")  # fmt: skip
                top_p = Slider(0.1, 1.0, value=SamplingConfig.top_p, step=0.05, label="Top-p")
                tonal_anchor = gr.Checkbox(
                    label="Keep the mood's mode clear",
                    value=False,
                    info="tonal anchor: where the music drifts from major or minor, its key's "
                    "tonic is favoured (a little less like the training music)",
                    elem_id="tonal-anchor",
                )
            with gr.Row():
                instruments = gr.Radio(
                    ["fewer (1-2)", "more (3+)"], value="more (3+)", label="Instruments"
                )
                soundfont = gr.Dropdown(
                    fonts,
                    value=fonts[0][1] if fonts else None,
                    label="Soundfont (found on this machine)",
                )
                audio_mode = gr.Radio(
                    ["replace", "mix", "under", "keep"],
                    value="replace",
                    label="Original audio",
                    info="replace it; mix: keep it, the music ducks under speech; under: "
                    "keep it 12 dB under the music; keep: as a separate first track",
                    elem_id="audio-mode",
                )
            with gr.Row():
                percussion = gr.Radio(
                    ["auto", "on", "off"],
                    value="auto",
                    label="Drums",
                    info="auto: where the mood is excited (arousal > 0)",
                    elem_id="percussion",
                )
                tempo = Number(
                    value=0, precision=0, minimum=0, maximum=240, label="Tempo (bpm)",
                    info="0: from arousal (60-132 bpm)",
                )  # fmt: skip
                beats_per_bar = gr.Dropdown(
                    ["2", "3", "4", "5", "6", "7"], value="4", label="Beats per bar"
                )
            with gr.Row():
                loudness = gr.Dropdown(
                    LOUDNESS_CHOICES,
                    value=-16,
                    label="Loudness",
                    info="true peak kept under -1 dBTP",
                )
                duck = Slider(
                    0, 30, value=12, step=1, label="Ducking under speech (dB)",
                    info="mix mode: how far the music falls while someone speaks",
                )  # fmt: skip
                stems = gr.Checkbox(
                    label="Also make stems (ZIP)",
                    value=False,
                    info="a WAV per instrument, the MIDI, WAV, MP4 and JSON",
                    elem_id="stems",
                )
                profile = gr.Radio(
                    ["embedded", "hub"],
                    value=PROFILE,
                    label="Analysis models",
                    info="embedded: offline, packaged; hub: larger models "
                    "downloaded from the Hugging Face Hub",
                )
        generate_btn = gr.Button("Generate soundtrack", variant="primary", elem_id="generate")
        report = gr.Markdown()
        with gr.Row():
            video_out = gr.Video(
                label="Your video with its soundtrack", elem_id="video-out", buttons=["download"]
            )
            with gr.Column():
                audio_out = gr.Audio(label="Soundtrack", type="filepath")
                roll = gr.Image(
                    label="Piano roll with the plan (dashed: cuts; grey: bar lines; chords, "
                    "key and tempo above)",
                    interactive=False,
                )
        files = gr.File(
            label="Downloads: MP4, MIDI, WAV, analysis JSON (and the stems ZIP)",
            file_count="multiple",
            elem_id="downloads",
        )

        analysis_outputs = [
            summary,
            *labels,
            fused,
            face_frame,
            transcript,
            ocr,
            features,
            va_image,
            valence,
            arousal,
            cuts,
        ]
        analyze_btn.click(
            analyze,
            [video_in, profile],
            analysis_outputs,
            api_name="analyze",
            concurrency_id="heavy",
        )
        video_in.upload(
            analyze,
            [video_in, profile],
            analysis_outputs,
            api_visibility="private",
            concurrency_id="heavy",
        )
        reset.click(
            use_detected, [video_in, profile], [valence, arousal, cuts], api_name="use_detected"
        )
        # The same order as generate()'s parameters.
        generate_inputs = [video_in, profile, valence, arousal, per_scene, cuts, seed,
                           temperature, top_p, instruments, soundfont, audio_mode, percussion,
                           tempo, beats_per_bar, loudness, duck, stems,
                           tonal_anchor]  # fmt: skip
        generate_btn.click(
            generate,
            generate_inputs,
            [video_out, audio_out, roll, files, report, va_image],
            api_name="generate",
            concurrency_id="heavy",
        )
        if EXAMPLES:
            gr.Examples(
                EXAMPLES,
                inputs=[video_in],
                outputs=analysis_outputs,
                fn=lambda video: analyze(video, PROFILE),
                cache_examples=True,
                cache_mode="lazy",  # analysed on first click, then instant
                label="Examples (made offline by scripts/make_examples.py)",
            )
    demo.queue(default_concurrency_limit=HEAVY_CONCURRENCY, max_size=16)
    return demo


def warm_up() -> None:
    """Load the models and the figure code before the first user asks (in the background)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pipeline(PROFILE).warm_up()
    figure = plt.figure()  # matplotlib's first figure costs about a second
    figure.canvas.draw()
    plt.close(figure)


spaces_bootstrap()
if __name__ == "__main__":  # served: load the models while the interface is built and served
    threading.Thread(target=warm_up, daemon=True, name="vemidi-warm-up").start()
demo = build()


if __name__ == "__main__":
    demo.launch(max_file_size=MAX_UPLOAD, show_error=True)
