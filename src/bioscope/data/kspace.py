"""Low-resolution MRI as a scanner makes it: the centre of k-space, on the same exact grid.

A scanner that acquires fewer phase/frequency encodings keeps the centre of the 2-D spectrum; it
does not blur with a bicubic kernel. :func:`degrade_kspace` keeps the ``h`` lowest frequencies of
each axis of an HR image (length ``H``, ``h = H q / p`` for a scale ``p/q``, as
:mod:`bioscope.data.degrade` crops it), optionally weighted by an apodization window, and samples
the band-limited result at the LR pixel centres of :mod:`bioscope.data.degrade`'s convention: LR
pixel ``j`` sits at HR coordinate ``(j + 1/2) s - 1/2``. Per axis this is one real ``(h, H)``
matrix (a shifted, truncated DFT), so an HR image whose spectrum lies inside the kept band comes
out as its exact samples at those centres.

Noise: :func:`add_rician_noise` adds complex Gaussian noise and takes the magnitude, as magnitude
MR images are, at a signal-to-noise ratio relative to the image's bright tissue.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import numpy as np

from bioscope.data.degrade import crop_to_scale
from bioscope.errors import InputError
from bioscope.geometry import parse_scale

Window = Literal["none", "hamming", "tukey"]
WINDOWS = ("none", "hamming", "tukey")


def kspace_matrix(
    hr: int, scale: Fraction, window: Window = "none", tukey_alpha: float = 0.5
) -> np.ndarray:
    """The real ``(h, H)`` matrix that keeps the ``h`` central frequencies of a line of length
    ``H`` (a multiple of ``p``) and samples it at the LR pixel centres.

    With ``h`` even, the Nyquist pair ``+-h/2`` is kept at half weight each (a real cosine), so the
    matrix is real and an image band-limited to ``|k| < h/2`` is reproduced exactly.
    """
    p, q = scale.numerator, scale.denominator
    if hr % p:
        raise InputError(f"HR length {hr} is not a multiple of {p} (crop it with crop_to_scale)")
    if window not in WINDOWS:
        raise InputError(f"unknown k-space window {window!r}; use {', '.join(WINDOWS)}")
    lr = hr // p * q
    if lr > hr:
        raise InputError(f"k-space truncation needs a scale >= 1, got {scale}")
    freqs = np.arange(-(lr // 2), lr // 2 + 1)  # both +-h/2 when h is even
    weights = _window(freqs, lr, window, tukey_alpha)
    if lr % 2 == 0:
        weights[[0, -1]] *= 0.5  # the Nyquist pair, as one real cosine
    centres = (np.arange(lr) + 0.5) * float(scale) - 0.5  # HR coordinate of each LR centre
    at_centres = np.exp(2j * np.pi * np.outer(centres, freqs) / hr) * weights
    from_samples = np.exp(-2j * np.pi * np.outer(freqs, np.arange(hr)) / hr)
    return (at_centres @ from_samples).real / hr


def _window(freqs: np.ndarray, lr: int, window: Window, alpha: float) -> np.ndarray:
    """Apodization weights of the kept frequencies: 1 at the centre, falling to the band edge."""
    x = np.abs(freqs) / max(lr / 2, 1)  # 0 at the centre, 1 at the band edge
    if window == "none":
        return np.ones(len(freqs))
    if window == "hamming":
        return 0.54 + 0.46 * np.cos(np.pi * x)
    if not 0 <= alpha <= 1:
        raise InputError(f"Tukey width must be in [0, 1], got {alpha}")
    flat = 1 - alpha
    taper = 0.5 * (1 + np.cos(np.pi * (x - flat) / max(alpha, 1e-12)))
    return np.where(x <= flat, 1.0, taper)


def degrade_kspace(
    hr: np.ndarray,
    scale: Fraction | float | str,
    window: Window = "none",
    tukey_alpha: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Make the LR version of ``hr`` (last two axes spatial) by k-space truncation.

    Returns:
        ``(cropped_hr, lr)``, with ``cropped_hr.shape[-2:] == scale * lr.shape[-2:]`` exactly,
        as :func:`~bioscope.data.degrade.degrade` returns them.
    """
    scale = parse_scale(scale)
    hr = crop_to_scale(np.asarray(hr, np.float64), scale)
    rows = kspace_matrix(hr.shape[-2], scale, window, tukey_alpha)
    cols = kspace_matrix(hr.shape[-1], scale, window, tukey_alpha)
    lr = np.einsum("ij,...jk,lk->...il", rows, hr, cols)
    return hr.astype(np.float32), lr.astype(np.float32)


def add_rician_noise(image: np.ndarray, snr: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of the image plus complex Gaussian noise of sigma = (99th percentile) / ``snr``.

    Raises:
        InputError: ``snr`` is not a positive finite number.
    """
    if not (math.isfinite(snr) and snr > 0):
        raise InputError(f"SNR must be a positive number, got {snr}")
    sigma = float(np.percentile(image, 99)) / snr
    real = image + rng.normal(0, sigma, image.shape)
    imaginary = rng.normal(0, sigma, image.shape)
    return np.hypot(real, imaginary).astype(np.float32)
