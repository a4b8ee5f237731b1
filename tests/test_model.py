"""Music transformer: shapes, conditioning, and KV-cache consistency with a full pass."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vemidi.music import tokenizer as tk
from vemidi.music.model import KVCache, build_model, debug_config


def _inputs(length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(tk.SHIFT_BASE, tk.VOCAB_SIZE, (1, length), generator=g)
    offsets = torch.rand(1, length, generator=g) * 8
    return tokens, offsets


@pytest.mark.parametrize("n_keys", [0, 24])
def test_kv_cache_matches_full_forward(n_keys):
    cfg = dataclasses.replace(debug_config(), n_keys=n_keys, condition_every_position=bool(n_keys))
    model = build_model(cfg, seed=3).eval()
    tokens, offsets = _inputs(40)
    cond = model.condition_vectors(torch.tensor([0.5]), torch.tensor([-0.3]), torch.tensor([5]))
    with torch.no_grad():
        full = model(tokens, offsets, cond=cond)
        cache = KVCache(cfg.n_layers)
        first = model(tokens[:, :10], offsets[:, :10], cond=cond, cache=cache)
        steps = [first]
        for i in range(10, 40):
            steps.append(model(tokens[:, i : i + 1], offsets[:, i : i + 1], cache=cache))
    incremental = torch.cat(steps, dim=1)
    assert incremental.shape == full.shape == (1, 40, tk.VOCAB_SIZE)
    assert torch.allclose(incremental, full, atol=1e-4)


def test_seeded_build_is_deterministic():
    a = build_model(debug_config(), seed=7)
    b = build_model(debug_config(), seed=7)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=False):
        assert torch.equal(pa, pb)


def test_conditions_change_the_output_and_nan_means_null():
    model = build_model(debug_config(), seed=1).eval()
    tokens, offsets = _inputs(12)
    with torch.no_grad():
        outs = [
            model(
                tokens, offsets, cond=model.condition_vectors(torch.tensor([v]), torch.tensor([a]))
            )
            for v, a in [(0.8, 0.8), (-0.8, -0.8), (float("nan"), float("nan"))]
        ]
    assert not torch.allclose(outs[0], outs[1])
    assert torch.isfinite(outs[2]).all()  # the null vector replaces a missing value


def test_boundary_offsets_change_the_output():
    model = build_model(debug_config(), seed=1).eval()
    tokens, offsets = _inputs(12)
    cond = model.condition_vectors(torch.tensor([0.0]), torch.tensor([0.0]))
    with torch.no_grad():
        near = model(tokens, torch.full_like(offsets, 7.5), cond=cond)
        far = model(tokens, torch.zeros_like(offsets), cond=cond)
    assert not torch.allclose(near, far)
