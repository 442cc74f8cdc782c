"""Through-plane SR scored against interpolation along the slice axis.

A volume's thin slices are averaged into thick ones
(:func:`~bioscope.data.slice_profile.thick_slices`, box profile: the thick slices a 2-D
acquisition with ``s`` times the spacing would give), the thick volume is enlarged back along that
axis only, and the planes across the slices (one family: those indexed by the first other
axis) are scored against the original
(intensities windowed to [0, 1] by the original's robust percentiles, a border of ``ceil(s)``
pixels removed, PSNR and SSIM as :mod:`bioscope.metrics.superres`). Baselines: cubic
interpolation along the slice axis (the ``bicubic`` model with scales ``(s, 1)``) and band-limited
(periodic sinc) interpolation, :func:`sinc_matrix`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bioscope.data.degrade import along_axis
from bioscope.data.intensity import mri_window
from bioscope.data.slice_profile import Profile, thick_slices
from bioscope.errors import InputError
from bioscope.inference.superres import SRPredictor
from bioscope.io.volumes import Volume, check_axis, resampled
from bioscope.metrics.superres import border, psnr, ssim

SINC = "sinc"


def sinc_matrix(lr: int, scale: Fraction) -> np.ndarray:
    """The ``(floor(s h), h)`` matrix of band-limited interpolation: the trigonometric polynomial
    through ``h`` samples (Nyquist term halved for even ``h``), read at the HR pixel centres
    (LR coordinate ``(i + 1/2) / s - 1/2``).

    Example:
        >>> m = sinc_matrix(4, Fraction(2))
        >>> m.shape, bool(np.allclose(m.sum(axis=1), 1))
        ((8, 4), True)
    """
    hr = lr * scale.numerator // scale.denominator
    where = (np.arange(hr) + 0.5) / float(scale) - 0.5
    freqs = np.arange(-(lr // 2), lr // 2 + 1)
    weights = np.ones(len(freqs))
    if lr % 2 == 0:
        weights[[0, -1]] = 0.5  # the Nyquist pair, each at half weight: a real cosine
    offsets = where[:, None, None] - np.arange(lr)[None, :, None]
    phase = 2 * np.pi * freqs[None, None, :] * offsets / lr
    return (np.cos(phase) * weights).sum(axis=-1) / lr


def evaluate_through_plane(
    models: Mapping[str, SRPredictor],
    volume: Volume,
    scales: Sequence[Fraction],
    axis: int = 2,
    profile: Profile = "box",
) -> list[dict[str, Any]]:
    """One row per (scale, method): mean PSNR/SSIM over the planes that contain ``axis``
    (``models`` with an anisotropic network, plus :data:`SINC`)."""
    if not volume.is_volume:
        raise InputError(f"{volume.source}: through-plane evaluation needs a 3-D volume")
    axis = check_axis(axis)
    rows = []
    for scale in scales:
        hr, lr = thick_slices(volume.data, scale, axis, profile)
        thick = resampled(volume, lr, [float(scale) if i == axis else 1.0 for i in range(3)])
        results = {
            name: model.upscale_through_plane(thick, scale, axis=axis).data
            for name, model in models.items()
        }
        results[SINC] = along_axis(sinc_matrix(lr.shape[axis], scale), lr, axis)
        lo, hi = mri_window(hr)
        truth = _planes(hr, axis, lo, hi)
        signal = truth.flatten(1).amax(1) > 0.05  # planes outside the head are left out
        truth = truth[signal]
        crop = border(float(scale))
        for name, result in results.items():
            planes = _planes(result, axis, lo, hi)[signal]
            rows.append(
                {
                    "volume": volume.source,
                    "scale": float(scale),
                    "method": name,
                    "psnr": float(psnr(planes, truth, crop=crop).mean()),
                    "ssim": float(ssim(planes, truth, crop=crop).mean()),
                    "planes": len(planes),
                }
            )
    return rows


def _planes(data: np.ndarray, axis: int, lo: float, hi: float) -> torch.Tensor:
    """The planes that contain ``axis`` (one family: the first other axis indexes them), in
    [0, 1], as ``(N, 1, second other axis, slices)``."""
    other = next(i for i in range(3) if i != axis)
    unit = np.clip((np.moveaxis(data, (other, axis), (0, -1)) - lo) / (hi - lo), 0, 1)
    return torch.from_numpy(np.ascontiguousarray(unit, np.float32))[:, None]


def summary_table(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """``[volume file name, scale, method, psnr, ssim]`` rows for a Markdown table."""
    return [
        [
            Path(r["volume"]).name,
            f"x{r['scale']:g}",
            r["method"],
            f"{r['psnr']:.2f}",
            f"{r['ssim']:.4f}",
        ]
        for r in rows
    ]
