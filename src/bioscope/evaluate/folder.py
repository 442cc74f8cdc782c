"""Evaluate cell segmentation on any folder of images with instance masks (Cellpose layout).

Per image and method (through the :class:`~bioscope.inference.cells.CellPredictor`): the count
against the number of true objects, the foreground IoU of the predicted mask against the true
one, and object matches at IoU 0.5 .. 0.9 (one to one). The summary pools objects over images, as
StarDist's ``matching_dataset`` does: precision, recall and F1 at IoU 0.5, the mean over
thresholds of TP / (TP + FP + FN) (StarDist's "AP"), the mean absolute count error and its mean
per-image percentage. Annotations are often incomplete (dim or dividing nuclei left out): the
predicted objects that touch no labelled pixel are counted, and the foreground IoU without them is
reported beside the plain one, with how many of those objects are at least half as bright as the
median object on a label (missing labels look like labelled nuclei; false detections are faint),
so a reader can tell missing labels from wrong outlines and from noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from bioscope.counting import count_maps
from bioscope.data.cells import CellPair, read_labels
from bioscope.errors import BioscopeWarning, InputError
from bioscope.inference.cells import CellPredictor, Diameter
from bioscope.io import read_image
from bioscope.io.images import to_grey
from bioscope.metrics.objects import AP_THRESHOLDS, match_at
from bioscope.metrics.segmentation import foreground_iou

#: Images kept for the overlay figure.
SHOWN = 4
#: An object on no label at least this share of the labelled objects' median brightness looks
#: like a nucleus the annotation left out.
BRIGHT_SHARE = 0.5


@dataclass
class FolderEvaluation:
    """Per-image rows, and a few ``(image, true labels, predicted labels)`` for figures."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


def evaluate_folder(
    predictor: CellPredictor,
    pairs: Sequence[CellPair],
    methods: Sequence[str],
    diameter: Diameter = None,
    progress: Callable[[int], None] | None = None,
    channel: int | None = None,
) -> FolderEvaluation:
    """Segment every image (its ``channel``, when given: :func:`~bioscope.io.read_image`) with
    every method and score it against its instance mask."""
    if not pairs:
        raise InputError("no image/mask pairs to evaluate")
    result = FolderEvaluation()
    for pair in pairs:
        raw = read_image(pair.image, channel=channel)
        grey = to_grey(raw)
        truth = read_labels(pair.mask, pair.image, grey.shape)
        if not truth.any():
            warnings.warn(
                f"{pair.mask}: labels no nuclei (the right file?); its image is scored as one "
                "without any, and left out of the percentage count error",
                BioscopeWarning,
                stacklevel=2,
            )
        segmentation = predictor.segment(raw, diameter)
        row: dict[str, Any] = {
            "file": pair.image.name,
            "true_count": int(len(np.unique(truth)) - 1),
        }
        for method in methods:
            if method == segmentation.method:
                labels = segmentation.labels
            elif method == "classic":
                labels = predictor.classic(raw, diameter).labels
            else:
                labels = count_maps(segmentation.maps, method, segmentation.threshold).labels
            row.update(_scores(truth, labels, method, grey))
            if method == methods[0] and len(result.examples) < SHOWN:
                result.examples[pair.image.name] = (raw, truth, labels)
        result.rows.append(row)
        if progress is not None:
            progress(1)
    return result


def _scores(truth: np.ndarray, labels: np.ndarray, method: str, grey: np.ndarray) -> dict[str, Any]:
    ids = np.unique(labels[labels > 0])
    touching = np.unique(labels[(labels > 0) & (truth > 0)])
    unlabelled = np.setdiff1d(ids, touching)
    out: dict[str, Any] = {
        f"count_{method}": len(ids),
        f"foreground_iou_{method}": _iou(truth > 0, labels > 0),
        f"unlabelled_{method}": len(unlabelled),
        f"unlabelled_bright_{method}": _bright(grey, labels, touching, unlabelled),
        f"foreground_iou_labelled_{method}": _iou(
            truth > 0, (labels > 0) & ~np.isin(labels, unlabelled)
        ),
    }
    for threshold, match in match_at(truth, labels).items():
        out[f"tp{threshold:g}_{method}"] = match.matched
    return out


def _bright(
    grey: np.ndarray, labels: np.ndarray, touching: np.ndarray, unlabelled: np.ndarray
) -> int:
    """How many ``unlabelled`` objects have a mean brightness of at least
    :data:`BRIGHT_SHARE` of the median over the ``touching`` ones (background: the image's
    1st percentile)."""
    if len(unlabelled) == 0 or len(touching) == 0:
        return 0
    image = grey.astype(np.float64) - np.percentile(grey, 1)
    means = ndimage.mean(image, labels, np.concatenate([touching, unlabelled]))
    reference = np.median(means[: len(touching)])
    return int(np.sum(means[len(touching) :] >= BRIGHT_SHARE * reference))


def _iou(truth: np.ndarray, prediction: np.ndarray) -> float:
    """:func:`~bioscope.metrics.segmentation.foreground_iou` of one pair of boolean masks."""
    return float(foreground_iou(torch.from_numpy(prediction)[None], torch.from_numpy(truth)[None]))


def summarise_folder(evaluation: FolderEvaluation, methods: Sequence[str]) -> dict[str, Any]:
    """The ``metrics.json`` dictionary: per method, pooled object scores and count errors."""
    rows = evaluation.rows
    true = np.array([r["true_count"] for r in rows], float)
    summary: dict[str, Any] = {"images": len(rows), "true_objects": int(true.sum()), "methods": {}}
    for method in methods:
        counts = np.array([r[f"count_{method}"] for r in rows], float)
        error = np.abs(counts - true)
        accuracy = {}
        for threshold in AP_THRESHOLDS:
            tp = sum(r[f"tp{threshold:g}_{method}"] for r in rows)
            total = true.sum() + counts.sum() - tp
            accuracy[f"{threshold:g}"] = float(tp / total) if total else 1.0
        tp = sum(r[f"tp0.5_{method}"] for r in rows)
        precision = tp / counts.sum() if counts.sum() else 1.0
        recall = tp / true.sum() if true.sum() else 1.0
        summary["methods"][method] = {
            "foreground_iou": float(np.mean([r[f"foreground_iou_{method}"] for r in rows])),
            "unlabelled_predictions": int(sum(r[f"unlabelled_{method}"] for r in rows)),
            "unlabelled_bright": int(sum(r[f"unlabelled_bright_{method}"] for r in rows)),
            "foreground_iou_labelled": float(
                np.mean([r[f"foreground_iou_labelled_{method}"] for r in rows])
            ),
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(2 * tp / (true.sum() + counts.sum())) if true.sum() + counts.sum() else 1.0,
            "ap": float(np.mean(list(accuracy.values()))),
            "accuracy_by_iou": accuracy,
            "count_mae": float(error.mean()),
            "count_mape": float(np.mean(error[true > 0] / true[true > 0]) * 100)
            if (true > 0).any()
            else float("nan"),
        }
    summary["primary_method"] = methods[0]
    return summary
