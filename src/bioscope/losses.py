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


def gradient_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 distance of horizontal and vertical finite differences: a weight-free stand-in for a
    perceptual loss that rewards sharp, correctly placed edges."""
    dx = (pred[..., :, 1:] - pred[..., :, :-1]) - (target[..., :, 1:] - target[..., :, :-1])
    dy = (pred[..., 1:, :] - pred[..., :-1, :]) - (target[..., 1:, :] - target[..., :-1, :])
    return dx.abs().mean() + dy.abs().mean()


def adversarial_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """BCE of discriminator logits against all-real or all-fake labels."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


class PerceptualLoss(torch.nn.Module):
    """L1 distance of VGG19 features of grey images (as 3 channels, ImageNet-normalised)."""

    def __init__(self, features: torch.nn.Module):
        super().__init__()
        self.features = features
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        def embed(x: torch.Tensor) -> torch.Tensor:
            return self.features((x.repeat(1, 3, 1, 1) - self.mean) / self.std)

        return F.l1_loss(embed(pred), embed(target))
