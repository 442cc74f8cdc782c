"""The classic nuclei pipeline, no network: what CellProfiler's IdentifyPrimaryObjects does by
default, as the baseline every evaluation shows beside the learned model; and a size estimate
from the same Otsu objects.

Smoothing (Gaussian, sigma = diameter / 8), a global Otsu threshold, holes filled, objects smaller
than a quarter of a nucleus's area dropped, and touching nuclei split by a watershed on the
smoothed distance transform from maxima at least half a diameter apart (CellProfiler's
"shape"-based declumping). Sizes follow the nucleus ``diameter``, so one setting serves nuclei of
8 or 60 pixels. A field in which nothing stands above its noise has no nuclei.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from bioscope.counting import CountResult, drop_small, split_touching
from bioscope.data.intensity import looks_empty
from bioscope.data.targets import median_diameter
from bioscope.errors import InputError


def estimate_diameter(image: np.ndarray) -> float | None:
    """Typical nucleus diameter (pixels) of a normalised 2-D image, no network: the median
    equivalent diameter of the Otsu objects of the lightly smoothed image, then again with the
    smoothing (first estimate / 24) and the smallest object kept ((first estimate / 4)^2 px)
    scaled to that first estimate (Cellpose estimates size before segmenting, too); ``None``
    when nothing stands out of the noise.

    Example:
        >>> yy, xx = np.mgrid[:80, :120]
        >>> image = sum(((yy - y) ** 2 + (xx - x) ** 2 < 100).astype(float)
        ...             for y, x in [(20, 20), (20, 60), (55, 40), (55, 95)])
        >>> round(estimate_diameter(image))
        20
    """
    if image.ndim != 2:
        raise InputError(f"expected a 2-D image, got shape {image.shape}")
    if image.max() == image.min() or looks_empty(image):
        return None
    first = _otsu_diameter(image, sigma=1.0, min_area=9)
    if first is None:
        return None
    # A second look whose smoothing and smallest object follow the first estimate, so the
    # estimate scales with the image: a fixed 1 px blur merges nuclei of 6 px more than nuclei of
    # 12, and a field shown at half size read 8% larger (relative) than at full size.
    return _otsu_diameter(image, sigma=first / 24, min_area=(first / 4) ** 2) or first


def _otsu_diameter(image: np.ndarray, sigma: float, min_area: float) -> float | None:
    """Median equivalent diameter of the Otsu objects of ``image`` smoothed by ``sigma`` px,
    objects smaller than ``min_area`` pixels left out."""
    smooth = ndimage.gaussian_filter(np.asarray(image, np.float32), sigma)
    mask = drop_small(ndimage.binary_fill_holes(smooth > threshold_otsu(smooth)), round(min_area))
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), int))  # as drop_small sees them
    return median_diameter([labels])


def segment_classic(image: np.ndarray, diameter: float) -> CountResult:
    """Nuclei of about ``diameter`` pixels in a normalised 2-D image (bright on dark).

    Example:
        >>> yy, xx = np.mgrid[:60, :90]
        >>> image = sum(((yy - y) ** 2 + (xx - x) ** 2 < 64).astype(float) for y, x in
        ...             [(15, 15), (15, 50), (40, 30), (40, 45)])  # the last two touch
        >>> segment_classic(image, diameter=16).count
        4
    """
    if image.ndim != 2:
        raise InputError(f"expected a 2-D image, got shape {image.shape}")
    if not (math.isfinite(diameter) and diameter > 0):
        raise InputError(f"diameter must be a positive number of pixels, got {diameter}")
    empty = CountResult(0, np.zeros(image.shape, np.int32), np.zeros((0, 2)))
    if image.max() == image.min() or looks_empty(image):
        return empty
    smooth = ndimage.gaussian_filter(np.asarray(image, np.float32), diameter / 8)
    mask = ndimage.binary_fill_holes(smooth > threshold_otsu(smooth))
    mask = drop_small(mask, max(int(math.pi * (diameter / 4) ** 2), 1))
    if not mask.any():
        return empty
    distance = ndimage.gaussian_filter(ndimage.distance_transform_edt(mask), diameter / 16)
    return split_touching(distance, mask, max(int(diameter / 2), 1), threshold_abs=diameter / 8)
