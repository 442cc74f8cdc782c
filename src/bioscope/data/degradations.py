"""The family of MRI degradations, by name: one front door for the command line and training.

* ``bicubic``: antialiased bicubic (:func:`bioscope.data.degrade.degrade`), optionally after a
  Gaussian blur: how bioscope's SR models have been trained so far;
* ``kspace``: the centre of k-space (:func:`bioscope.data.kspace.degrade_kspace`), optionally
  apodized: how a scanner acquires a low-resolution image;
* ``slices-box`` / ``slices-gaussian``: thick slices along one axis only
  (:mod:`bioscope.data.slice_profile`), the through-plane case (scales ``(s, 1)``).

All use the same exact rational geometry and pixel-centre convention, so a model, a metric or a
NIfTI affine never needs to know which one made an LR image.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Literal

import numpy as np
import torch

from bioscope.data.degrade import degrade, resample_matrix
from bioscope.data.kspace import Window, degrade_kspace, kspace_matrix
from bioscope.data.slice_profile import Profile, slice_matrix, thick_slices
from bioscope.errors import InputError
from bioscope.geometry import parse_scale

Kind = Literal["bicubic", "kspace", "slices-box", "slices-gaussian"]
KINDS = ("bicubic", "kspace", "slices-box", "slices-gaussian")
#: The through-plane kinds and their slice profiles: they shrink one axis only.
SLICE_PROFILES: dict[str, Profile] = {"slices-box": "box", "slices-gaussian": "gaussian"}


def check_kinds(names: Iterable[str]) -> list[Kind]:
    """``names`` as degradation kinds.

    Raises:
        InputError: a name that is not one of :data:`KINDS`.
    """
    names = list(names)
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise InputError(f"unknown degradation {unknown}; use {', '.join(KINDS)}")
    return names  # type: ignore[return-value]


def degrade_with(
    kind: Kind,
    hr: np.ndarray,
    scale: Fraction | float | str,
    *,
    blur_sigma: float = 0.0,
    window: Window = "none",
    axis: int = -2,
) -> tuple[np.ndarray, np.ndarray]:
    """``(cropped_hr, lr)`` of ``hr`` by the degradation ``kind``: in-plane kinds shrink the last
    two axes; the through-plane kinds (:data:`SLICE_PROFILES`) shrink ``axis`` only.

    Raises:
        InputError: unknown kind, or an option that does not apply to it.
    """
    check_kinds([kind])
    if kind in SLICE_PROFILES:
        if blur_sigma or window != "none":
            raise InputError(f"--blur-sigma and --window do not apply to --kind {kind}")
        return thick_slices(hr, parse_scale(scale), axis, SLICE_PROFILES[kind])
    if kind == "bicubic":
        if window != "none":
            raise InputError("a k-space window applies to --kind kspace only")
        return degrade(hr, scale, blur_sigma)
    if blur_sigma:
        raise InputError("--blur-sigma applies to --kind bicubic only")
    return degrade_kspace(hr, scale, window)


class DegradationSampler:
    """One degradation per minibatch, drawn with the given weights (``{"bicubic": 1,
    "kspace": 1}``: half and half). Draws from torch's global generator, so a seeded or resumed
    run repeats, as :class:`~bioscope.data.degrade.ScaleSampler` does.

    Raises:
        InputError: an unknown kind, or weights that are not finite, not >= 0, or all zero.
    """

    def __init__(self, weights: Mapping[str, float]):
        self.kinds = check_kinds(weights)
        values = [float(v) for v in weights.values()]
        if not values or any(not math.isfinite(v) or v < 0 for v in values) or sum(values) == 0:
            raise InputError(f"degradation weights must be >= 0 and not all 0, got {weights}")
        self.weights = torch.tensor(values, dtype=torch.float64)

    def __call__(self) -> Kind:
        if len(self.kinds) == 1:
            return self.kinds[0]
        return self.kinds[int(torch.multinomial(self.weights, 1).item())]


def lr_matrix(kind: Kind, hr: int, scale: Fraction) -> np.ndarray:
    """The dense ``(h, H)`` matrix of degradation ``kind`` along one axis of length ``hr``
    (a multiple of the scale's numerator), for batched degradation of small patches."""
    check_kinds([kind])
    if kind in SLICE_PROFILES:
        return slice_matrix(hr, scale, SLICE_PROFILES[kind])
    return resample_matrix(hr, scale) if kind == "bicubic" else kspace_matrix(hr, scale)
