"""Real 2-D DFTs as matrix products, for exported graphs; equal to ``torch.fft`` within 1e-5.

``torch.onnx.export(..., dynamo=True)`` turns ``rfft2``/``irfft2`` into ONNX ``DFT`` nodes, and
onnxruntime 1.32 runs them only at the size they were exported at (the inverse one-sided
``DFT`` fails at run time with symbolic height and width) and, for sizes that are not powers of
two, less precisely than the U-Net behind it tolerates (1e-3 on the shipped model's logits). The
functions here build the DFT matrices inside the graph from the input's own size (``MatMul``,
``Cos``, ``Sin``), so one exported file takes any height and width. They compute in float64:
the shipped U-Net turns an error of 1e-6 in its input into 1e-4 in its logits, and float32
products over a whole row do not stay below that. Cost: ``3 N^3`` multiply-adds each way for an
``N x N`` image (about a tenth of the U-Net's at 512 px).

``norm="ortho"`` throughout, as :mod:`bioscope.nn.fourier` uses; the inverse, like ``irfft2``,
ignores the imaginary parts of the zero and Nyquist frequencies along the last axis.
"""

from __future__ import annotations

import math

import torch


def dft_tables(bins: int, length: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` of ``2 pi k m / length`` for ``k < bins``, ``m < length``, float64.

    ``k m`` is reduced modulo ``length`` in integers first, so the angles stay exact for any size.
    """
    k = torch.arange(bins, device=like.device)
    m = torch.arange(length, device=like.device)
    phase = torch.remainder(k[:, None] * m[None, :], m.new_full((), length))
    angle = phase.to(torch.float64) * (2 * math.pi / length)
    return torch.cos(angle), torch.sin(angle)


def rfft2_matmul(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of ``torch.fft.rfft2(x, norm="ortho")`` over the last two axes,
    each ``(..., H, W//2+1)`` float64.

    Example:
        >>> x = torch.randn(2, 1, 7, 10)
        >>> real, imag = rfft2_matmul(x)
        >>> spectrum = torch.fft.rfft2(x.double(), norm="ortho")
        >>> torch.allclose(real, spectrum.real), torch.allclose(imag, spectrum.imag)
        (True, True)
    """
    height, width = x.shape[-2], x.shape[-1]
    x = x.to(torch.float64)
    cos_w, sin_w = dft_tables(width // 2 + 1, width, x)
    cos_h, sin_h = dft_tables(height, height, x)
    real, imag = x @ cos_w.T, -(x @ sin_w.T)  # along W: e^{-i t} = cos t - i sin t
    norm = (height * width) ** -0.5
    return (cos_h @ real + sin_h @ imag) * norm, (cos_h @ imag - sin_h @ real) * norm


def irfft2_matmul(real: torch.Tensor, imag: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``torch.fft.irfft2(torch.complex(real, imag), s=size, norm="ortho")`` as float64, for
    half spectra ``(..., H, W//2+1)`` that need not be Hermitian (a convolution's output).

    Example:
        >>> real, imag = torch.randn(2, 1, 7, 6), torch.randn(2, 1, 7, 6)
        >>> out = irfft2_matmul(real, imag, (7, 10))
        >>> ref = torch.fft.irfft2(torch.complex(real, imag).cdouble(), s=(7, 10), norm="ortho")
        >>> torch.allclose(out, ref)
        True
    """
    height, width = size
    real, imag = real.to(torch.float64), imag.to(torch.float64)
    cos_h, sin_h = dft_tables(height, height, real)
    real, imag = cos_h @ real - sin_h @ imag, cos_h @ imag + sin_h @ real  # along H: e^{+i t}
    bins = width // 2 + 1
    cos_w, sin_w = dft_tables(bins, width, real)
    # along W, c2r: each bin but zero (and Nyquist, for even widths) stands for itself and its
    # mirror image, so it counts twice; only the real part of the sum is kept
    twice = torch.arange(bins, device=real.device)
    weight = torch.where((twice == 0) | (2 * twice == width), 1.0, 2.0).to(torch.float64)
    out = real @ (cos_w * weight[:, None]) - imag @ (sin_w * weight[:, None])
    return out * (height * width) ** -0.5
