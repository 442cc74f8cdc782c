"""Evaluate a cell model on a BBBC005-layout folder: segmentation, counts, objects.

Per image (through the :class:`~bioscope.inference.cells.CellPredictor`, with the model's own
threshold): predicted maps, a count by every requested method against the true count (the placed
count of the simulator's ``cells.csv``, else the count in the file name: evaluation metadata,
never an input of the prediction), the foreground IoU/Dice against the in-focus truth of the field
(its F1 mask; at F1 that is the image's own mask), and, where instance labels exist, object
precision/recall/F1 at IoU 0.5.

Summary keys (``metrics.json``): ``foreground_iou``, ``dice``, ``paper_mean_iou`` (F1 images, which
have masks), ``count_mae``, ``count_mape``, ``count_mean_signed_error``, ``count_mae_by_blur`` and
``object_*`` for the primary (first) method, the same per method under ``methods``, and
``foreground_iou_by_blur`` against the in-focus truth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bioscope.counting import CountResult, count_maps
from bioscope.data.bbbc005 import Bbbc005Record
from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor, Diameter, Segmentation
from bioscope.io import read_image
from bioscope.metrics.objects import match_objects
from bioscope.metrics.segmentation import dice, foreground_iou, paper_mean_iou

#: CellProfiler's published BBBC005 nuclei-count MAE (cells): at F1, and over all blur levels.
CELLPROFILER_MAE = {"f1": 3.35, "all": 14.9}


@dataclass
class CellEvaluation:
    """Per-image rows, and the F1 maps kept for the paper's pixel-pooled mean IoU."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    f1_probs: list[torch.Tensor] = field(default_factory=list)
    f1_masks: list[torch.Tensor] = field(default_factory=list)
    examples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


def evaluate_cells(
    predictor: CellPredictor,
    records: Sequence[Bbbc005Record],
    methods: Sequence[str],
    progress: Callable[[int], None] | None = None,
    diameter: Diameter = None,
) -> CellEvaluation:
    """Predict every record and score it (see the module docstring)."""
    if not records:
        raise InputError("no images to evaluate")
    field_masks = {(r.name.field, r.name.stain): r.mask for r in records if r.mask is not None}
    result = CellEvaluation()
    cache: dict[str, np.ndarray] = {}
    shown = {
        (c, b)
        for c in _spread({r.name.count for r in records})
        for b in _spread({r.name.blur for r in records})
    }
    for record in records:
        raw = read_image(record.image)
        segmentation = predictor.segment(raw, diameter)
        maps, threshold = segmentation.maps, segmentation.threshold
        row: dict[str, Any] = {
            "file": record.image.name,
            "field": record.name.field,
            "blur": record.name.blur,
            "stain": record.name.stain,
            "true_count": record.true_count,
        }
        truth_labels = _cached(cache, record.labels)
        counts: dict[str, CountResult | Segmentation] = {}
        for method in methods:
            if method == segmentation.method:
                counted = segmentation
            elif method == "classic":
                counted = predictor.classic(raw, diameter)
            else:
                counted = count_maps(maps, method, threshold)
            counts[method] = counted
            row[f"count_{method}"] = counted.count
            if truth_labels is not None:
                match = match_objects(truth_labels, counted.labels)
                row.update(
                    {f"matched_{method}": match.matched, f"predicted_{method}": match.predicted}
                )
        mask_path = field_masks.get((record.name.field, record.name.stain))
        if mask_path is not None:
            truth = torch.from_numpy(_cached(cache, mask_path) > 0)[None]
            pred = torch.from_numpy(segmentation.mask)[None]
            row["foreground_iou"] = float(foreground_iou(pred, truth)[0])
            row["dice"] = float(dice(pred, truth)[0])
            if record.mask is not None:
                result.f1_probs.append(torch.from_numpy(maps[0]))
                result.f1_masks.append(truth[0])
        result.rows.append(row)
        key = f"C{record.name.count}_F{record.name.blur}"
        if (record.name.count, record.name.blur) in shown and key not in result.examples:
            result.examples[key] = (raw, counts[methods[0]].labels, maps[0])
        if progress is not None:
            progress(1)
    return result


def summarise(evaluation: CellEvaluation, methods: Sequence[str]) -> dict[str, Any]:
    """The ``metrics.json`` dictionary of an evaluation."""
    rows = evaluation.rows
    f1_rows = [r for r in rows if r["blur"] == 1 and "foreground_iou" in r]
    summary: dict[str, Any] = {"images": len(rows), "f1_images_with_masks": len(f1_rows)}
    if f1_rows:
        summary["foreground_iou"] = float(np.mean([r["foreground_iou"] for r in f1_rows]))
        summary["dice"] = float(np.mean([r["dice"] for r in f1_rows]))
    if evaluation.f1_probs:
        summary["paper_mean_iou"] = paper_mean_iou(
            torch.stack(evaluation.f1_probs), torch.stack(evaluation.f1_masks)
        )
    scored = [r for r in rows if "foreground_iou" in r]
    summary["foreground_iou_by_blur"] = _by_blur(scored, lambda r: r["foreground_iou"])
    summary["methods"] = {m: _count_summary(rows, m) for m in methods}
    summary.update(summary["methods"][methods[0]])
    summary["primary_method"] = methods[0]
    summary["cellprofiler_count_mae"] = CELLPROFILER_MAE
    return summary


def _count_summary(rows: list[dict[str, Any]], method: str) -> dict[str, Any]:
    error = np.array([r[f"count_{method}"] - r["true_count"] for r in rows], float)
    true = np.array([r["true_count"] for r in rows], float)
    out: dict[str, Any] = {
        "count_mae": float(np.abs(error).mean()),
        "count_mape": float(np.mean(np.abs(error)[true > 0] / true[true > 0]) * 100)
        if (true > 0).any()
        else float("nan"),
        "count_mean_signed_error": float(error.mean()),
        "count_mae_by_blur": _by_blur(rows, lambda r: abs(r[f"count_{method}"] - r["true_count"])),
    }
    matched = [r for r in rows if f"matched_{method}" in r]
    if matched:
        tp = sum(r[f"matched_{method}"] for r in matched)
        n_pred = sum(r[f"predicted_{method}"] for r in matched)
        n_true = sum(r["true_count"] for r in matched)
        out["object_precision"] = tp / n_pred if n_pred else 1.0
        out["object_recall"] = tp / n_true if n_true else 1.0
        out["object_f1"] = 2 * tp / (n_pred + n_true) if n_pred + n_true else 1.0
    return out


def _by_blur(
    rows: list[dict[str, Any]], value: Callable[[dict[str, Any]], float]
) -> dict[str, float]:
    blurs = sorted({r["blur"] for r in rows})
    return {str(b): float(np.mean([value(r) for r in rows if r["blur"] == b])) for b in blurs}


def _spread(values: set[int]) -> set[int]:
    """The smallest, middle and largest of ``values``."""
    ordered = sorted(values)
    return {ordered[0], ordered[len(ordered) // 2], ordered[-1]}


def _cached(cache: dict[str, np.ndarray], path) -> np.ndarray | None:
    if path is None:
        return None
    key = str(path)
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[key] = read_image(path)
    return cache[key]
