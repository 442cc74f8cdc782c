"""EDSR (Lim et al., 2017) for grey images, and the parameter-free bicubic baseline."""

from __future__ import annotations

import torch
from torch import nn

from bioscope.geometry import ScaleLike
from bioscope.models.registry import register_model
from bioscope.models.srresnet import FixedScaleSR, check_lr, pixel_shuffle_x2
from bioscope.nn.meta_upscale import bicubic_upscale


class EDSRBlock(nn.Module):
    """conv -> ReLU -> conv, scaled by ``res_scale``, plus the input (no batch norm)."""

    def __init__(self, features: int, res_scale: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(features, features, 3, padding=1),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class EDSRBody(nn.Module):
    """Mean shift (a scalar for grey images), head conv, residual blocks, conv, global skip."""

    def __init__(self, channels: int, features: int, blocks: int, res_scale: float, mean: float):
        super().__init__()
        self.register_buffer("mean", torch.full((1, channels, 1, 1), mean))
        self.head = nn.Conv2d(channels, features, 3, padding=1)
        self.blocks = nn.Sequential(*(EDSRBlock(features, res_scale) for _ in range(blocks)))
        self.fuse = nn.Conv2d(features, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x - self.mean)
        return head + self.fuse(self.blocks(head))


class AddMean(nn.Module):
    """The tail of EDSR: a conv back to image channels, then the mean added back."""

    def __init__(self, features: int, channels: int, mean: float):
        super().__init__()
        self.conv = nn.Conv2d(features, channels, 3, padding=1)
        self.mean = mean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.mean


def edsr_x2(
    channels: int, features: int, blocks: int, res_scale: float, mean: float
) -> FixedScaleSR:
    return FixedScaleSR(
        EDSRBody(channels, features, blocks, res_scale, mean),
        pixel_shuffle_x2(features),
        AddMean(features, channels, mean),
        2,
        channels,
    )


@register_model("edsr", "superres")
def edsr(channels: int = 1, mean: float = 0.5) -> FixedScaleSR:
    """EDSR x2: 32 blocks, 256 features, residual scale 0.1 (40.7M parameters)."""
    return edsr_x2(channels, 256, 32, 0.1, mean)


@register_model("edsr-baseline", "superres")
def edsr_baseline(channels: int = 1, mean: float = 0.5) -> FixedScaleSR:
    """EDSR-baseline x2: 16 blocks, 64 features, residual scale 1."""
    return edsr_x2(channels, 64, 16, 1.0, mean)


@register_model("edsr-tiny", "superres")
def edsr_tiny() -> FixedScaleSR:
    """8 features, 1 block: for tests."""
    return edsr_x2(1, 8, 1, 1.0, 0.5)


class Bicubic(nn.Module):
    """Bicubic interpolation to ``floor(s_h h) x floor(s_w w)`` (pixel-centre alignment), no
    weights; one scale for both axes or a pair (cubic along one axis when the other is 1)."""

    anisotropic = True

    def __init__(self, channels: int = 1):
        super().__init__()
        self.channels = channels

    def forward(self, lr: torch.Tensor, scale: ScaleLike) -> torch.Tensor:
        check_lr(lr, self.channels)
        return bicubic_upscale(lr, scale)


@register_model("bicubic", "superres")
def bicubic(channels: int = 1) -> Bicubic:
    """The parameter-free baseline."""
    return Bicubic(channels)
