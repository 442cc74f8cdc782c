"""Overlap metrics for binary segmentation.

Conventions (stated because papers differ):

* :func:`foreground_iou` and :func:`dice` score the foreground class only, per image. An image where
  both prediction and truth are empty scores 1.0 (nothing to find, nothing found); an empty truth
  with any predicted pixel scores 0.0.
* :func:`paper_mean_iou` is the metric of the Keras "U-Net starter" the cells paper builds on:
  for each threshold t in 0.50, 0.55, ..., 0.95 the *two-class* mean IoU (background and foreground
  averaged) of ``prob > t`` over the whole batch, then the mean over thresholds. Background is
  included, so it is high even for poor foreground segmentation; it is reported only to compare
  with the paper.
"""

from __future__ import annotations

import torch

from bioscope.errors import InputError

PAPER_THRESHOLDS = tuple(0.5 + 0.05 * i for i in range(10))


def foreground_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image foreground IoU (Jaccard) of boolean masks ``(B, ...)``; both-empty scores 1.

    Example:
        >>> a = torch.tensor([[1, 1, 0, 0]]).bool(); b = torch.tensor([[1, 0, 1, 0]]).bool()
        >>> foreground_iou(a, b)
        tensor([0.3333])
    """
    pred, target = _check(pred, target)
    intersection = (pred & target).sum(1).double()
    union = (pred | target).sum(1).double()
    return torch.where(union > 0, intersection / union.clamp(min=1), 1.0).float()


def dice(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image Dice (F1) of boolean masks ``(B, ...)``; both-empty scores 1."""
    pred, target = _check(pred, target)
    intersection = (pred & target).sum(1).double()
    total = (pred.sum(1) + target.sum(1)).double()
    return torch.where(total > 0, 2 * intersection / total.clamp(min=1), 1.0).float()


def paper_mean_iou(
    prob: torch.Tensor, target: torch.Tensor, thresholds: tuple[float, ...] = PAPER_THRESHOLDS
) -> float:
    """The paper's (Keras starter's) mean IoU: two-class, background included, over the batch,
    averaged over thresholds 0.5..0.95. See the module docstring."""
    target = target.bool().flatten()
    prob = prob.flatten()
    if prob.shape != target.shape:
        raise InputError(f"prediction and target sizes differ: {prob.numel()} vs {target.numel()}")
    scores = []
    for threshold in thresholds:
        pred = prob > threshold
        per_class = []
        for p, t in ((pred, target), (~pred, ~target)):
            union = (p | t).sum()
            if union > 0:  # a class absent from both is left out, as Keras' mean_iou does
                per_class.append(((p & t).sum() / union).item())
        scores.append(sum(per_class) / len(per_class))
    return float(sum(scores) / len(scores))


def _check(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.shape != target.shape:
        raise InputError(
            f"prediction shape {tuple(pred.shape)} does not match target {tuple(target.shape)}"
        )
    if pred.ndim < 2:
        raise InputError(f"expected a batch of masks (B, ...), got shape {tuple(pred.shape)}")
    return pred.bool().flatten(1), target.bool().flatten(1)
