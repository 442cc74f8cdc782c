"""Intensity normalisation, one function per modality, shared by training and inference.

* Microscopy (:class:`PercentileNorm`): the ``low`` and ``high`` percentiles of the image go to 0
  and 1, as Cellpose and StarDist do, with no floor tied to the pixel type (a 12-bit camera's
  values 0..235 in a uint16 file are stretched like any other image). The one floor is the noise:
  the span is never taken below :data:`NOISE_SPAN` times the image's own noise level, so a field
  with nothing in it is not stretched until its noise looks like cells; nor below the brightest
  structure's height over :data:`MAX_STRETCH`, so a field with a single small nucleus (whose
  pixels lie above the high percentile) is not either, even when its noise is smooth. With the
  image, :meth:`PercentileNorm.normalize` gives the *faintest rise* that can be told from noise
  (:data:`FAINT_SIGMAS` noise sigmas, and at least :data:`FAINT_LEVELS` grey levels of an
  integer image), in normalised units, for inference to drop objects that do not reach it.
* MRI (:func:`mri_window`): the 0.5 and 99.5 percentiles of the non-zero voxels, robust to a few hot
  voxels; :func:`normalize_mri` maps that window to [0, 1] and clips, for training and evaluation;
  the upscaler maps the same window and keeps what lies outside it (see
  :mod:`bioscope.inference.superres`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from bioscope.errors import InputError
from bioscope.io.images import check_finite

#: Least percentile span, in units of the image's noise sigma: pure Gaussian noise spans about
#: 5.2 sigma between its 1st and 99.8th percentiles.
NOISE_SPAN = 8.0
#: Most the brightest structure (the 3 x 3 median's maximum, so not a hot pixel) may be
#: stretched, in units of the percentile span: a field with one or two nuclei has its high
#: percentile in the background, and without this cap smooth (blurred, quantised) background
#: noise, which the noise floor cannot see, is stretched until it looks like nuclei. Real and
#: simulated fields with more nuclei measure 1.1..6.8 here.
MAX_STRETCH = 10.0
#: The floor an empty field's brightest pixel is measured from.
EMPTY_PERCENTILE = 1.0
#: An object must rise this many noise sigmas above the low percentile to be told from noise...
FAINT_SIGMAS = 3.0
#: ... and, in an integer image, this many grey levels: blurred, quantised background noise
#: forms smooth blobs one or two levels high that no noise estimate from pixel differences sees
#: (a simulated field with one nucleus at focus blur F7 gave 361 such "nuclei").
FAINT_LEVELS = 4.0


class Normalized(NamedTuple):
    """A normalised microscopy image, whether it looks empty, and the faintest rise above its
    low percentile (normalised units) that stands out of its noise."""

    image: np.ndarray
    empty: bool
    faint: float


@dataclass(frozen=True)
class PercentileNorm:
    """Per-image percentile normalisation of microscopy images (see the module docstring).

    Example:
        >>> out = PercentileNorm(0, 100)(np.arange(101, dtype=np.uint8).reshape(1, 101))
        >>> float(out.min()), float(out.max())
        (0.0, 1.0)
    """

    low: float = 1.0
    high: float = 99.8

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high <= 100:
            raise InputError(
                f"percentiles must satisfy 0 <= low < high <= 100, got {self.low}, {self.high}"
            )

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """``image`` (2-D, any real dtype) as float32 with its percentiles at 0 and 1."""
        return self.normalize(image)[0]

    def normalize(self, image: np.ndarray, integer: bool | None = None) -> Normalized:
        """``image`` normalised, whether it :func:`looks_empty`, and its faintest distinguishable
        rise, from one computation of its percentiles and noise (inference needs all three).
        ``integer``: whether its values are whole grey levels (default: from its dtype; give it
        for a grey image made from an integer RGB one)."""
        data = _finite_float(image)
        lo, hi, floor = np.percentile(data, [self.low, self.high, EMPTY_PERCENTILE])
        sigma = noise_sigma(data)
        span = max(float(hi - lo), NOISE_SPAN * sigma, _stretch_floor(data, float(lo), hi - lo))
        if integer is None:
            integer = np.issubdtype(np.asarray(image).dtype, np.integer)
        levels = FAINT_LEVELS if integer else 0.0
        return Normalized(
            ((data - lo) / span).astype(np.float32),
            _empty(data, float(floor), sigma),
            max(FAINT_SIGMAS * sigma, levels) / span,
        )


def _stretch_floor(data: np.ndarray, low: float, span: float) -> float:
    """The least span that keeps the brightest structure (3 x 3 median's maximum) within
    :data:`MAX_STRETCH` spans of ``low``. The median filter runs only when the raw maximum,
    which bounds it, could break the cap: usual fields skip it."""
    if float(data.max()) - low <= MAX_STRETCH * span or data.ndim != 2:
        # binds on a flat image (which any span above 0 maps to 0) and, without noise
        # estimate, on a sparse volume; relative to the image's range, so its units do not
        # matter (an absolute 1e-12 made zeros of a field stored x1e-20)
        return max(1e-6 * (float(data.max()) - low), float(np.finfo(np.float32).tiny))
    return (float(ndimage.median_filter(data, 3).max()) - low) / MAX_STRETCH


def noise_sigma(image: np.ndarray) -> float:
    """Robust noise level of a 2-D image: the median absolute deviation of its horizontal and
    vertical pixel differences, scaled to a Gaussian sigma (edges of objects are a minority of
    the differences and do not move the median).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(noise_sigma(rng.normal(0, 3.0, (200, 200))), 1)
        3.0
    """
    data = np.asarray(image, np.float32)
    if data.ndim != 2 or min(data.shape) < 2:
        return 0.0
    diffs = np.concatenate([np.diff(data, axis=0).ravel(), np.diff(data, axis=1).ravel()])
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return float(1.4826 * mad / np.sqrt(2.0))


def looks_empty(image: np.ndarray) -> bool:
    """Whether nothing in ``image`` stands out of its noise: its brightest pixel is within
    :data:`NOISE_SPAN` noise sigmas of its 1st percentile (a flat image counts as empty)."""
    data = _finite_float(image)
    return _empty(data, float(np.percentile(data, EMPTY_PERCENTILE)), noise_sigma(data))


def _empty(data: np.ndarray, floor: float, sigma: float) -> bool:
    return float(data.max()) - floor <= NOISE_SPAN * sigma


def mri_window(data: np.ndarray, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """``(lo, hi)``: the ``low``/``high`` percentiles of the voxels above zero, with ``lo`` no
    higher than 0 (air stays at 0). A volume with no voxel above zero is refused.

    Example:
        >>> mri_window(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 0, 100)
        (0.0, 4.0)
    """
    data = np.asarray(data)
    foreground = data[data > 0]
    if foreground.size == 0:
        raise InputError("no value above zero: nothing but background")
    lo, hi = np.percentile(foreground, [low, high])
    lo = min(float(lo), 0.0)
    return lo, max(float(hi), lo + 1e-12)


def normalize_mri(data: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Map :func:`mri_window` to [0, 1] and clip (float32)."""
    lo, hi = mri_window(data, low, high)
    return np.clip((np.asarray(data, np.float32) - lo) / (hi - lo), 0.0, 1.0)


def _finite_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.size == 0:
        raise InputError("cannot normalise an empty image")
    check_finite(image)
    return image.astype(np.float32, copy=False)
