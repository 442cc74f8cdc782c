"""Object-level detection scores: one-to-one matching of instance labels at an IoU threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from bioscope.errors import InputError


@dataclass(frozen=True)
class ObjectMatch:
    """Matched (true positive), true and predicted object counts."""

    matched: int
    true: int
    predicted: int

    @property
    def precision(self) -> float:
        """Matched / predicted; 1 when nothing was predicted."""
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Matched / true; 1 when there was nothing to find."""
        return self.matched / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        """2 matched / (true + predicted); 1 when both are empty."""
        total = self.true + self.predicted
        return 2 * self.matched / total if total else 1.0

    @property
    def accuracy(self) -> float:
        """Matched / (true + predicted - matched): StarDist's "AP" at one IoU threshold."""
        total = self.true + self.predicted - self.matched
        return self.matched / total if total else 1.0


def iou_matrix(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """IoU of every true object (rows, labels 1..) with every predicted object (columns)."""
    if true.shape != pred.shape:
        raise InputError(f"label images differ in shape: {true.shape} vs {pred.shape}")
    true_ids, true_flat = np.unique(true, return_inverse=True)
    pred_ids, pred_flat = np.unique(pred, return_inverse=True)
    joint = np.bincount(
        true_flat.ravel() * len(pred_ids) + pred_flat.ravel(),
        minlength=len(true_ids) * len(pred_ids),
    ).reshape(len(true_ids), len(pred_ids))
    union = joint.sum(1, keepdims=True) + joint.sum(0, keepdims=True) - joint
    iou = joint / np.maximum(union, 1)
    return iou[true_ids > 0][:, pred_ids > 0]


def match_objects(true: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> ObjectMatch:
    """Match objects one to one (Hungarian, maximising IoU); a pair counts when IoU >= threshold.

    Example:
        >>> t = np.zeros((4, 8), int); t[:, :3] = 1; t[:, 5:] = 2
        >>> p = np.zeros((4, 8), int); p[:, :4] = 7
        >>> m = match_objects(t, p); (m.matched, m.true, m.predicted)
        (1, 2, 1)
    """
    iou = iou_matrix(true, pred)
    if iou.size == 0:
        return ObjectMatch(0, iou.shape[0], iou.shape[1])
    rows, cols = linear_sum_assignment(-iou)
    matched = int((iou[rows, cols] >= threshold).sum())
    return ObjectMatch(matched, iou.shape[0], iou.shape[1])


#: IoU thresholds of StarDist's evaluation: 0.5, 0.55, ..., 0.9.
AP_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(9))


def match_at(
    true: np.ndarray, pred: np.ndarray, thresholds: tuple[float, ...] = AP_THRESHOLDS
) -> dict[float, ObjectMatch]:
    """:func:`match_objects` at several IoU thresholds, the IoU matrix computed once (above 0.5 a
    pair can match only one way, so one assignment serves every threshold).

    Example:
        >>> t = np.zeros((4, 8), int); t[:, :4] = 1
        >>> p = np.zeros((4, 8), int); p[:, 1:4] = 1
        >>> {k: m.matched for k, m in match_at(t, p, (0.5, 0.8)).items()}
        {0.5: 1, 0.8: 0}
    """
    iou = iou_matrix(true, pred)
    if iou.size == 0:
        return {t: ObjectMatch(0, iou.shape[0], iou.shape[1]) for t in thresholds}
    rows, cols = linear_sum_assignment(-iou)
    best = iou[rows, cols]
    return {t: ObjectMatch(int((best >= t).sum()), *iou.shape) for t in thresholds}
