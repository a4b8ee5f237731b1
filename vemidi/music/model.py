"""The EMSYNC music transformer: a decoder with relative global attention and three conditions.

Conditioning follows EMSYNC (reference §5, §7):

* valence and arousal each pass through their own MLP into a pseudo-token placed before the music
  tokens; a missing value (NaN) uses a learned null vector instead;
* the instrument-count control is an ordinary vocabulary token, the first music token;
* every position gets the boundary offset ``8 - min(8, seconds to the next boundary)`` through an
  MLP, concatenated with a learned absolute position embedding and added to the token embedding.

Three optional extensions, all off in the EMSYNC-faithful default and documented in the model
card when used: a third prefix pseudo-token for a key (tonic and mode; ``n_keys=24``); adding
the condition vectors at every position (``condition_every_position``), which a first experiment
found necessary for the condition to matter in a small model; and the musical plan at every
position (``n_meter``, ``n_chords``): an embedding of where the position stands in its bar and one
of the chord sounding there, added to the token embedding, so the model writes on a beat and a
harmony it is given instead of inventing both. We use pre-LayerNorm blocks instead
of EMSYNC's post-LayerNorm because they train stably in the short CPU runs we can afford.

This module imports no tokenizer, sampler or files: it only maps tensors to logits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a music transformer; stored in every checkpoint.

    Attributes:
        vocab_size: number of token ids.
        n_layers, n_heads, d_model, d_ff: transformer size.
        context: positions the model sees at once, the condition prefix included.
        dropout: dropout rate during training.
        cond_hidden: hidden width of the valence/arousal MLPs.
        offset_hidden: hidden width of the boundary-offset MLP.
        max_offset_s: the boundary-offset horizon in seconds (EMSYNC: 8).
        n_keys: number of key classes for the optional key prefix (0 = no key prefix).
        condition_every_position: also add the conditions to every position's embedding.
        n_meter: number of meter classes (position in the bar and bar length) embedded at every
            position (0 = none; our addition, see :mod:`vemidi.music.plan`).
        n_chords: number of chord classes embedded at every position, one more being "no
            chord" (0 = none; our addition).
    """

    vocab_size: int = 1011
    n_layers: int = 6
    n_heads: int = 4
    d_model: int = 256
    d_ff: int = 1024
    context: int = 1024
    dropout: float = 0.1
    cond_hidden: int = 256
    offset_hidden: int = 128
    max_offset_s: float = 8.0
    n_keys: int = 0
    condition_every_position: bool = False
    n_meter: int = 0
    n_chords: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_layers", "n_heads", "d_model", "d_ff", "context"):
            if getattr(self, name) < 1:
                raise ValueError(f"ModelConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads or self.d_model % 2:
            raise ValueError(
                f"ModelConfig.d_model ({self.d_model}) must be even and divisible by "
                f"n_heads ({self.n_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout}")

    @property
    def prefix_len(self) -> int:
        """Number of condition pseudo-tokens before the music tokens."""
        return 3 if self.n_keys else 2

    def to_dict(self) -> dict:
        """Plain dict for checkpoints."""
        return asdict(self)


def debug_config() -> ModelConfig:
    """A tiny configuration for tests (random weights, a few thousand parameters per layer)."""
    return ModelConfig(
        n_layers=2,
        n_heads=2,
        d_model=32,
        d_ff=64,
        context=256,
        cond_hidden=16,
        offset_hidden=16,
        n_keys=24,
        condition_every_position=True,
        n_meter=256,  # vemidi.music.plan.N_METER (this module imports no plan code)
        n_chords=48,  # vemidi.music.harmony.N_CHORDS
    )


class KVCache:
    """Keys and values of every layer for incremental decoding, plus the conditions in use.

    The buffers are allocated once for the whole context and filled in place: growing them by
    concatenation copied the whole cache at every token (bench/generate_speed.py measures both).
    """

    def __init__(self, n_layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.length = 0  # positions already cached (prefix included)
        self.cond: torch.Tensor | None = None  # (B, P, d) condition vectors
        self.cond_bias: torch.Tensor | None = None  # (B, d) their projection (step())
        self.step_weights: _StepWeights | None = None  # the weights as step() reads them

    def restart(self) -> None:
        """Empty the cache for a new window of the same streams: the next forward() fills it
        from position 0 with its conditions. The buffers and the weights' step layout, which do
        not depend on the window, are kept (written over before they are read)."""
        self.length = 0
        self.cond = self.cond_bias = None

    def extend(
        self, layer: int, k: torch.Tensor, v: torch.Tensor, capacity: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Store ``(B, H, L, hd)`` keys and values after the cached positions of ``layer``;
        returns every key and value so far (views of the buffers)."""
        end = self.length + k.shape[2]
        if self.keys[layer] is None:
            shape = (k.shape[0], k.shape[1], capacity, k.shape[3])
            self.keys[layer], self.values[layer] = k.new_empty(shape), v.new_empty(shape)
        keys, values = self.keys[layer], self.values[layer]
        keys[:, :, self.length : end] = k
        values[:, :, self.length : end] = v
        return keys[:, :, :end], values[:, :, :end]


class _RelativeAttention(nn.Module):
    """Causal multi-head attention with Music Transformer relative position logits.

    The relative logit between query i and key j is ``q_i . E[i - j]`` with one learned
    embedding per distance, shared by the heads. Instead of the skew trick we gather it per
    (i, j) pair, which also works for a query block that starts in the middle of a KV cache, and
    pass it to ``scaled_dot_product_attention`` as an additive mask.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.head_dim = cfg.d_model // cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.rel = nn.Parameter(torch.empty(cfg.context, self.head_dim).uniform_(-0.1, 0.1))
        self.dropout = cfg.dropout

    def forward(
        self, x: torch.Tensor, start: int, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        batch, length, _ = x.shape
        q, k, v = (
            self.qkv(x).view(batch, length, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        )
        if cache is not None:
            k, v = cache.extend(layer, k, v, self.rel.shape[0])
        n_keys = k.shape[2]
        if length == 1:
            # One query at ``start`` sees keys 0..start at distances start..0: one matmul with
            # the first start + 1 distance embeddings, reversed; nothing to gather or mask.
            bias = torch.matmul(q, self.rel[: start + 1].to(q.dtype).t()).flip(-1)
            bias = bias / math.sqrt(self.head_dim)
        else:
            q_pos = torch.arange(start, start + length, device=x.device)
            distance = q_pos[:, None] - torch.arange(n_keys, device=x.device)[None, :]
            rel_logits = torch.matmul(q, self.rel.to(q.dtype).t())  # (B, H, L, context)
            index = distance.clamp(0, self.rel.shape[0] - 1).expand(batch, self.n_heads, -1, -1)
            bias = rel_logits.gather(-1, index) / math.sqrt(self.head_dim)
            bias = bias.masked_fill(distance < 0, float("-inf"))
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(batch, length, -1))


class _Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = _RelativeAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_ff),
            nn.ReLU(),
            nn.Linear(cfg.d_ff, cfg.d_model),
            nn.Dropout(cfg.dropout),
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(
        self, x: torch.Tensor, start: int, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), start, cache, layer))
        return x + self.ff(self.ln2(x))


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class MusicTransformer(nn.Module):
    """Decoder-only transformer over event tokens, conditioned on valence, arousal and cuts."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        self.valence_mlp = _mlp(1, cfg.cond_hidden, d)
        self.arousal_mlp = _mlp(1, cfg.cond_hidden, d)
        self.null_valence = nn.Parameter(torch.empty(d).uniform_(-0.1, 0.1))
        self.null_arousal = nn.Parameter(torch.empty(d).uniform_(-0.1, 0.1))
        self.key_emb = nn.Embedding(cfg.n_keys + 1, d) if cfg.n_keys else None
        self.cond_proj = nn.Linear(d, d) if cfg.condition_every_position else None
        # Zero at first: a model trained without the plan starts out unchanged when extended.
        self.meter_emb = nn.Embedding(cfg.n_meter, d) if cfg.n_meter else None
        self.chord_emb = nn.Embedding(cfg.n_chords + 1, d) if cfg.n_chords else None
        for table in (self.meter_emb, self.chord_emb):
            if table is not None:
                nn.init.zeros_(table.weight)
        self.offset_mlp = _mlp(1, cfg.offset_hidden, d // 2)
        self.pos_emb = nn.Parameter(torch.empty(cfg.context, d - d // 2).uniform_(-0.1, 0.1))
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.vocab_size)
        nn.init.uniform_(self.tok_emb.weight, -0.1, 0.1)
        nn.init.uniform_(self.head.weight, -0.1, 0.1)
        nn.init.zeros_(self.head.bias)

    def condition_vectors(
        self, valence: torch.Tensor, arousal: torch.Tensor, key: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Prefix pseudo-tokens ``(B, P, d_model)`` from ``(B,)`` valence/arousal (NaN = none).

        ``key`` holds key classes in ``[0, n_keys)`` or -1 for none; ignored without a key prefix.
        """
        vectors = []
        for values, mlp, null in (
            (valence, self.valence_mlp, self.null_valence),
            (arousal, self.arousal_mlp, self.null_arousal),
        ):
            values = values.float()
            missing = torch.isnan(values)
            embedded = mlp(torch.nan_to_num(values).unsqueeze(-1))
            vectors.append(torch.where(missing.unsqueeze(-1), null.expand_as(embedded), embedded))
        if self.key_emb is not None:
            if key is None:
                key = torch.full_like(valence, -1, dtype=torch.long)
            key = torch.where(key < 0, torch.full_like(key, self.cfg.n_keys), key)
            vectors.append(self.key_emb(key))
        return torch.stack(vectors, dim=1)

    def forward(
        self,
        tokens: torch.Tensor,
        offsets: torch.Tensor,
        cond: torch.Tensor | None = None,
        cache: KVCache | None = None,
        plan: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Next-token logits.

        Args:
            tokens: ``(B, T)`` token ids.
            offsets: ``(B, T)`` boundary-offset inputs in seconds, ``8 - min(8, time to cut)``.
            cond: ``(B, P, d_model)`` from :meth:`condition_vectors`; needed when the cache is
                empty (the prefix is then placed first) and taken from the cache otherwise.
            cache: a :class:`KVCache` to read and extend for incremental decoding, or None.
            plan: ``(B, T, 2)`` meter and chord classes of each position (for a model with plan
                embeddings; ignored otherwise).

        Returns:
            ``(B, T, vocab_size)`` logits; position t predicts token t + 1.
        """
        start = 0 if cache is None else cache.length
        if start == 0:
            if cond is None:
                raise ValueError("cond is required when no cache is given")
            if cache is not None:
                cache.cond = cond
        else:
            cond = cache.cond
        if cond is None:
            raise ValueError("the cache holds no conditions")
        batch, _length = tokens.shape
        x = self.tok_emb(tokens) * math.sqrt(self.cfg.d_model)
        prefix = cond.shape[1] if start == 0 else 0
        if self.meter_emb is not None or self.chord_emb is not None:
            if plan is None:
                raise ValueError("this model needs the plan inputs (meter and chord classes)")
            if self.meter_emb is not None:
                x = x + self.meter_emb(plan[..., 0])
            if self.chord_emb is not None:
                x = x + self.chord_emb(plan[..., 1])
        if prefix:
            x = torch.cat([cond.to(x.dtype), x], dim=1)
            offsets = torch.cat([offsets[:, :1].expand(batch, prefix), offsets], dim=1)
        total = x.shape[1]
        if start + total > self.cfg.context:
            raise ValueError(
                f"sequence of {start + total} positions exceeds the context {self.cfg.context}"
            )
        offset_enc = self.offset_mlp(offsets.unsqueeze(-1).to(x.dtype))
        position = self.pos_emb[start : start + total].unsqueeze(0).expand(batch, -1, -1)
        x = x + torch.cat([offset_enc, position.to(x.dtype)], dim=-1)
        if self.cond_proj is not None:
            x = x + self.cond_proj(cond.sum(dim=1)).unsqueeze(1)
        x = self.drop(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, start, cache, layer)
        if cache is not None:
            cache.length = start + total
        logits = self.head(self.ln_f(x))
        return logits[:, prefix:]

    @torch.inference_mode()
    def step(
        self, tokens: torch.Tensor, offsets: torch.Tensor, plan: torch.Tensor, cache: KVCache
    ) -> torch.Tensor:
        """Next-token logits ``(B, vocab)`` for one new token per stream, behind a filled cache.

        The same arithmetic as :meth:`forward` for one position (a test holds them equal), with
        the per-step overhead removed: functional calls instead of module calls, no dropout,
        activations kept two-dimensional, the conditioning projection computed once per cache,
        and the weights laid out once per cache for decoding (:class:`_StepWeights`: every
        matrix transposed, so each product is one ``addmm`` of a few rows by a contiguous
        matrix, which MKL ran 1.2-1.8x faster than ``linear`` on the stored layout here; the
        distance embeddings reversed and scaled, so the one query's relative logits are a slice
        with no flip): 1.13x per guided step in the decoding loop, the same tokens (README,
        "Measured figures"). Per token the model is memory-bound (3.6 M weights read each
        step); see bench/generate_speed.py. The layout is made by the first step behind a cache
        that has none (:meth:`KVCache.restart` keeps it from window to window), so a model whose
        weights change (training) needs a new cache, as it does anyway.
        """
        start = cache.length
        if start == 0 or cache.cond is None:
            raise ValueError("step() needs a cache filled by forward()")
        if start + 1 > self.cfg.context:
            raise ValueError(f"sequence of {start + 1} positions exceeds the context")
        if cache.step_weights is None:
            cache.step_weights = _StepWeights.of(self)
        w = cache.step_weights
        x = self.tok_emb.weight[tokens[:, 0]] * math.sqrt(self.cfg.d_model)
        if self.meter_emb is not None:
            x = x + self.meter_emb.weight[plan[:, 0, 0]]
        if self.chord_emb is not None:
            x = x + self.chord_emb.weight[plan[:, 0, 1]]
        (w1, b1), (w2, b2) = w.offset
        offset_enc = torch.addmm(b2, torch.relu(torch.addmm(b1, offsets, w1)), w2)
        x = x + torch.cat([offset_enc, self.pos_emb[start].expand(x.shape[0], -1)], dim=-1)
        if self.cond_proj is not None:
            if cache.cond_bias is None:
                cache.cond_bias = self.cond_proj(cache.cond.sum(dim=1))
            x = x + cache.cond_bias
        batch, d, context = x.shape[0], self.cfg.d_model, self.cfg.context
        for layer, (block, weights) in enumerate(zip(self.blocks, w.layers, strict=True)):
            (wqkv, bqkv), rel_reversed, (wout, bout), (wup, bup), (wdown, bdown) = weights
            heads, head_dim = block.attn.n_heads, block.attn.head_dim
            h = F.layer_norm(x, (d,), block.ln1.weight, block.ln1.bias, block.ln1.eps)
            q, k, v = torch.addmm(bqkv, h, wqkv).view(batch, 3, heads, 1, head_dim).unbind(1)
            keys, values = cache.extend(layer, k, v, context)
            # Distances start..0 for keys 0..start: rows context-1-start.. of the reversed table.
            bias = torch.matmul(q, rel_reversed[context - 1 - start :].t())
            y = F.scaled_dot_product_attention(q, keys, values, attn_mask=bias)
            x = torch.addmm(x + bout, y.view(batch, d), wout)
            h = F.layer_norm(x, (d,), block.ln2.weight, block.ln2.bias, block.ln2.eps)
            x = torch.addmm(x + bdown, torch.relu(torch.addmm(bup, h, wup)), wdown)
        cache.length = start + 1
        x = F.layer_norm(x, (d,), self.ln_f.weight, self.ln_f.bias, self.ln_f.eps)
        return torch.addmm(w.head[1], x, w.head[0])


_Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class _StepWeights:
    """The weights :meth:`MusicTransformer.step` reads, laid out for one-token decoding."""

    offset: tuple[_Pair, _Pair]
    layers: list[tuple[_Pair, torch.Tensor, _Pair, _Pair, _Pair]]  # qkv, rel, out, up, down
    head: _Pair

    @classmethod
    def of(cls, model: MusicTransformer) -> _StepWeights:
        def transposed(linear: nn.Linear) -> _Pair:
            return linear.weight.detach().t().contiguous(), linear.bias.detach()

        layers = []
        for block in model.blocks:
            attn, (up, _, down, _) = block.attn, block.ff
            scale = 1.0 / math.sqrt(attn.head_dim)
            rel_reversed = (attn.rel.detach().flip(0) * scale).contiguous()
            layers.append(
                (transposed(attn.qkv), rel_reversed, transposed(attn.out), transposed(up),
                 transposed(down))
            )  # fmt: skip
        first, _, second = model.offset_mlp
        return cls((transposed(first), transposed(second)), layers, transposed(model.head))


def build_model(cfg: ModelConfig, seed: int | None = None) -> MusicTransformer:
    """A model with fresh weights (seeded when ``seed`` is given), in eval mode."""
    if seed is not None:
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
    model = MusicTransformer(cfg)
    if seed is not None:
        torch.random.set_rng_state(state)
    return model.eval()


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
