"""The paper's FFT U-Net (Fourier input block + U-Net) and an FFC U-Net alternative."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from bioscope.models.registry import register_model
from bioscope.models.unet import PAPER_DROPOUTS, PAPER_WIDTHS, UNet
from bioscope.nn.fourier import FFCConv, FourierInputBlock, Variant


class FourierUNet(nn.Module):
    """A :class:`~bioscope.nn.fourier.FourierInputBlock` in front of a :class:`UNet`."""

    def __init__(self, fourier: FourierInputBlock, unet: UNet):
        super().__init__()
        self.fourier = fourier
        self.unet = unet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unet(self.fourier(x))


@register_model("fft-unet", "segmentation")
def fft_unet(
    in_channels: int = 1,
    out_channels: int = 1,
    variant: Variant = "reim",
    init: Literal["identity", "random"] = "identity",
    spectral_channels: int = 1,
    dropout: bool = True,
) -> FourierUNet:
    """The paper's model: FFT -> 3x3 conv -> inverse FFT, then the paper's U-Net.

    ``variant="real", init="random"`` is the paper read literally; the defaults keep all spectral
    information and start as the plain U-Net.
    """
    dropouts = PAPER_DROPOUTS if dropout else (0.0,) * len(PAPER_DROPOUTS)
    return FourierUNet(
        FourierInputBlock(in_channels, spectral_channels, variant, init),
        UNet(spectral_channels, out_channels, PAPER_WIDTHS, dropouts),
    )


@register_model("fft-unet-tiny", "segmentation")
def fft_unet_tiny(
    variant: Variant = "reim", init: Literal["identity", "random"] = "identity"
) -> FourierUNet:
    """A Fourier block plus a 3-level 4..16-filter U-Net, for tests."""
    return FourierUNet(
        FourierInputBlock(1, 1, variant, init), UNet(1, 1, (4, 8, 16), (0.1, 0.1, 0.2))
    )


@register_model("ffc-unet", "segmentation")
def ffc_unet(in_channels: int = 1, out_channels: int = 1) -> UNet:
    """The paper's U-Net whose every level starts with a Fast Fourier Convolution: a local 3x3
    branch plus a global spectral branch (Chi et al., NeurIPS 2020)."""
    return UNet(in_channels, out_channels, PAPER_WIDTHS, PAPER_DROPOUTS, first_conv=FFCConv)


@register_model("ffc-unet-tiny", "segmentation")
def ffc_unet_tiny() -> UNet:
    """A 3-level 4..16-filter FFC U-Net, for tests."""
    return UNet(1, 1, (4, 8, 16), (0.1, 0.1, 0.2), first_conv=FFCConv)
