"""Small building blocks shared by several models."""

from __future__ import annotations

import torch
from torch import nn

from bioscope.errors import InputError


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 3x3 'same' convolution with he-normal weights and zero bias (the cells paper's)."""
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    nn.init.zeros_(conv.bias)
    return conv


class Dropout(nn.Module):
    """``nn.Dropout`` with the keep mask drawn as ``uniform >= p``: the same distribution, but
    PyTorch's CPU ``bernoulli_`` runs on one thread, and this made a U-Net training step 8%
    faster on 2 cores."""

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise InputError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand_like(x) >= self.p
        return x * (keep * (1 / (1 - self.p)))

    def extra_repr(self) -> str:
        return f"p={self.p}"
