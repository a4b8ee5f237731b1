"""The decoding loop as it was on 2026-12-01, kept as the reference for bench/generate_speed.py.

Then, every new token went through ``MusicTransformer.forward`` (module calls, dropout calls, the
conditioning projection recomputed), the KV cache grew by concatenation (a copy of the whole
cache per layer and token), and the relative-position logits were computed for every distance
and gathered per (query, key) pair. :func:`reference_decoding` swaps that loop back in for the
duration of a ``with`` block, so the bench runs both on the same model, plan and seed.
"""

from __future__ import annotations

import contextlib
import math
import types

import torch
import torch.nn.functional as F

from vemidi.music import generate as generate_module


class ConcatCache:
    """The old cache: tensors grown with ``torch.cat``; the length read from their shape."""

    def __init__(self, n_layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.cond: torch.Tensor | None = None
        self.cond_bias = None

    @property
    def length(self) -> int:
        return 0 if self.keys[0] is None else int(self.keys[0].shape[2])

    @length.setter
    def length(self, value: int) -> None:  # the new model code sets it; the shape decides here
        pass


def _attention(self, x: torch.Tensor, start: int, cache, layer: int) -> torch.Tensor:
    """The old ``_RelativeAttention.forward``."""
    batch, length, _ = x.shape
    q, k, v = self.qkv(x).view(batch, length, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    if cache is not None:
        if cache.keys[layer] is not None:
            k = torch.cat([cache.keys[layer], k], dim=2)
            v = torch.cat([cache.values[layer], v], dim=2)
        cache.keys[layer], cache.values[layer] = k, v
    n_keys = k.shape[2]
    q_pos = torch.arange(start, start + length)
    distance = q_pos[:, None] - torch.arange(n_keys)[None, :]
    rel_logits = torch.matmul(q, self.rel.to(q.dtype).t())
    index = distance.clamp(0, self.rel.shape[0] - 1).expand(batch, self.n_heads, -1, -1)
    bias = rel_logits.gather(-1, index) / math.sqrt(self.head_dim)
    bias = bias.masked_fill(distance < 0, float("-inf"))
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    return self.out(y.transpose(1, 2).reshape(batch, length, -1))


def _step(self, token: int, offset: float, plan: tuple[int, int]) -> torch.Tensor:
    """The old ``_Window.step``: the full ``forward`` for one token."""
    n = self.streams
    logits = self.model(
        torch.tensor([[token]] * n),
        torch.tensor([[offset]] * n),
        cache=self.cache,
        plan=torch.tensor([[plan]] * n),
    )
    return self._mix(logits[:, -1])


@contextlib.contextmanager
def reference_decoding(model):
    """Within the block, :func:`vemidi.music.generate.generate` decodes as it did before."""
    blocks = [block.attn for block in model.blocks]
    saved_cache, saved_step = generate_module.KVCache, generate_module._Window.step
    generate_module.KVCache = ConcatCache
    generate_module._Window.step = _step
    for attn in blocks:
        attn.forward = types.MethodType(_attention, attn)
    try:
        yield
    finally:
        generate_module.KVCache, generate_module._Window.step = saved_cache, saved_step
        for attn in blocks:
            del attn.forward
