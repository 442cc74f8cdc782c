"""Training losses. Segmentation losses take logits ``(B, 1, H, W)`` and 0/1 targets."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """The paper's Dice loss, ``1 - (2|X.Y| + s) / (|X| + |Y| + s)`` on sigmoid probabilities,
    per image then averaged; the smoothing ``s`` makes an empty prediction of an empty mask 0.

    Example:
        >>> t = torch.zeros(1, 1, 4, 4); t[..., :2, :] = 1
        >>> round(float(dice_loss(torch.where(t > 0, 20.0, -20.0), t)), 4)
        0.0
    """
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1).to(prob.dtype)
    intersection = (prob * target).sum(1)
    total = prob.sum(1) + target.sum(1)
    return (1 - (2 * intersection + smooth) / (total + smooth)).mean()


def bce_dice_loss(
    logits: torch.Tensor, target: torch.Tensor, bce_weight: float = 0.5
) -> torch.Tensor:
    """``bce_weight * BCE + (1 - bce_weight) * Dice``: BCE gives every pixel a gradient, Dice
    balances foreground against the larger background."""
    bce = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
    return bce_weight * bce + (1 - bce_weight) * dice_loss(logits, target)


SEGMENTATION_LOSSES = {"dice": dice_loss, "bce_dice": bce_dice_loss}
