"""Thick slices from thin ones: a slice profile along one axis, on the same exact grid.

A 2-D MRI acquisition with thick slices integrates the tissue over each slice's thickness, and its
slices are as far apart as they are thick. Along the slice axis an HR line of length ``H`` (a
multiple of ``p`` for a scale ``p/q``) becomes ``h = H q / p`` thick slices; thick slice ``j``
covers HR ``[j s, (j+1) s)`` and is centred at HR pixel coordinate ``(j + 1/2) s - 1/2``, the LR
pixel-centre convention of :mod:`bioscope.data.degrade`. Profiles:

* ``box``: the mean over that interval (each HR pixel weighted by its overlap), so at an integer
  scale ``n`` a thick slice is exactly the average of ``n`` thin ones;
* ``gaussian``: a Gaussian of full width at half maximum ``s`` around the slice centre, integrated
  over each HR pixel and normalised (a smoother excitation profile; truncated at the border).

The other axis is not touched, so the scales are ``(s, 1)``: a model enlarges one axis only.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy import special

from bioscope.data.degrade import along_axis, lr_size
from bioscope.errors import InputError

Profile = Literal["box", "gaussian"]
PROFILES = ("box", "gaussian")


def slice_matrix(hr: int, scale: Fraction, profile: Profile = "box") -> np.ndarray:
    """The ``(h, H)`` matrix that takes an HR line of length ``H`` (a multiple of ``p``) to
    ``h`` thick slices of the given profile.

    Example:
        >>> slice_matrix(4, Fraction(2)).tolist()
        [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    """
    p, q = scale.numerator, scale.denominator
    if hr % p:
        raise InputError(f"HR length {hr} is not a multiple of {p} (crop it with crop_to_scale)")
    lr = hr // p * q
    start = np.arange(lr)[:, None] * float(scale)  # HR coordinate where thick slice j begins
    left = np.arange(hr)[None, :].astype(np.float64)
    if profile == "box":
        overlap = np.minimum(left + 1, start + float(scale)) - np.maximum(left, start)
        return np.clip(overlap, 0, None) / float(scale)
    if profile == "gaussian":
        sigma = float(scale) / (2 * math.sqrt(2 * math.log(2)))
        centre = start + float(scale) / 2
        weights = special.ndtr((left + 1 - centre) / sigma) - special.ndtr((left - centre) / sigma)
        return weights / weights.sum(axis=1, keepdims=True)
    raise InputError(f"unknown slice profile {profile!r}; use {', '.join(PROFILES)}")


def thick_slices(
    hr: np.ndarray, scale: Fraction, axis: int = -2, profile: Profile = "box"
) -> tuple[np.ndarray, np.ndarray]:
    """``(cropped_hr, lr)``: ``hr`` cropped along ``axis`` to a multiple of ``p`` and made into
    thick slices along that axis only (every other axis unchanged).

    Raises:
        InputError: an unknown profile, or the axis shorter than ``p``.
    """
    hr = np.asarray(hr, np.float64)
    length, _ = lr_size(hr.shape[axis], scale)
    cropped = np.take(hr, np.arange(length), axis=axis)
    lr = along_axis(slice_matrix(length, scale, profile), cropped, axis)
    return cropped.astype(np.float32), lr.astype(np.float32)
