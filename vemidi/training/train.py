"""Training the music model: on CPU (the embedded model) or on a lent GPU, resumable, CSV log.

``train(config, run_dir)`` builds (or re-uses) the augmented dataset, then runs Adam with a short
warm-up and cosine decay until the step or time budget is spent (the decay follows whichever
budget runs out first). A checkpoint with the model, the optimiser and every random state is
written every ``checkpoint_every_s`` seconds, so an interrupted run resumes exactly where it
stopped. ``export`` writes the committed bf16 model.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import logging
import math
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from vemidi.errors import InvalidInputError, explained
from vemidi.music import harmony
from vemidi.music import tokenizer as tk
from vemidi.music.model import ModelConfig, MusicTransformer, build_model, parameter_count
from vemidi.music.plan import N_METER
from vemidi.training.corpus import Example, Work, augment, beat_chords, split_by_work
from vemidi.training.dataset import Batch, LabelScale, WindowSampler

log = logging.getLogger(__name__)
Progress = Callable[[int, dict], None]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a training run (defaults: the committed model).

    EMSYNC trains with Adam at 2e-4, batch 64, CHORD loss x10, 20% condition and boundary
    dropout; we keep the dropouts and use a higher rate with warm-up and decay for a short CPU
    run. The CHORD loss weight is 1: in vemidi the plan strikes the chord on each cut and the
    model never samples CHORD itself, so up-weighting it would only spend capacity.
    ``init_from`` starts a new run from an exported checkpoint (see :func:`warm_start`).
    ``more_share`` is the share of windows drawn from works for three or more instruments (the
    texture a soundtrack asks for; see :class:`~vemidi.training.dataset.WindowSampler`); at 1.0
    the label scale is fitted on those works alone (see :func:`fit_label_scale`).
    """

    model: ModelConfig = field(default_factory=lambda: EMBEDDED_MODEL)
    batch_size: int = 16
    lr: float = 6e-4
    warmup_steps: int = 100
    max_steps: int = 1400
    max_minutes: float = 130.0
    chord_loss_weight: float = 1.0
    cond_dropout: float = 0.2
    no_boundary_prob: float = 0.2
    start_prob: float = 0.5
    variants: int = 4
    held_out: float = 0.05
    seed: int = 0
    threads: int = 2
    checkpoint_every_s: float = 300.0
    eval_batches: int = 8
    precision: str = "auto"
    init_from: str | None = None
    more_share: float = 0.5
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_steps < 1 or self.variants < 1:
            raise ValueError("batch_size, max_steps and variants must be >= 1")
        if not 0.0 < self.more_share <= 1.0:
            raise ValueError(f"more_share must be in (0, 1], got {self.more_share}")
        if not 0 < self.lr < 1:
            raise ValueError(f"lr must be in (0, 1), got {self.lr}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda, got {self.device!r}")


# The committed model. The issue asked for ~1024 tokens of context and bf16 autocast on AMX; the
# CPUs we trained on (AMD EPYC, 2 cores) have no bf16 units (bf16 matmul ran at 0.3 GFLOP/s vs
# 115 in fp32), so we train in fp32 at ~1.8 k tokens/s and use 4 layers and 512 tokens, without
# dropout (a short run over augmented data does not overfit). The plan (meter and chord) is
# embedded at every position.
EMBEDDED_MODEL = ModelConfig(
    n_layers=4,
    context=512,
    dropout=0.0,
    n_keys=24,
    condition_every_position=True,
    n_meter=N_METER,
    n_chords=harmony.N_CHORDS,
)


# A larger model for a lent GPU (scripts/train_on_device.sh): what two CPU cores cannot train in
# a sitting (model card: "What is left"). 6 layers of width 384, with dropout: minutes on a GPU
# pass over the data dozens of times. Each token costs 2.5x the small model's to decode on one
# CPU thread (measured side by side), so it would not keep today's generation speed.
MEDIUM_MODEL = dataclasses.replace(
    EMBEDDED_MODEL, n_layers=6, n_heads=6, d_model=384, d_ff=1536, dropout=0.1
)
MODEL_SIZES = {"small": EMBEDDED_MODEL, "medium": MEDIUM_MODEL}


def cpu_has_bf16() -> bool:
    """Whether the CPU has native bf16 matrix units (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def use_bf16(precision: str, device: str = "cpu") -> bool:
    """bf16 autocast for ``precision`` ("auto": on a GPU, or where the CPU has bf16 units)."""
    if precision != "auto":
        return precision == "bf16"
    return torch.cuda.is_bf16_supported() if device == "cuda" else cpu_has_bf16()


def build_examples(works: list[Work], variants: int, seed: int) -> list[Example]:
    """``variants`` augmented examples per work, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    examples = []
    for work in works:
        chords = beat_chords(work)
        for _ in range(variants):
            example = augment(work, rng, chords)
            if example is not None:
                examples.append(example)
    return examples


def read_data_cache(path: Path) -> tuple[list[Example], list[Example], LabelScale]:
    """The train and held-out examples and the label scale that :func:`prepare_data` cached
    (the file may be gzip-compressed, as it travels to a GPU machine).

    Raises:
        InvalidInputError: the file is not such a cache (one sentence; a traceback before).
    """
    message = f"{path} is not a training data cache (vemidi train writes data.pkl in its run dir)."
    try:
        with path.open("rb") as f:
            compressed = f.read(2) == b"\x1f\x8b"
        with (gzip.open if compressed else open)(path, "rb") as f:
            data = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
        raise explained(InvalidInputError, message, e) from e
    if not (isinstance(data, tuple) and len(data) == 3 and isinstance(data[2], LabelScale)):
        raise InvalidInputError(message)
    return data


def prepare_data(
    works: list[Work], config: TrainConfig, cache: Path | None = None
) -> tuple[list[Example], list[Example], LabelScale]:
    """Train and held-out examples plus the label scale, cached in ``cache`` when given."""
    if cache is not None and cache.is_file():
        train, test, _ = read_data_cache(cache)
        return train, test, fit_label_scale(train, config.more_share)
    train_works, test_works = split_by_work(works, config.held_out, config.seed)
    train = build_examples(train_works, config.variants, config.seed)
    test = build_examples(test_works, 1, config.seed + 1)
    scale = fit_label_scale(train, config.more_share)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as f:
            pickle.dump((train, test, scale), f)
    return train, test, scale


def fit_label_scale(train: list[Example], more_share: float) -> LabelScale:
    """The label scale fitted on the examples the model is trained on: all of them, or with
    ``more_share`` 1.0 only those for three or more instruments. Those works are denser than
    the corpus (mostly chorales and songs): on the whole corpus's scale half of them sit clipped
    at arousal +1 and the model meets almost nothing for arousal -0.8 or 0."""
    if more_share < 1.0:
        return LabelScale.fit(train)
    more = [e for e in train if e.more_instruments]
    return LabelScale.fit(more or train)


def _to_torch(batch: Batch, device: torch.device) -> dict[str, torch.Tensor]:
    names = ("inputs", "targets", "offsets", "plan", "valence", "arousal", "key")
    return {name: torch.from_numpy(getattr(batch, name)).to(device) for name in names}


def batch_loss(
    model: MusicTransformer, batch: Batch, chord_weight: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weighted cross-entropy (CHORD targets x ``chord_weight``), plus per-token loss and hits."""
    t = _to_torch(batch, next(model.parameters()).device)
    cond = model.condition_vectors(t["valence"], t["arousal"], t["key"])
    logits = model(t["inputs"], t["offsets"], cond=cond, plan=t["plan"]).float()
    targets = t["targets"]
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    mask = (targets != tk.PAD).float()
    weights = mask * torch.where(targets == tk.CHORD, chord_weight, 1.0)
    loss = (per_token * weights).sum() / weights.sum().clamp(min=1.0)
    correct = (logits.argmax(-1) == targets).float() * mask
    return loss, (per_token * mask).sum() / mask.sum().clamp(min=1.0), correct.sum() / mask.sum()


@torch.no_grad()
def evaluate_batches(model: MusicTransformer, batches: list[Batch]) -> dict[str, float]:
    """Held-out cross-entropy (nats/token), perplexity and next-token accuracy."""
    was_training = model.training
    model.eval()
    total_loss = total_acc = total_n = 0.0
    for batch in batches:
        _, loss, acc = batch_loss(model, batch, 1.0)
        n = float((batch.targets != tk.PAD).sum())
        total_loss += float(loss) * n
        total_acc += float(acc) * n
        total_n += n
    model.train(was_training)
    ce = total_loss / max(total_n, 1.0)
    return {"loss": ce, "perplexity": math.exp(ce), "accuracy": total_acc / max(total_n, 1.0)}


def warm_start(model: MusicTransformer, checkpoint: Path) -> list[str]:
    """Start from an exported checkpoint's weights where the shapes agree (a model trained
    before the plan inputs existed: its token, condition and transformer weights carry over, the
    plan embeddings start at zero). Returns the names of the parameters left fresh."""
    data = torch.load(checkpoint, map_location="cpu", weights_only=True)
    own = model.state_dict()
    loaded = {
        k: v.float() for k, v in data["state_dict"].items() if k in own and own[k].shape == v.shape
    }
    model.load_state_dict(loaded, strict=False)
    fresh = sorted(set(own) - set(loaded))
    log.info("warm start from %s; fresh: %s", checkpoint, ", ".join(fresh))
    return fresh


def _lr_at(step: int, config: TrainConfig, elapsed_s: float = 0.0) -> float:
    """Warm-up, then cosine decay to 10% along whichever budget (steps or minutes) is spent
    faster: a run stopped by time still ends at the low rate (on a GPU of unknown speed too)."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    by_steps = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
    progress = min(1.0, max(by_steps, elapsed_s / (config.max_minutes * 60)))
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _save_state(path: Path, model, optimizer, step: int, rng, elapsed_s: float, config) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.random.get_rng_state(),
            "elapsed_s": elapsed_s,
            "config": dataclasses.asdict(config),
        },
        tmp,
    )
    tmp.replace(path)


def train(
    works: list[Work],
    config: TrainConfig,
    run_dir: Path,
    progress: Progress | None = None,
) -> dict:
    """Train (or resume) a model in ``run_dir``; returns the final held-out metrics.

    Files in ``run_dir``: ``state.pt`` (resumable), ``log.csv`` (one row per log interval),
    ``data.pkl`` (the augmented dataset and label scale).
    """
    torch.set_num_threads(config.threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_ex, test_ex, scale = prepare_data(works, config, run_dir / "data.pkl")
    length = config.model.context - config.model.prefix_len
    use_key = config.model.n_keys > 0
    sampler = WindowSampler(
        train_ex,
        scale,
        length,
        config.model.max_offset_s,
        config.start_prob,
        config.cond_dropout,
        config.no_boundary_prob,
        use_key,
        config.more_share,
    )
    test_sampler = WindowSampler(test_ex, scale, length, config.model.max_offset_s, use_key=use_key)
    eval_batches = test_sampler.fixed_batches(config.batch_size, config.eval_batches)
    device = torch.device(config.device)
    model = build_model(config.model, seed=config.seed).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.98))
    rng = np.random.default_rng(config.seed)
    step, elapsed_s = 0, 0.0
    state_path = run_dir / "state.pt"
    if state_path.is_file():
        state = torch.load(state_path, weights_only=False, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed_s = state["step"], state["elapsed_s"]
        rng.bit_generator.state = state["numpy_rng"]
        torch.random.set_rng_state(state["torch_rng"].cpu())
        log.info("resumed at step %d (%.0f s)", step, elapsed_s)
    elif config.init_from:
        warm_start(model, Path(config.init_from))
    log_path = run_dir / "log.csv"
    new_log = not log_path.is_file()
    log_file = log_path.open("a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(
            [
                "step",
                "tokens",
                "elapsed_s",
                "lr",
                "train_loss",
                "tokens_per_s",
                "heldout_loss",
                "heldout_accuracy",
            ]
        )
    last_save = time.perf_counter()
    window_start, window_tokens, losses = time.perf_counter(), 0, []
    session_start, session_elapsed0 = time.perf_counter(), elapsed_s
    metrics: dict = {}
    first_step = step
    bf16 = use_bf16(config.precision, config.device)
    log.info("training on %s in %s", config.device, "bf16 autocast" if bf16 else "fp32")

    def log_row(held: dict) -> None:
        """A ``log.csv`` row for this step (and the progress callback), over the steps since the
        last row; ``held`` the held-out figures, or empty between evaluations."""
        row = {
            "step": step,
            "loss": float(np.mean(losses)),
            "tokens_per_s": window_tokens / max(time.perf_counter() - window_start, 1e-9),
            "lr": _lr_at(step, config, elapsed_s),
            "elapsed_s": elapsed_s,
        }
        writer.writerow(
            [
                step,
                step * config.batch_size * length,
                round(elapsed_s, 1),
                f"{row['lr']:.2e}",
                f"{row['loss']:.4f}",
                round(row["tokens_per_s"]),
                f"{held['loss']:.4f}" if held else "",
                f"{held['accuracy']:.4f}" if held else "",
            ]
        )
        log_file.flush()
        if progress is not None:
            progress(step, {**row, **{f"heldout_{k}": v for k, v in held.items()}})

    try:
        while step < config.max_steps and elapsed_s < config.max_minutes * 60:
            batch = sampler.sample(config.batch_size, rng)
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, config, elapsed_s)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, _, _ = batch_loss(model, batch, config.chord_loss_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            window_tokens += int((batch.targets != tk.PAD).sum())
            losses.append(loss.item())
            elapsed_s = session_elapsed0 + time.perf_counter() - session_start
            if step >= config.max_steps or elapsed_s >= config.max_minutes * 60:
                break  # the last step: logged below, with the final held-out figures
            if step % 50 == 0:
                held = {}
                if time.perf_counter() - last_save >= config.checkpoint_every_s:
                    held = evaluate_batches(model, eval_batches)
                    _save_state(state_path, model, optimizer, step, rng, elapsed_s, config)
                    last_save = time.perf_counter()
                log_row(held)
                window_start, window_tokens, losses = time.perf_counter(), 0, []
        metrics = evaluate_batches(model, eval_batches)
        _save_state(state_path, model, optimizer, step, rng, elapsed_s, config)
        if step > first_step:  # a run resumed after its end has nothing new to log
            log_row(metrics)
    except KeyboardInterrupt:  # Ctrl-C: keep the progress, resume later with the same command
        _save_state(state_path, model, optimizer, step, rng, elapsed_s, config)
        raise
    finally:
        log_file.close()
    metrics.update(step=step, elapsed_s=elapsed_s, parameters=parameter_count(model))
    return metrics


def export(run_dir: Path, out_path: Path, extra_meta: dict | None = None) -> Path:
    """Write the committed checkpoint (bf16 weights, config, label scale) from a run."""
    from vemidi.weights import save_checkpoint

    state = torch.load(run_dir / "state.pt", weights_only=False, map_location="cpu")
    config = state["config"]
    model_cfg = ModelConfig(**config["model"])
    model = build_model(model_cfg)
    model.load_state_dict(state["model"])
    train, _, _ = read_data_cache(run_dir / "data.pkl")
    scale = fit_label_scale(train, config.get("more_share", 0.5))
    meta = {
        "label_scale": dataclasses.asdict(scale),
        "steps": state["step"],
        "train_minutes": round(state["elapsed_s"] / 60, 1),
        "train_config": {k: v for k, v in config.items() if k != "model"},
        **(extra_meta or {}),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out_path, model, meta)
    return out_path
