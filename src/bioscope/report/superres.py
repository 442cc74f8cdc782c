"""SR evaluation written out: metrics, a Table-1-like table, side-by-side crops (the paper's
Fig. 7) and a scale sweep (Fig. 8)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bioscope.data.degradations import Kind
from bioscope.evaluate.superres import Panel, evaluate_sr, summarise_sr, sweep
from bioscope.inference.superres import SRPredictor
from bioscope.io import atomic_write_text
from bioscope.io.tables import csv_text
from bioscope.report.figures import save_figure
from bioscope.report.tables import markdown_table


def write_sr_evaluation(
    out: str | os.PathLike[str],
    models: Mapping[str, SRPredictor],
    slices: Sequence[np.ndarray],
    scales: Sequence[Fraction],
    data: str,
    progress: Callable[[int], None] | None = None,
    degradation: Kind = "bicubic",
) -> dict[str, Any]:
    """Score ``models`` on ``slices`` at ``scales`` with LR images made by ``degradation``;
    write ``metrics.json``, ``per_slice.csv``, ``table.md``, ``comparison.png`` and
    ``scale_sweep.png`` to ``out``; return the summary."""
    out = Path(out)
    rows = evaluate_sr(models, slices, scales, progress=progress, degradation=degradation)
    params = {n: sum(p.numel() for p in m.net.parameters()) for n, m in models.items()}
    summary = {"data": data, "degradation": degradation, **summarise_sr(rows, params)}
    atomic_write_text(out / "metrics.json", json.dumps(summary, indent=2))
    atomic_write_text(out / "per_slice.csv", csv_text(rows))
    atomic_write_text(out / "table.md", sr_table(summary) + "\n")
    hr, panels = sweep(models, slices[len(slices) // 2], scales, degradation=degradation)
    nearest_x2 = min(scales, key=lambda s: (abs(s - 2), -s))
    plot_comparison(hr, panels, nearest_x2, out / "comparison.png")
    learned = [n for n in models if n != "bicubic"]
    shown = ["bicubic", *learned[-1:]] if "bicubic" in models else learned[:2]
    plot_sweep(panels, shown, out / "scale_sweep.png")
    return summary


def sr_table(summary: Mapping[str, Any]) -> str:
    """A Table-1-like Markdown table: PSNR / SSIM (mean +- std) per scale and model."""
    names = list(dict.fromkeys(n for per in summary["scales"].values() for n in per))
    rows = []
    for scale, per in summary["scales"].items():
        cells = [f"x{float(scale):g}"]
        for name in names:
            m = per.get(name)
            cells.append(
                f"{m['psnr']:.2f} +- {m['psnr_std']:.2f} / {m['ssim']:.4f} +- {m['ssim_std']:.4f}"
                if m
                else "-"
            )
        rows.append(cells)
    rows.append(["parameters", *(f"{summary['params'][n]:,}" for n in names)])
    return markdown_table(["scale", *(f"{n}: PSNR dB / SSIM" for n in names)], rows)


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
