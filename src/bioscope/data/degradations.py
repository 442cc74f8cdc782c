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
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import torch

from bioscope.data.degrade import degrade, resample_matrix
from bioscope.data.kspace import WINDOWS, Window, degrade_kspace, kspace_matrix
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


#: Range of a random Tukey window's taper fraction, drawn per minibatch.
TUKEY_ALPHAS = (0.2, 0.8)


@dataclass(frozen=True)
class Degradation:
    """One minibatch's degradation: its kind, the k-space window (and Tukey taper fraction) of
    a ``kspace`` kind, and the SNR of Rician noise added to the LR (``None``: no noise)."""

    kind: Kind = "bicubic"
    window: Window = "none"
    tukey_alpha: float = 0.5
    snr: float | None = None


class DegradationSampler:
    """One degradation per minibatch, drawn with the given weights (``{"bicubic": 1,
    "kspace": 1}``: half and half); for ``kspace`` a window drawn with ``windows`` weights (a
    Tukey window's taper uniform in :data:`TUKEY_ALPHAS`), and with probability
    ``noise_probability`` Rician noise at an SNR uniform in ``noise_snr``. Draws from torch's
    global generator, so a seeded or resumed run repeats, as
    :class:`~bioscope.data.degrade.ScaleSampler` does; with the defaults (no window, no noise) it
    draws only the kind.

    Raises:
        InputError: an unknown kind or window, weights that are not finite, not >= 0, or all
            zero, a probability outside [0, 1], or an SNR range that is not ``0 < low <= high``.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        windows: Mapping[str, float] | None = None,
        noise_snr: tuple[float, float] | None = None,
        noise_probability: float = 0.0,
    ):
        self.kinds = check_kinds(weights)
        self.weights = _weights(weights, "degradation")
        windows = windows or {"none": 1.0}
        unknown = [w for w in windows if w not in WINDOWS]
        if unknown:
            raise InputError(f"unknown k-space window {unknown}; use {', '.join(WINDOWS)}")
        self.windows: list[Window] = list(windows)  # type: ignore[arg-type]
        self.window_weights = _weights(windows, "window")
        if not 0 <= noise_probability <= 1:
            raise InputError(f"noise probability must be in [0, 1], got {noise_probability}")
        if noise_probability and not (noise_snr and 0 < noise_snr[0] <= noise_snr[1]):
            raise InputError(f"noise SNR needs 0 < low <= high, got {noise_snr}")
        self.noise_snr, self.noise_probability = noise_snr, noise_probability

    def __call__(self) -> Degradation:
        kind = self.kinds[_draw(self.weights)]
        window, alpha, snr = "none", 0.5, None
        if kind == "kspace":
            window = self.windows[_draw(self.window_weights)]
            if window == "tukey":
                low, high = TUKEY_ALPHAS
                alpha = low + (high - low) * float(torch.rand(()))
        if self.noise_probability and float(torch.rand(())) < self.noise_probability:
            assert self.noise_snr is not None
            low, high = self.noise_snr
            snr = low + (high - low) * float(torch.rand(()))
        return Degradation(kind, window, alpha, snr)


def _weights(weights: Mapping[str, float], what: str) -> torch.Tensor:
    values = [float(v) for v in weights.values()]
    if not values or any(not math.isfinite(v) or v < 0 for v in values) or sum(values) == 0:
        raise InputError(f"{what} weights must be >= 0 and not all 0, got {dict(weights)}")
    return torch.tensor(values, dtype=torch.float64)


def _draw(weights: torch.Tensor) -> int:
    """An index drawn with ``weights`` (no draw when there is one choice)."""
    return 0 if len(weights) == 1 else int(torch.multinomial(weights, 1).item())


def lr_matrix(
    kind: Kind, hr: int, scale: Fraction, window: Window = "none", tukey_alpha: float = 0.5
) -> np.ndarray:
    """The dense ``(h, H)`` matrix of degradation ``kind`` along one axis of length ``hr``
    (a multiple of the scale's numerator), for batched degradation of small patches."""
    check_kinds([kind])
    if kind in SLICE_PROFILES:
        return slice_matrix(hr, scale, SLICE_PROFILES[kind])
    if kind == "bicubic":
        return resample_matrix(hr, scale)
    return kspace_matrix(hr, scale, window, tukey_alpha)
