"""Evaluate SR models on held-out slices: PSNR and SSIM per model and scale, as the paper does.

Each test slice is reduced to its maximal information crop (the paper scores "the maximal
information crops"), cropped to an exact multiple of the scale, degraded, upscaled by each model,
clipped to [0, 1] and scored against the HR crop with a border of ``ceil(scale)`` pixels removed.
PSNR is on [0, 1] intensities (data range 1); the paper-compatible PSNR (z-normalised, peak 1) is
kept as ``paper_psnr``. A fixed-scale model (x2) is scored at its own scale only. Every model
runs through its :class:`~bioscope.inference.superres.SRPredictor` (device, tiles), as
``sr upscale`` runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from bioscope.data.degradations import Kind
from bioscope.data.mri import informative_crop
from bioscope.data.superres import make_pair
from bioscope.errors import InputError
from bioscope.geometry import parse_scales
from bioscope.inference.superres import SRPredictor
from bioscope.metrics.superres import border, gmsd, paper_psnr, psnr, ssim


@torch.inference_mode()
def evaluate_sr(
    models: Mapping[str, SRPredictor],
    slices: Sequence[np.ndarray],
    scales: Sequence[Fraction],
    crop: int = 160,
    progress: Callable[[int], None] | None = None,
    degradation: Kind = "bicubic",
) -> list[dict[str, Any]]:
    """One row per (slice, scale, model): psnr, ssim, paper_psnr, gmsd, ms; the LR made by
    ``degradation`` (bicubic, or k-space truncation as a scanner acquires it)."""
    if not slices:
        raise InputError("no slices to evaluate")
    rows = []
    for index, image in enumerate(slices):
        hr = torch.from_numpy(informative_crop(image, crop).astype(np.float32))[None, None]
        for scale in scales:
            pair = make_pair(hr, scale, degradation)
            for name, model in models.items():
                start = time.perf_counter()
                sr = _upscaled(model, pair)
                if sr is None:
                    continue
                elapsed = 1000 * (time.perf_counter() - start)
                cut = border(float(scale))
                rows.append(
                    {
                        "slice": index,
                        "scale": float(scale),
                        "model": name,
                        "psnr": float(psnr(sr, pair["hr"], crop=cut)[0]),
                        "ssim": float(ssim(sr, pair["hr"], crop=cut)[0]),
                        "paper_psnr": float(paper_psnr(sr, pair["hr"], crop=cut)[0]),
                        "gmsd": float(gmsd(sr, pair["hr"], crop=cut)[0]),
                        "ms": elapsed,
                    }
                )
        if progress is not None:
            progress(1)
    return rows


def summarise_sr(rows: Sequence[Mapping[str, Any]], params: Mapping[str, int]) -> dict[str, Any]:
    """``{"scales": {"2.0": {model: {psnr, psnr_std, ssim, ssim_std, ...}}}, "params": ...}``."""
    out: dict[str, Any] = {
        "scales": {},
        "params": dict(params),
        "data_range": 1.0,
        "border": "ceil(scale) pixels",
        "slices": len({r["slice"] for r in rows}),
    }
    for scale in sorted({r["scale"] for r in rows}):
        per_model: dict[str, Any] = {}
        for name in params:
            selected = [r for r in rows if r["scale"] == scale and r["model"] == name]
            if not selected:
                continue
            values = {
                k: np.array([r[k] for r in selected])
                for k in ("psnr", "ssim", "paper_psnr", "gmsd", "ms")
            }
            per_model[name] = {
                "psnr": float(values["psnr"].mean()),
                "psnr_std": float(values["psnr"].std()),
                "ssim": float(values["ssim"].mean()),
                "ssim_std": float(values["ssim"].std()),
                "paper_psnr": float(values["paper_psnr"].mean()),
                "gmsd": float(values["gmsd"].mean()),
                "ms_per_slice": float(np.median(values["ms"])),
            }
        out["scales"][str(scale)] = per_model
    return out


@dataclass(frozen=True)
class Panel:
    """One upscaled crop with its scores, for figures."""

    model: str
    scale: Fraction
    image: np.ndarray
    psnr: float
    ssim: float


@torch.inference_mode()
def sweep(
    models: Mapping[str, SRPredictor],
    image: np.ndarray,
    scales: Sequence[Fraction],
    crop: int = 160,
    degradation: Kind = "bicubic",
) -> tuple[np.ndarray, list[Panel]]:
    """The HR crop of ``image`` and every model's upscaled LR at every scale it supports."""
    hr = torch.from_numpy(informative_crop(image, crop).astype(np.float32))[None, None]
    panels = []
    for scale in scales:
        pair = make_pair(hr, scale, degradation)
        cut = border(float(scale))
        for name, model in models.items():
            sr = _upscaled(model, pair)
            if sr is not None:
                panels.append(
                    Panel(
                        name,
                        scale,
                        sr[0, 0].numpy(),
                        float(psnr(sr, pair["hr"], crop=cut)[0]),
                        float(ssim(sr, pair["hr"], crop=cut)[0]),
                    )
                )
    return hr[0, 0].numpy(), panels


def _upscaled(model: SRPredictor, pair: Mapping[str, Any]) -> torch.Tensor | None:
    """``model``'s result for a :func:`~bioscope.data.superres.make_pair` pair, clipped to
    [0, 1]; ``None`` when the model cannot make it (a fixed x2 model at x3, an isotropic model
    on thick slices, whose scales are ``(s, 1)``)."""
    scales = parse_scales(pair["scale"])
    if not model.supports(scales[0]) or not model.supports_scales(scales):
        return None
    return model.upscale_unit(pair["lr"], scales).clamp(0, 1)
