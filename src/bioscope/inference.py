"""Prediction with a trained cell model on images of any size.

Two modes:

* ``resize``: the paper's. The image is resized to the model's training square (256 x 256),
  predicted, and the logits resized back. Cells are squashed as in training.
* ``native``: full resolution. An image up to ``max_side`` pixels a side goes through in one pass
  (reflect-padded to a multiple of 16); a larger one by overlapping tiles whose logits are blended
  with a Gaussian weight (sigma = tile / 8, as MONAI's sliding-window inference), so no seam
  shows.

A model trained on resized images predicts in ``resize`` mode by default, one trained at native
resolution (random crops) in ``native`` mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bioscope.data.cells import pad_to_multiple, prepare_image
from bioscope.errors import InputError
from bioscope.models.checkpoint import load_model

Mode = Literal["resize", "native"]
MULTIPLE = 16


@dataclass
class CellModel:
    """A segmentation network and how it was trained to see images.

    Attributes:
        net: the network (eval mode); output channel 0 is the cell mask, channel 1 (if any) the
            per-cell distance map.
        size: the training square for ``resize`` mode, or ``None`` for a native-resolution model.
        source: where it was loaded from, for messages and reports.
        threshold: probability above which a pixel is cell (the training config's, possibly
            recalibrated on validation data at export).
    """

    net: nn.Module
    size: int | None
    source: str
    threshold: float = 0.5

    @property
    def default_mode(self) -> Mode:
        return "native" if self.size is None else "resize"


def load_cell_model(path: str | os.PathLike[str]) -> CellModel:
    """Load a segmentation checkpoint written by ``bioscope cells train``."""
    net, meta = load_model(path, task="segmentation")
    config = meta.get("config") or {}
    data, optim = config.get("data") or {}, config.get("optim") or {}
    return CellModel(net, data.get("size", 256), str(path), float(optim.get("threshold", 0.5)))


@torch.inference_mode()
def predict_maps(
    model: CellModel,
    raw: np.ndarray,
    mode: Mode | None = None,
    tile: int = 512,
    overlap: int = 64,
    max_side: int = 1024,
) -> np.ndarray:
    """Probability maps ``(C, H, W)`` (sigmoid of the logits) of one image.

    Args:
        model: the cell model.
        raw: ``(H, W)`` or ``(H, W, 3)`` image as read from disk (any dtype).
        mode: ``"resize"`` or ``"native"`` (default: how the model was trained).
        tile: tile side in ``native`` mode for images larger than ``max_side``.
        overlap: overlap of neighbouring tiles, in pixels.
        max_side: images up to this size go through in one pass.
    """
    image = prepare_image(raw)
    x = torch.from_numpy(image)[None, None]
    mode = mode or model.default_mode
    if mode == "resize":
        if model.size is None:
            raise InputError(f"{model.source}: a native-resolution model has no resize mode")
        small = F.interpolate(x, (model.size, model.size), mode="bilinear", antialias=True)
        logits = F.interpolate(model.net(small), image.shape, mode="bilinear")
    elif mode == "native":
        if max(image.shape) <= max_side:
            logits = padded_forward(model.net, x)
        else:
            logits = sliding_window(model.net, x, tile, overlap)
    else:
        raise InputError(f"unknown prediction mode {mode!r}; use resize or native")
    return torch.sigmoid(logits)[0].numpy()


def padded_forward(net: nn.Module, x: torch.Tensor, multiple: int = MULTIPLE) -> torch.Tensor:
    """Run ``net`` on ``x`` reflect-padded to a multiple of ``multiple``; crop the output back."""
    height, width = x.shape[-2:]
    return net(pad_to_multiple(x, multiple))[..., :height, :width]


def sliding_window(net: nn.Module, x: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
    """Predict ``x`` ``(1, C, H, W)`` by overlapping ``tile`` x ``tile`` windows blended with a
    Gaussian weight; borders smaller than a tile are handled by padding."""
    if tile % MULTIPLE or tile <= 0:
        raise InputError(f"tile must be a positive multiple of {MULTIPLE}, got {tile}")
    if not 0 <= overlap < tile:
        raise InputError(f"overlap must be in [0, tile), got {overlap}")
    height, width = x.shape[-2:]
    pad_h, pad_w = max(tile - height, 0), max(tile - width, 0)
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    weight = gaussian_window(tile, tile)
    out, norm = None, torch.zeros(x.shape[-2:])
    for top in _starts(x.shape[-2], tile, tile - overlap):
        for left in _starts(x.shape[-1], tile, tile - overlap):
            window = (slice(top, top + tile), slice(left, left + tile))
            logits = net(x[..., window[0], window[1]])
            if out is None:
                out = torch.zeros(1, logits.shape[1], *x.shape[-2:])
            out[..., window[0], window[1]] += logits * weight
            norm[window] += weight
    assert out is not None
    return (out / norm)[..., :height, :width]


def _starts(length: int, tile: int, stride: int) -> list[int]:
    starts = list(range(0, length - tile + 1, max(stride, 1)))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def gaussian_window(height: int, width: int) -> torch.Tensor:
    """Blending weight of a tile: separable Gaussian, sigma = side / 8 (MONAI's default). It is
    never zero (>= 1e-7 at the corners), and it is not clamped: a floor on the product would give
    every tile the same say along the image's borders, its contaminated edges included."""

    def profile(n: int) -> torch.Tensor:
        return torch.exp(-0.5 * ((torch.arange(n) - (n - 1) / 2) / (n / 8)) ** 2)

    return profile(height)[:, None] * profile(width)[None, :]


def image_outputs(path: Path, out: Path) -> dict[str, Path]:
    """Where ``bioscope cells predict`` writes the outputs of image ``path`` in folder ``out``."""
    stem = path.stem
    return {
        "prob": out / f"{stem}_prob.tif",
        "mask": out / f"{stem}_mask.tif",
        "labels": out / f"{stem}_labels.tif",
        "overlay": out / f"{stem}_overlay.png",
    }
