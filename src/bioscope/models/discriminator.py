"""SRGAN's discriminator: conv + LeakyReLU blocks, adaptive average pool, dense layers as 1x1 convs.

It returns logits; the sigmoid of the paper's network is applied inside the loss
(``binary_cross_entropy_with_logits``), which is the same function, computed stably.
"""

from __future__ import annotations

import torch
from torch import nn

from bioscope.models.registry import register_model


class SRGANDiscriminator(nn.Module):
    """Input ``(B, C, H, W)`` of any size; output ``(B,)`` logits (real > 0)."""

    def __init__(self, channels: int = 1, features: int = 64):
        super().__init__()
        widths = [
            features,
            features,
            2 * features,
            2 * features,
            4 * features,
            4 * features,
            8 * features,
            8 * features,
        ]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2)]
        for index in range(1, len(widths)):
            stride = 2 if index % 2 == 1 else 1
            layers += [
                nn.Conv2d(widths[index - 1], widths[index], 3, stride, 1),
                nn.BatchNorm2d(widths[index]),
                nn.LeakyReLU(0.2),
            ]
        layers += [
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(widths[-1], 2 * widths[-1], 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * widths[-1], 1, 1),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


@register_model("srgan-discriminator", "discriminator")
def srgan_discriminator(channels: int = 1, features: int = 64) -> SRGANDiscriminator:
    """SRGAN's discriminator."""
    return SRGANDiscriminator(channels, features)


@register_model("srgan-discriminator-tiny", "discriminator")
def srgan_discriminator_tiny() -> SRGANDiscriminator:
    """8 base features: for tests."""
    return SRGANDiscriminator(1, 8)
