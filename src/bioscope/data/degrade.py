"""Low-resolution images from high-resolution ones, for any scale, with exact rational geometry.

Geometry. A scale is a :class:`~fractions.Fraction` ``s = p/q`` (1.1 -> 11/10, 2.5 -> 5/2). An HR
side of length ``H`` is first cropped to ``H' = (H // p) * p`` so that the LR side
``h = H' * q / p`` is an integer and ``s * h == H'`` exactly. All index arithmetic is integer.

Alignment (pixel centres; the same convention the Meta-Upscale head uses): HR pixel ``i`` covers
``[i, i+1)`` and has its centre at ``i + 1/2``. LR pixel ``j`` covers HR ``[j s, (j+1) s)``, so
its centre is at HR coordinate ``(j + 1/2) s``, i.e. pixel coordinate ``(j + 1/2) s - 1/2``.
Conversely, HR pixel ``i`` lies over LR coordinate ``(i + 1/2) / s - 1/2``: its source LR pixel
is ``floor((i + 1/2) / s) = ((2i + 1) q) // (2p)`` and its offset inside that pixel is
``((2i + 1) q mod 2p) / (2p)`` in [0, 1).

Resampling. Separable cubic convolution (Keys, a = -0.5), stretched by ``s`` when shrinking
(antialiasing, as Pillow and PyTorch's ``antialias=True`` do), truncated at the image border and
renormalised; optionally a Gaussian blur first.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
from scipy import ndimage, sparse

from bioscope.errors import InputError
from bioscope.geometry import lr_size as _lr_size
from bioscope.geometry import parse_scale

TRAINED_RANGE = (Fraction(11, 10), Fraction(4))


def as_scale(value: float | str | Fraction, allow_outside: bool = False) -> Fraction:
    """:func:`~bioscope.geometry.parse_scale`, and within [1.1, 4.0] unless ``allow_outside``.

    Raises:
        InputError: not a valid scale, or outside the trained range.

    Example:
        >>> as_scale(2.7), as_scale("1.1"), as_scale(4)
        (Fraction(27, 10), Fraction(11, 10), Fraction(4, 1))
    """
    scale = parse_scale(value)
    low, high = TRAINED_RANGE
    if not allow_outside and not low <= scale <= high:
        raise InputError(f"scale {value} is outside the range {float(low)}..{float(high)}")
    return scale


def lr_size(hr: int, scale: Fraction) -> tuple[int, int]:
    """:func:`bioscope.geometry.lr_size`, raising :class:`InputError` for a too-short side."""
    try:
        return _lr_size(hr, scale)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def crop_to_scale(hr: np.ndarray, scale: Fraction) -> np.ndarray:
    """Crop the last two axes of ``hr`` (top-left anchored) to exact multiples for ``scale``."""
    height, _ = lr_size(hr.shape[-2], scale)
    width, _ = lr_size(hr.shape[-1], scale)
    return hr[..., :height, :width]


def degrade(
    hr: np.ndarray, scale: Fraction | float | str, blur_sigma: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Make the LR version of ``hr`` (last two axes spatial); ``scale`` as
    :func:`~bioscope.geometry.parse_scale` takes it.

    Returns:
        ``(cropped_hr, lr)``, with ``cropped_hr.shape[-2:] == scale * lr.shape[-2:]`` exactly.

    Raises:
        InputError: not a valid scale, ``blur_sigma`` negative or not finite, or a side too short.
    """
    scale = parse_scale(scale)
    if not (math.isfinite(blur_sigma) and blur_sigma >= 0):
        raise InputError(f"blur sigma must be a finite number >= 0, got {blur_sigma}")
    hr = crop_to_scale(np.asarray(hr, np.float64), scale)
    image = ndimage.gaussian_filter(hr, blur_sigma, axes=(-2, -1)) if blur_sigma > 0 else hr
    rows = sparse_resample_matrix(hr.shape[-2], scale)
    cols = sparse_resample_matrix(hr.shape[-1], scale)
    lr = along_axis(cols, along_axis(rows, image, -2), -1)  # banded: linear in the image size
    return hr.astype(np.float32), lr.astype(np.float32)


def along_axis(matrix: sparse.csr_matrix | np.ndarray, data: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` (sparse or dense) applied to every line of ``data`` along ``axis``."""
    moved = np.moveaxis(data, axis, 0)
    out = matrix @ moved.reshape(moved.shape[0], -1)
    return np.moveaxis(np.asarray(out).reshape(matrix.shape[0], *moved.shape[1:]), 0, axis)


def resample_matrix(hr: int, scale: Fraction) -> np.ndarray:
    """The ``(h, H)`` matrix that takes an HR line of length ``H`` (a multiple of ``p``) to LR,
    dense (for small patches; :func:`sparse_resample_matrix` for whole images)."""
    return sparse_resample_matrix(hr, scale).toarray()


def sparse_resample_matrix(hr: int, scale: Fraction) -> sparse.csr_matrix:
    """:func:`resample_matrix` as a sparse matrix: row ``j`` holds the about ``4 s`` taps of LR
    pixel ``j``, so memory and work grow with ``H``, not ``h H``."""
    p, q = scale.numerator, scale.denominator
    if hr % p:
        raise InputError(f"HR length {hr} is not a multiple of {p} (crop it with crop_to_scale)")
    lr = hr // p * q
    stretch = max(scale, Fraction(1))
    support = 2 * stretch
    rows, cols, values = [], [], []
    for j in range(lr):
        centre = (2 * j + 1) * scale / 2 - Fraction(1, 2)  # exact HR coordinate of LR pixel j
        first = max(int(np.floor(centre - support)), 0)
        last = min(int(np.ceil(centre + support)), hr - 1)
        taps = np.arange(first, last + 1)
        weights = _cubic((taps - float(centre)) / float(stretch))
        rows.append(np.full(len(taps), j))
        cols.append(taps)
        values.append(weights / weights.sum())
    triples = (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols)))
    return sparse.csr_matrix(triples, shape=(lr, hr))


def _cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


class ScaleSampler:
    """One scale per minibatch, uniformly from ``low`` to ``high`` in steps of ``step`` (the paper:
    1.1 .. 4.0 by 0.1). Draws from torch's global generator, so a seeded or resumed run repeats."""

    def __init__(self, low: float = 1.1, high: float = 4.0, step: float = 0.1):
        low_f, high_f, step_f = (Fraction(str(v)) for v in (low, high, step))
        if step_f <= 0 or low_f <= 1 or high_f < low_f:
            raise InputError(f"need 1 < low <= high and step > 0, got {low}, {high}, {step}")
        count = int((high_f - low_f) / step_f) + 1
        self.scales = [low_f + k * step_f for k in range(count)]

    def __call__(self) -> Fraction:
        return self.scales[int(torch.randint(len(self.scales), ()).item())]
