"""Image-quality metrics for super-resolution, as SR papers compute them.

* :func:`psnr` on intensities with a stated ``data_range`` (1.0 for images in [0, 1]).
* :func:`ssim`: Wang et al. 2004 with an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01,
  K2 = 0.03, computed on the "valid" part of the filtered image (no padding), as MATLAB's
  ``ssim_index.m`` and BasicSR's ``calculate_ssim`` do.
* A border of ``crop`` pixels is removed first (SR convention: ``ceil(scale)``).
* :func:`paper_psnr`: the paper's figures fit PSNR on z-normalised tensors with peak 1; reported
  only as a labelled extra, never as *the* PSNR.
* :func:`gmsd`: gradient magnitude similarity deviation (Xue et al., IEEE TIP 2014), a perceptual
  measure that needs no trained network (lower is better; 0 for identical images).

All take ``(B, 1, H, W)`` grey or ``(B, 3, H, W)`` RGB tensors and return ``(B,)`` values; RGB is
scored on its luminance, the Y of ITU-R BT.601 YCbCr (MATLAB's ``rgb2ycbcr``, BasicSR's
``test_y_channel``), as SR papers do.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bioscope.errors import InputError


def psnr(
    pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, crop: int = 0
) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB; identical images give ``inf``.

    Example:
        >>> t = torch.zeros(1, 1, 4, 4); p = t + 0.1
        >>> round(float(psnr(p, t)), 4)  # 10 log10(1 / 0.01)
        20.0
    """
    pred, target = _prepare(pred, target, crop, data_range)
    mse = (pred - target).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(data_range**2 / mse)


def ssim(
    pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, crop: int = 0
) -> torch.Tensor:
    """Structural similarity, MATLAB-compatible (Gaussian 11, sigma 1.5, valid filtering)."""
    pred, target = _prepare(pred, target, crop, data_range)
    if min(pred.shape[-2:]) < 11:
        raise InputError(
            f"SSIM needs images of at least 11 x 11 after cropping, got {tuple(pred.shape[-2:])}"
        )
    window = _gaussian_window(11, 1.5).to(pred)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = F.conv2d(pred, window), F.conv2d(target, window)
    xx = F.conv2d(pred * pred, window) - mu_x**2
    yy = F.conv2d(target * target, window) - mu_y**2
    xy = F.conv2d(pred * target, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (xx + yy + c2)
    )
    return ssim_map.flatten(1).mean(1)


#: GMSD's stability constant, 170 on the 0..255 scale of Xue et al., here per unit data range.
GMSD_C = 170 / 255**2


def gmsd(
    pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, crop: int = 0
) -> torch.Tensor:
    """Gradient magnitude similarity deviation, as the authors' ``GMSD.m``: both images averaged
    over 2 x 2 and subsampled by 2, Prewitt gradient magnitudes (zero padding), the per-pixel
    similarity ``(2 m_p m_t + c) / (m_p^2 + m_t^2 + c)``, and its standard deviation.

    Example:
        >>> t = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> float(gmsd(t, t)), float(gmsd(t * 0.5, t)) > 0
        (0.0, True)
    """
    pred, target = _prepare(pred, target, crop, data_range)
    average = torch.full((1, 1, 2, 2), 0.25, dtype=pred.dtype, device=pred.device)
    prewitt = torch.tensor([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=pred.dtype) / 3
    kernels = torch.stack([prewitt, prewitt.T])[:, None].to(pred.device)

    def magnitude(image: torch.Tensor) -> torch.Tensor:
        # MATLAB's conv2(x, ones(2)/4, 'same') averages x(i) and x(i+1), zero past the end
        small = F.conv2d(F.pad(image, (0, 1, 0, 1)), average)[..., ::2, ::2]
        return F.conv2d(small, kernels, padding=1).pow(2).sum(1).sqrt()

    m_p, m_t = magnitude(pred), magnitude(target)
    c = GMSD_C * data_range**2
    similarity = (2 * m_p * m_t + c) / (m_p**2 + m_t**2 + c)
    return similarity.flatten(1).std(1)


def paper_psnr(pred: torch.Tensor, target: torch.Tensor, crop: int = 0) -> torch.Tensor:
    """PSNR on tensors z-normalised by the target's mean and std, with peak 1 (the paper's ~18 dB
    figures fit this). Not comparable with :func:`psnr`."""
    pred, target = _prepare(pred, target, crop)
    mean = target.flatten(1).mean(1).view(-1, 1, 1, 1)
    std = target.flatten(1).std(1).clamp(min=1e-12).view(-1, 1, 1, 1)
    return psnr((pred - mean) / std, (target - mean) / std, data_range=1.0)


def border(scale: float) -> int:
    """The conventional border to crop at ``scale``: ``ceil(scale)``."""
    return math.ceil(scale)


def _prepare(
    pred: torch.Tensor, target: torch.Tensor, crop: int, data_range: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.shape != target.shape:
        raise InputError(
            f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape"
        )
    if pred.ndim != 4 or pred.shape[1] not in (1, 3):
        raise InputError(
            f"expected (B, 1, H, W) grey or (B, 3, H, W) RGB images, got shape {tuple(pred.shape)}"
        )
    if pred.shape[1] == 3:
        pred, target = luminance(pred, data_range), luminance(target, data_range)
    if crop:
        if 2 * crop >= min(pred.shape[-2:]):
            raise InputError(
                f"a border of {crop} px leaves nothing of a {tuple(pred.shape[-2:])} image"
            )
        pred, target = pred[..., crop:-crop, crop:-crop], target[..., crop:-crop, crop:-crop]
    return pred.double(), target.double()


#: BT.601 luma weights for RGB in [0, 1], giving Y in [16, 235] / 255 (MATLAB's ``rgb2ycbcr``).
Y_WEIGHTS = (65.481 / 255, 128.553 / 255, 24.966 / 255)
Y_OFFSET = 16 / 255


def luminance(rgb: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """``(B, 3, H, W)`` RGB in ``[0, data_range]`` -> ``(B, 1, H, W)`` BT.601 Y, same units."""
    weights = torch.tensor(Y_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * weights).sum(1, keepdim=True) + Y_OFFSET * data_range


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    profile = torch.exp(-(coords**2) / (2 * sigma**2))
    profile /= profile.sum()
    return (profile[:, None] * profile[None, :])[None, None]
