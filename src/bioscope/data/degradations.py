"""The family of MRI degradations, by name: one front door for the command line and training.

* ``bicubic``: antialiased bicubic (:func:`bioscope.data.degrade.degrade`), optionally after a
  Gaussian blur: how bioscope's SR models have been trained so far;
* ``kspace``: the centre of k-space (:func:`bioscope.data.kspace.degrade_kspace`), optionally
  apodized: how a scanner acquires a low-resolution image.

Both use the same exact rational geometry and pixel-centre convention, so a model, a metric or a
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
from bioscope.errors import InputError

Kind = Literal["bicubic", "kspace"]
KINDS = ("bicubic", "kspace")


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
) -> tuple[np.ndarray, np.ndarray]:
    """``(cropped_hr, lr)`` of ``hr`` (last two axes spatial) by the degradation ``kind``.

    Raises:
        InputError: unknown kind, or an option that does not apply to it.
    """
    check_kinds([kind])
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
    return resample_matrix(hr, scale) if kind == "bicubic" else kspace_matrix(hr, scale)
