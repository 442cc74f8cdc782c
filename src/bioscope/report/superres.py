"""Figures of SR results: side-by-side crops (the paper's Fig. 7) and a scale sweep (Fig. 8)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bioscope.evaluate.superres import Panel
from bioscope.report.figures import save_figure


def plot_comparison(
    hr: np.ndarray,
    panels: Sequence[Panel],
    scale: Fraction,
    path: str | os.PathLike[str],
    zoom: int = 64,
) -> Path:
    """HR and each model's output at ``scale``, the central ``zoom`` x ``zoom`` region enlarged,
    PSNR/SSIM in the titles."""
    chosen = [p for p in panels if p.scale == scale]
    fig = Figure(figsize=(3.2 * (len(chosen) + 1), 3.6))
    axes = fig.subplots(1, len(chosen) + 1)
    items = [("HR (ground truth)", hr)] + [
        (f"{p.model}\n{p.psnr:.2f} dB / SSIM {p.ssim:.4f}", p.image) for p in chosen
    ]
    for ax, (title, image) in zip(axes, items, strict=True):
        ax.imshow(_centre(image, zoom), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.suptitle(f"x{float(scale):g}, central {zoom} x {zoom} px", fontsize=9)
    return save_figure(fig, path)


def plot_sweep(
    panels: Sequence[Panel], models: Sequence[str], path: str | os.PathLike[str]
) -> Path:
    """One slice through every scale: a row per model (the paper's Fig. 8: bicubic against
    Meta-SRGAN), PSNR/SSIM in the titles."""
    scales = sorted({p.scale for p in panels if p.model in models})
    fig = Figure(figsize=(2.6 * len(scales), 2.9 * len(models)))
    axes = np.atleast_2d(fig.subplots(len(models), len(scales), squeeze=False))
    for row, name in enumerate(models):
        for col, scale in enumerate(scales):
            ax = axes[row, col]
            ax.axis("off")
            match = [p for p in panels if p.model == name and p.scale == scale]
            if match:
                ax.imshow(match[0].image, cmap="gray", vmin=0, vmax=1)
                ax.set_title(
                    f"{name} x{float(scale):g}\n{match[0].psnr:.2f} dB / {match[0].ssim:.4f}",
                    fontsize=7,
                )
    return save_figure(fig, path)


def _centre(image: np.ndarray, size: int) -> np.ndarray:
    top = max((image.shape[0] - size) // 2, 0)
    left = max((image.shape[1] - size) // 2, 0)
    return image[top : top + size, left : left + size]
