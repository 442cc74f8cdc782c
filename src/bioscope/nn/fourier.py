"""Fourier-domain layers: the cells paper's input block and an FFC-style spectral branch.

The paper puts "FFT -> 3x3 convolution -> inverse FFT" in front of a U-Net. Read literally it has
two flaws, handled here:

* A 2-D FFT must run over the spatial axes (H, W). In channels-last Keras code ``fft2d`` over the
  last two axes transforms (W, C) instead; here it is always ``dim=(-2, -1)`` of NCHW tensors.
* A convolution cannot take complex input. ``variant`` says what it sees: ``"real"`` (the paper
  read literally: real part only; loses the odd part of the image), ``"magnitude"`` (loses the
  phase, i.e. where things are), or ``"reim"`` (real and imaginary parts as two channels: keeps all
  information; the default).

Spectra use ``rfft2``/``irfft2`` with ``norm="ortho"``: for real input the half spectrum holds
everything, and ``irfft2(..., s=(H, W))`` inverts exactly for odd sizes too.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.nn.blocks import conv3x3

Variant = Literal["real", "reim", "magnitude"]
VARIANTS: tuple[str, ...] = ("real", "reim", "magnitude")


def spectrum_features(x: torch.Tensor, variant: Variant) -> torch.Tensor:
    """The real-valued channels a convolution sees of ``rfft2(x)``: ``(B, k*C, H, W//2+1)``,
    k = 2 for ``"reim"`` (real parts first, then imaginary) and 1 otherwise."""
    spectrum = torch.fft.rfft2(x, dim=(-2, -1), norm="ortho")
    if variant == "reim":
        return torch.cat([spectrum.real, spectrum.imag], dim=1)
    if variant == "real":
        return spectrum.real
    if variant == "magnitude":
        return spectrum.abs()
    raise InputError(f"unknown Fourier variant {variant!r}; choose one of {', '.join(VARIANTS)}")


def features_to_image(
    features: torch.Tensor, variant: Variant, size: tuple[int, int]
) -> torch.Tensor:
    """Invert :func:`spectrum_features`: ``"reim"`` channels pair up as real and imaginary parts;
    the other variants are taken as a real spectrum (zero imaginary part)."""
    if variant == "reim":
        real, imag = features.chunk(2, dim=1)
        spectrum = torch.complex(real, imag)
    else:
        spectrum = torch.complex(features, torch.zeros_like(features))
    return torch.fft.irfft2(spectrum, s=size, dim=(-2, -1), norm="ortho").contiguous()


def fourier_filter(x: torch.Tensor, conv: nn.Module, variant: Variant = "reim") -> torch.Tensor:
    """FFT over (H, W) -> ``conv`` on the spectrum's real-valued features -> inverse FFT.

    Args:
        x: ``(B, C, H, W)`` real tensor; any H, W (odd sizes included).
        conv: maps ``k*C`` to ``k*C_out`` channels on the ``(H, W//2+1)`` half spectrum.
        variant: ``"reim"``, ``"real"`` or ``"magnitude"`` (see the module docstring).

    Returns:
        ``(B, C_out, H, W)`` real, contiguous.

    Example:
        >>> conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
        >>> with torch.no_grad():
        ...     _ = conv.weight.zero_(); conv.weight[0, 0, 1, 1] = 1; conv.weight[1, 1, 1, 1] = 1
        >>> x = torch.randn(1, 1, 7, 9)
        >>> torch.allclose(fourier_filter(x, conv), x, atol=1e-5)
        True
    """
    if x.ndim != 4:
        raise InputError(f"expected a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    features = conv(spectrum_features(x, variant))
    return features_to_image(features, variant, (x.shape[-2], x.shape[-1]))


class FourierInputBlock(nn.Module):
    """The paper's input block: FFT -> 3x3 convolution -> inverse FFT.

    Args:
        in_channels: image channels.
        out_channels: channels handed to the network behind it.
        variant: what the convolution sees of the complex spectrum (default ``"reim"``).
        init: ``"identity"`` starts the block as the identity (the network behind it starts from
            its plain behaviour); ``"random"`` uses PyTorch's default initialisation, as the paper's
            Keras layer did.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        variant: Variant = "reim",
        init: Literal["identity", "random"] = "identity",
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise InputError(
                f"unknown Fourier variant {variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        k = 2 if variant == "reim" else 1
        self.variant = variant
        self.conv = nn.Conv2d(k * in_channels, k * out_channels, 3, padding=1)
        if init == "identity":
            identity_init_(self.conv)
        elif init != "random":
            raise InputError(f"unknown init {init!r}; choose 'identity' or 'random'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fourier_filter(x, self.conv, self.variant)


def identity_init_(conv: nn.Conv2d) -> nn.Conv2d:
    """Set a square-kernel convolution to pass channel i to output i (extra outputs copy
    input ``i % C_in``) with zero bias."""
    with torch.no_grad():
        conv.weight.zero_()
        centre = conv.kernel_size[0] // 2
        for out in range(conv.out_channels):
            conv.weight[out, out % conv.in_channels, centre, centre] = 1.0
        if conv.bias is not None:
            conv.bias.zero_()
    return conv


class SpectralBranch(nn.Module):
    """The global branch of a Fast Fourier Convolution (Chi et al., NeurIPS 2020).

    rfft2 -> real/imaginary as channels -> 1x1 convolution -> batch norm -> ReLU -> inverse rfft2.
    Every output pixel sees the whole image, at the cost of two FFTs.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(2 * in_channels, 2 * out_channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(2 * out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.act(self.norm(self.conv(spectrum_features(x, "reim"))))
        return features_to_image(features, "reim", (x.shape[-2], x.shape[-1]))


class FFCConv(nn.Module):
    """A 3x3 local convolution plus a global :class:`SpectralBranch`, summed."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.local = conv3x3(in_channels, out_channels)
        self.spectral = SpectralBranch(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.local(x) + self.spectral(x)
