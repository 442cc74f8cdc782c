"""SRGAN's generator (SRResNet body) with a pixel-shuffle x2 head (``srgan``) or a Meta-Upscale head
(``meta-srgan``, the paper's). Grey in, grey out. Every SR model is called ``model(lr, scale)``."""

from __future__ import annotations

import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import ScaleLike, parse_scales
from bioscope.models.registry import register_model
from bioscope.nn.meta_upscale import MetaUpscale, bicubic_upscale


class ResidualBlock(nn.Module):
    """conv3x3 -> BN -> PReLU -> conv3x3 -> BN, plus the input."""

    def __init__(self, features: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1),
            nn.BatchNorm2d(features),
            nn.PReLU(),
            nn.Conv2d(features, features, 3, padding=1),
            nn.BatchNorm2d(features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNetBody(nn.Module):
    """9x9 head conv + PReLU, residual blocks, conv + BN, and a global skip: LR features."""

    def __init__(self, channels: int = 1, features: int = 64, blocks: int = 5):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(channels, features, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*(ResidualBlock(features) for _ in range(blocks)))
        self.fuse = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1), nn.BatchNorm2d(features)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x)
        return head + self.fuse(self.blocks(head))


def check_lr(lr: torch.Tensor, channels: int) -> None:
    """Raise unless ``lr`` is ``(B, channels, h, w)``."""
    if lr.ndim != 4 or lr.shape[1] != channels:
        raise InputError(f"expected a (B, {channels}, h, w) LR batch, got shape {tuple(lr.shape)}")


class MetaSRGAN(nn.Module):
    """The paper's generator: SRResNet body + Meta-Upscale head; any scale.

    With ``residual`` (the default; not in the paper) the head's output is added to a bicubic
    upscale of the input and the head starts near zero, so training starts at bicubic and learns
    the residual; without it (the paper's) a randomly initialised head must first learn to
    reproduce the image at every scale, which a short run does not achieve. With ``anisotropic``
    (bioscope's) the head sees one scale per axis, and ``scale`` may be a pair ``(s_h, s_w)``.
    """

    def __init__(
        self,
        channels: int = 1,
        features: int = 64,
        blocks: int = 5,
        residual: bool = True,
        anisotropic: bool = False,
    ):
        super().__init__()
        self.channels = channels
        self.residual = residual
        self.anisotropic = anisotropic
        self.body = SRResNetBody(channels, features, blocks)
        self.upscale = MetaUpscale(features, channels, quiet_init=residual, anisotropic=anisotropic)

    def forward(self, lr: torch.Tensor, scale: ScaleLike) -> torch.Tensor:
        check_lr(lr, self.channels)
        scales = parse_scales(scale)
        out = self.upscale(self.body(lr), scales)
        return out + bicubic_upscale(lr, scales) if self.residual else out


class FixedScaleSR(nn.Module):
    """A body, a fixed-scale upsampler and a tail conv; refuses other scales."""

    def __init__(
        self, body: nn.Module, upsampler: nn.Module, tail: nn.Module, scale: int, channels: int
    ):
        super().__init__()
        self.body, self.upsampler, self.tail = body, upsampler, tail
        self.scale, self.channels = scale, channels

    def forward(self, lr: torch.Tensor, scale: ScaleLike = 2) -> torch.Tensor:
        check_lr(lr, self.channels)
        rows, cols = parse_scales(scale)
        if rows != self.scale or cols != self.scale:
            shown = f"{float(rows):g}" if rows == cols else f"{float(rows):g} x {float(cols):g}"
            raise InputError(f"this model upscales by x{self.scale} only, not x{shown}")
        return self.tail(self.upsampler(self.body(lr)))


def pixel_shuffle_x2(features: int, activation: nn.Module | None = None) -> nn.Sequential:
    """conv3x3 to 4x the features, pixel shuffle by 2 (and an activation)."""
    layers: list[nn.Module] = [nn.Conv2d(features, 4 * features, 3, padding=1), nn.PixelShuffle(2)]
    return nn.Sequential(*layers, *([activation] if activation is not None else []))


@register_model("meta-srgan", "superres")
def meta_srgan(
    channels: int = 1,
    features: int = 64,
    blocks: int = 5,
    residual: bool = True,
    anisotropic: bool = False,
) -> MetaSRGAN:
    """The paper's Meta-SRGAN generator (0.562M parameters); ``residual`` adds a bicubic skip,
    ``anisotropic`` takes one scale per axis (for through-plane SR)."""
    return MetaSRGAN(channels, features, blocks, residual, anisotropic)


@register_model("srgan", "superres")
def srgan(channels: int = 1, features: int = 64, blocks: int = 5) -> FixedScaleSR:
    """SRGAN's generator at x2 (pixel shuffle; 0.566M parameters)."""
    return FixedScaleSR(
        SRResNetBody(channels, features, blocks),
        pixel_shuffle_x2(features, nn.PReLU()),
        nn.Conv2d(features, channels, 9, padding=4),
        2,
        channels,
    )


@register_model("meta-srgan-tiny", "superres")
def meta_srgan_tiny(residual: bool = True, anisotropic: bool = False) -> MetaSRGAN:
    """8 features, 1 block: for tests."""
    return MetaSRGAN(1, 8, 1, residual, anisotropic)


@register_model("srgan-tiny", "superres")
def srgan_tiny() -> FixedScaleSR:
    """8 features, 1 block: for tests."""
    return srgan(1, 8, 1)
