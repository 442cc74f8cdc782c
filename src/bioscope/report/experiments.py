"""Figures of the cells paper's experiment: curves (Fig. 7), masks (Fig. 5), Figs. 8 and 9."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy import ndimage
from skimage.feature import peak_local_max
from sklearn.cluster import DBSCAN

from bioscope.counting import count_paper
from bioscope.report.cells import overlay
from bioscope.report.figures import save_figure


def plot_curves(
    runs: Mapping[str, Sequence[Mapping[str, Any]]], path: str | os.PathLike[str]
) -> Path:
    """Training/validation loss and validation IoU per epoch for each model (the paper's Fig. 7)."""
    fig = Figure(figsize=(12, 4))
    loss_ax, iou_ax, paper_ax = fig.subplots(1, 3)
    for label, rows in runs.items():
        epochs = [r["epoch"] for r in rows]
        line = loss_ax.plot(epochs, [r["train_loss"] for r in rows], label=f"{label} train")[0]
        loss_ax.plot(
            epochs,
            [r["val_loss"] for r in rows],
            "--",
            color=line.get_color(),
            label=f"{label} val",
        )
        iou_ax.plot(epochs, [r["val_iou"] for r in rows], color=line.get_color(), label=label)
        paper_ax.plot(
            epochs, [r["val_paper_mean_iou"] for r in rows], color=line.get_color(), label=label
        )
    for ax, title in (
        (loss_ax, "loss"),
        (iou_ax, "validation foreground IoU"),
        (paper_ax, "validation paper mean IoU (background included)"),
    ):
        ax.set_xlabel("epoch")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=7)
    iou_ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_masks(
    raw: np.ndarray,
    truth: np.ndarray,
    probs: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """A test image, its true mask and each model's predicted mask (the paper's Fig. 5)."""
    panels = [("image", raw, "gray"), ("true mask", truth, "gray")]
    panels += [(label, prob > 0.5, "gray") for label, prob in probs.items()]
    fig = Figure(figsize=(4 * len(panels), 3.6))
    for ax, (label, image, cmap) in zip(fig.subplots(1, len(panels)), panels, strict=True):
        ax.imshow(image, cmap=cmap)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_local_maxima(prob: np.ndarray, threshold: float, path: str | os.PathLike[str]) -> Path:
    """The paper's Fig. 8: predicted map, after a maximum filter, and its local maxima above
    the model's ``threshold``."""
    filtered = ndimage.maximum_filter(prob, size=3)
    peaks = peak_local_max(filtered, min_distance=5, threshold_abs=threshold, exclude_border=False)
    fig = Figure(figsize=(13, 3.6))
    axes = fig.subplots(1, 3)
    for ax, image, title in (
        (axes[0], prob, "predicted map"),
        (axes[1], filtered, "maximum filter"),
        (axes[2], filtered, f"local maxima ({len(peaks)})"),
    ):
        ax.imshow(image, cmap="gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    axes[2].plot(peaks[:, 1], peaks[:, 0], "r.", markersize=3)
    return save_figure(fig, path)


def plot_dbscan(
    prob: np.ndarray, true_count: int | None, threshold: float, path: str | os.PathLike[str]
) -> Path:
    """The paper's Fig. 9: DBSCAN clusters of the local maxima; their number is the count."""
    filtered = ndimage.maximum_filter(prob, size=3)
    peaks = peak_local_max(filtered, min_distance=5, threshold_abs=threshold, exclude_border=False)
    result = count_paper(prob, threshold=threshold)
    fig = Figure(figsize=(7, 5.4))
    ax = fig.subplots()
    ax.imshow(overlay((prob * 255).astype(np.uint8), np.zeros(prob.shape, int)), alpha=0.5)
    if len(peaks):
        clusters = DBSCAN(eps=10.0, min_samples=1).fit_predict(peaks)
        ax.scatter(peaks[:, 1], peaks[:, 0], c=clusters % 20, cmap="tab20", s=8)
    truth = f", true count {true_count}" if true_count is not None else ""
    ax.set_title(f"DBSCAN clusters of local maxima: {result.count}{truth}", fontsize=10)
    ax.axis("off")
    return save_figure(fig, path)
