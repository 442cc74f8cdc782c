"""The U-Net of the cells paper: the Keras "U-Net starter" in PyTorch.

16-32-64-128-256 filters, two 3x3 ELU convolutions per level (he-normal initialisation), dropout
0.1/0.1/0.2/0.2/0.3 between them, mirrored in the decoder, 2x2 max-pooling, 2x2 stride-2 transposed
convolutions, skip concatenation and a 1x1 output. The output is logits; apply a sigmoid at
inference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.models.registry import register_model
from bioscope.nn.blocks import Dropout, conv3x3

PAPER_WIDTHS = (16, 32, 64, 128, 256)
PAPER_DROPOUTS = (0.1, 0.1, 0.2, 0.2, 0.3)

ConvFactory = Callable[[int, int], nn.Module]


class DoubleConv(nn.Sequential):
    """conv -> ELU -> dropout -> conv -> ELU; ``first`` builds the first convolution."""

    def __init__(
        self, in_channels: int, out_channels: int, dropout: float, first: ConvFactory = conv3x3
    ):
        super().__init__(
            first(in_channels, out_channels),
            nn.ELU(),
            Dropout(dropout),
            conv3x3(out_channels, out_channels),
            nn.ELU(),
        )


class UNet(nn.Module):
    """The paper's U-Net.

    Args:
        in_channels: input channels.
        out_channels: output channels (logits).
        widths: filters per level, encoder top to bottleneck.
        dropouts: dropout per level, mirrored in the decoder.
        first_conv: builds the first convolution of each level (the FFC U-Net swaps it).

    Example:
        >>> net = UNet(widths=(4, 8), dropouts=(0.0, 0.0))
        >>> net(torch.zeros(2, 1, 16, 48)).shape
        torch.Size([2, 1, 16, 48])
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        widths: Sequence[int] = PAPER_WIDTHS,
        dropouts: Sequence[float] = PAPER_DROPOUTS,
        first_conv: ConvFactory = conv3x3,
    ):
        super().__init__()
        if len(widths) != len(dropouts) or len(widths) < 2:
            raise InputError(
                f"need >= 2 levels and one dropout per level, got {widths}, {dropouts}"
            )
        self.multiple = 2 ** (len(widths) - 1)
        self.encoder = nn.ModuleList()
        channels = in_channels
        for width, dropout in zip(widths, dropouts, strict=True):
            self.encoder.append(DoubleConv(channels, width, dropout, first_conv))
            channels = width
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for width, dropout in zip(widths[-2::-1], dropouts[-2::-1], strict=True):
            self.up.append(nn.ConvTranspose2d(channels, width, 2, stride=2))
            self.decoder.append(DoubleConv(2 * width, width, dropout, first_conv))
            channels = width
        self.head = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_unet_input(x, self.multiple)
        skips = []
        for level, block in enumerate(self.encoder):
            x = block(x)
            if level < len(self.encoder) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, block, skip in zip(self.up, self.decoder, reversed(skips), strict=True):
            x = block(torch.cat([skip, up(x)], dim=1))
        return self.head(x)


def check_unet_input(x: torch.Tensor, multiple: int) -> None:
    """Raise :class:`InputError` unless ``x`` is ``(B, C, H, W)``, H and W divisible."""
    if x.ndim != 4:
        raise InputError(f"expected a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    height, width = x.shape[-2:]
    if height % multiple or width % multiple:
        raise InputError(
            f"U-Net input height and width must be divisible by {multiple}, got {height} x {width}"
            f" (resize, pad, or predict by tiles)"
        )


@register_model("unet", "segmentation")
def unet(in_channels: int = 1, out_channels: int = 1, dropout: bool = True) -> UNet:
    """The paper's U-Net (16..256 filters, ~1.94M parameters)."""
    return UNet(in_channels, out_channels, PAPER_WIDTHS, PAPER_DROPOUTS if dropout else (0.0,) * 5)


@register_model("unet-tiny", "segmentation")
def unet_tiny(in_channels: int = 1, out_channels: int = 1) -> UNet:
    """A 3-level, 4..16-filter U-Net for tests."""
    return UNet(in_channels, out_channels, (4, 8, 16), (0.1, 0.1, 0.2))
