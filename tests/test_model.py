"""Music transformer: shapes, conditioning, and KV-cache consistency with a full pass."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vemidi.music import tokenizer as tk
from vemidi.music.model import KVCache, build_model, debug_config


def _inputs(length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(tk.SHIFT_BASE, tk.VOCAB_SIZE, (1, length), generator=g)
    offsets = torch.rand(1, length, generator=g) * 8
    plan = torch.stack(
        [
            torch.randint(0, 256, (1, length), generator=g),
            torch.randint(0, 49, (1, length), generator=g),
        ],
        dim=-1,
    )
    return tokens, offsets, plan


@pytest.mark.parametrize("n_keys", [0, 24])
def test_kv_cache_matches_full_forward(n_keys):
    cfg = dataclasses.replace(debug_config(), n_keys=n_keys, condition_every_position=bool(n_keys))
    model = build_model(cfg, seed=3).eval()
    tokens, offsets, plan = _inputs(40)
    cond = model.condition_vectors(torch.tensor([0.5]), torch.tensor([-0.3]), torch.tensor([5]))
    with torch.no_grad():
        torch.nn.init.normal_(model.meter_emb.weight)  # trained tables are not zero
        torch.nn.init.normal_(model.chord_emb.weight)
        full = model(tokens, offsets, cond=cond, plan=plan)
        cache = KVCache(cfg.n_layers)
        first = model(tokens[:, :10], offsets[:, :10], cond=cond, cache=cache, plan=plan[:, :10])
        steps = [first]
        for i in range(10, 40):
            steps.append(
                model(
                    tokens[:, i : i + 1],
                    offsets[:, i : i + 1],
                    cache=cache,
                    plan=plan[:, i : i + 1],
                )
            )
        incremental = torch.cat(steps, dim=1)
        # The lean one-token path (generation's) gives the same logits, two streams at once.
        cond2 = torch.cat([cond, cond.flip(0) * 0.5])
        cache = KVCache(cfg.n_layers)
        two = torch.cat([tokens[:, :10]] * 2)
        model(two, torch.cat([offsets[:, :10]] * 2), cond=cond2, cache=cache,
              plan=torch.cat([plan[:, :10]] * 2))  # fmt: skip
        lean = [
            model.step(
                torch.cat([tokens[:, i : i + 1]] * 2),
                torch.cat([offsets[:, i : i + 1]] * 2),
                torch.cat([plan[:, i : i + 1]] * 2),
                cache,
            )[0]
            for i in range(10, 40)
        ]
    assert incremental.shape == full.shape == (1, 40, tk.VOCAB_SIZE)
    assert torch.allclose(incremental, full, atol=1e-4)
    assert cache.length == 40 + cfg.prefix_len
    assert torch.allclose(torch.stack(lean), full[0, 10:], atol=1e-4)


def test_seeded_build_is_deterministic():
    a = build_model(debug_config(), seed=7)
    b = build_model(debug_config(), seed=7)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=False):
        assert torch.equal(pa, pb)


def test_conditions_change_the_output_and_nan_means_null():
    model = build_model(debug_config(), seed=1).eval()
    tokens, offsets, plan = _inputs(12)
    with torch.no_grad():
        outs = [
            model(
                tokens,
                offsets,
                cond=model.condition_vectors(torch.tensor([v]), torch.tensor([a])),
                plan=plan,
            )
            for v, a in [(0.8, 0.8), (-0.8, -0.8), (float("nan"), float("nan"))]
        ]
    assert not torch.allclose(outs[0], outs[1])
    assert torch.isfinite(outs[2]).all()  # the null vector replaces a missing value


def test_boundary_offsets_change_the_output():
    model = build_model(debug_config(), seed=1).eval()
    tokens, offsets, plan = _inputs(12)
    cond = model.condition_vectors(torch.tensor([0.0]), torch.tensor([0.0]))
    with torch.no_grad():
        near = model(tokens, torch.full_like(offsets, 7.5), cond=cond, plan=plan)
        far = model(tokens, torch.zeros_like(offsets), cond=cond, plan=plan)
    assert not torch.allclose(near, far)


def test_plan_inputs_start_at_zero_and_then_change_the_output():
    model = build_model(debug_config(), seed=1).eval()
    tokens, offsets, plan = _inputs(12)
    cond = model.condition_vectors(torch.tensor([0.0]), torch.tensor([0.0]))
    other = plan.clone()
    other[..., 1] = (other[..., 1] + 5) % 49  # other chords
    with torch.no_grad():
        # Zero-initialised tables: a model warm-started without the plan is unchanged at first.
        assert torch.equal(model(tokens, offsets, cond=cond, plan=plan),
                           model(tokens, offsets, cond=cond, plan=other))  # fmt: skip
        torch.nn.init.normal_(model.chord_emb.weight)
        a = model(tokens, offsets, cond=cond, plan=plan)
        b = model(tokens, offsets, cond=cond, plan=other)
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="plan"):
        model(tokens, offsets, cond=cond)
