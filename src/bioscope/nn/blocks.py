"""Small building blocks shared by several models."""

from __future__ import annotations

from torch import nn


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 3x3 'same' convolution with he-normal weights and zero bias (the cells paper's)."""
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    nn.init.zeros_(conv.bias)
    return conv
