"""Intensity normalisation shared by both tasks."""

from __future__ import annotations

import numpy as np

from bioscope.errors import InputError


def normalize_percentile(
    image: np.ndarray,
    low: float = 1.0,
    high: float = 99.8,
    min_range: float | None = None,
) -> np.ndarray:
    """Map the ``low`` and ``high`` percentiles of ``image`` to 0 and 1 (no clipping).

    Args:
        image: any real array.
        low: lower percentile.
        high: upper percentile.
        min_range: smallest span allowed between the two percentiles, so that an empty field is not
            stretched until its noise looks like cells. Default: 5% of the dtype's range for integer
            images, 1e-6 for float images.

    Returns:
        float32 array of the same shape.

    Example:
        >>> out = normalize_percentile(np.arange(101, dtype=np.uint8), 0, 100)
        >>> float(out.min()), float(out.max())
        (0.0, 1.0)
    """
    if image.size == 0:
        raise InputError("cannot normalise an empty image")
    if not 0 <= low < high <= 100:
        raise InputError(f"percentiles must satisfy 0 <= low < high <= 100, got {low}, {high}")
    data = image.astype(np.float32)
    if not np.isfinite(data).all():
        raise InputError("image holds NaN or infinite values")
    if min_range is None:
        min_range = default_min_range(image.dtype)
    lo, hi = np.percentile(data, [low, high])
    return ((data - lo) / max(float(hi - lo), min_range)).astype(np.float32)


def default_min_range(dtype: np.dtype) -> float:
    """Smallest percentile span :func:`normalize_percentile` stretches: 5% of an integer dtype's
    maximum, 1e-6 for floats."""
    dtype = np.dtype(dtype)
    return 0.05 * float(np.iinfo(dtype).max) if dtype.kind in "ui" else 1e-6
