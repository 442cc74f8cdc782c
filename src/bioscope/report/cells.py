"""Figures of cell results: overlays, count error by blur level."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageDraw
from skimage.segmentation import find_boundaries

from bioscope.data.intensity import PercentileNorm
from bioscope.io.images import to_grey
from bioscope.report.figures import save_figure

OUTLINE = np.array([255, 60, 60], np.uint8)
TRUTH_OUTLINE = np.array([0, 255, 0], np.uint8)


def overlay(raw: np.ndarray, labels: np.ndarray, count: int | None = None) -> np.ndarray:
    """RGB uint8: the image (percentile-stretched) with red instance outlines and the count."""
    grey = np.clip(PercentileNorm(0.5, 99.8)(to_grey(raw)), 0, 1)
    rgb = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)
    rgb[find_boundaries(labels, mode="inner")] = OUTLINE
    if count is not None:
        image = Image.fromarray(rgb)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 96, 16), fill=(0, 0, 0))
        draw.text((4, 3), f"count: {count}", fill=(255, 255, 0))
        rgb = np.asarray(image)
    return rgb


def plot_mae_by_blur(
    methods: Mapping[str, Mapping[str, Any]],
    anchor: Mapping[str, float],
    path: str | os.PathLike[str],
) -> Path:
    """Count MAE per blur level for each method, beside CellProfiler's published MAE."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for name, summary in methods.items():
        by_blur = summary["count_mae_by_blur"]
        ax.plot(
            [int(b) for b in by_blur],
            list(by_blur.values()),
            marker="o",
            label=f"{name} (all: {summary['count_mae']:.2f})",
        )
    ax.axhline(
        anchor["all"],
        color="grey",
        linestyle="--",
        label=f"CellProfiler, all blur levels ({anchor['all']})",
    )
    ax.scatter(
        [1],
        [anchor["f1"]],
        color="black",
        marker="x",
        zorder=5,
        label=f"CellProfiler at F1 ({anchor['f1']})",
    )
    ax.set_xlabel("blur level F")
    ax.set_ylabel("count MAE (cells)")
    ax.set_title("Nuclei count error by blur level")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_examples(
    examples: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], path: str | os.PathLike[str]
) -> Path:
    """A grid of example overlays (image with predicted outlines and count)."""
    keys = sorted(examples, key=lambda k: (int(k.split("_F")[0][1:]), int(k.split("_F")[1])))[:9]
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig = Figure(figsize=(5 * cols, 4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, key in zip(axes.ravel(), keys, strict=False):
        raw, labels, _ = examples[key]
        ax.imshow(overlay(raw, labels, len(np.unique(labels)) - 1))
        ax.set_title(key)
    return save_figure(fig, path)


def plot_truth_and_prediction(
    examples: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], path: str | os.PathLike[str]
) -> Path:
    """Each example image with the true outlines in green and the predicted ones in red: side by
    side, or one above the other for wide images, each panel shaped like its image."""
    names = list(examples)
    height, width = examples[names[0]][0].shape[:2]
    stacked = width > 1.5 * height
    panel = (10, 10 * height / width + 0.5) if stacked else (5, 5 * height / width + 0.6)
    rows, cols = (len(names), 1) if stacked else (1, len(names))
    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=True):
        raw, truth, labels = examples[name]
        rgb = overlay(raw, labels)
        rgb[find_boundaries(truth, mode="inner")] = TRUTH_OUTLINE
        ax.imshow(rgb)
        true_n, pred_n = len(np.unique(truth)) - 1, len(np.unique(labels)) - 1
        ax.set_title(f"{name}\ntruth {true_n} (green), predicted {pred_n} (red)", fontsize=9)
        ax.axis("off")
    return save_figure(fig, path)
