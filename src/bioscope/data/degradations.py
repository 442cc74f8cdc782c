"""The family of MRI degradations, by name: one front door for the command line and training.

* ``bicubic``: antialiased bicubic (:func:`bioscope.data.degrade.degrade`), optionally after a
  Gaussian blur: how bioscope's SR models have been trained so far;
* ``kspace``: the centre of k-space (:func:`bioscope.data.kspace.degrade_kspace`), optionally
  apodized: how a scanner acquires a low-resolution image.

Both use the same exact rational geometry and pixel-centre convention, so a model, a metric or a
NIfTI affine never needs to know which one made an LR image.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

import numpy as np

from bioscope.data.degrade import degrade, resample_matrix
from bioscope.data.kspace import Window, degrade_kspace, kspace_matrix
from bioscope.errors import InputError

Kind = Literal["bicubic", "kspace"]
KINDS = ("bicubic", "kspace")


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
    if kind == "bicubic":
        if window != "none":
            raise InputError("a k-space window applies to --kind kspace only")
        return degrade(hr, scale, blur_sigma)
    if kind == "kspace":
        if blur_sigma:
            raise InputError("--blur-sigma applies to --kind bicubic only")
        return degrade_kspace(hr, scale, window)
    raise InputError(f"unknown degradation {kind!r}; use {', '.join(KINDS)}")


def lr_matrix(kind: Kind, hr: int, scale: Fraction) -> np.ndarray:
    """The dense ``(h, H)`` matrix of degradation ``kind`` along one axis of length ``hr``
    (a multiple of the scale's numerator), for batched degradation of small patches."""
    if kind == "bicubic":
        return resample_matrix(hr, scale)
    if kind == "kspace":
        return kspace_matrix(hr, scale)
    raise InputError(f"unknown degradation {kind!r}; use {', '.join(KINDS)}")
