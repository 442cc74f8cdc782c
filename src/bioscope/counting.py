"""Counting cells from a network's output, three ways.

All take maps as the predictor hands them over and the mask threshold of the model (from its
checkpoint's inference spec: no function here has a default threshold), and return a
:class:`CountResult` with the count, instance labels and centres. None reads a file name.
:func:`count_maps` picks the method by name.

* ``paper``: the cells paper's method. The predicted map goes through a 3x3 maximum filter, its
  local maxima are found with ``peak_local_max``, DBSCAN clusters the maxima and the number of
  clusters is the count. On a saturated mask every blob is a plateau whose maxima chain into one
  cluster, so touching cells merge: the reason CellProfiler-like pipelines under-count.
* ``watershed``: classic splitting of touching cells: Euclidean distance transform of the
  thresholded mask, its maxima as markers (at least ``min_distance`` apart), watershed.
* ``distance``: for models with a second head trained on
  :func:`~bioscope.data.targets.normalized_distance`: the peaks of the predicted per-cell distance
  map are the cells; watershed on it gives their outlines. Touching cells have separate peaks by
  construction of the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.segmentation import watershed
from sklearn.cluster import DBSCAN

from bioscope.errors import InputError
from bioscope.io.images import check_finite

#: Smallest object kept (pixels), for nuclei at the training size (~17 px across).
MIN_SIZE = 20


@dataclass(frozen=True)
class CountResult:
    """A count with the instances behind it."""

    count: int
    labels: np.ndarray
    centres: np.ndarray


def count_maps(maps: np.ndarray, method: str, threshold: float) -> CountResult:
    """Count with ``method`` (see :data:`METHODS`) from predicted maps ``(C, H, W)``: channel 0
    the cell probability, channel 1 (if any) the per-cell distance."""
    if method == "paper":
        return count_paper(maps[0], threshold=threshold)
    if method == "watershed":
        return count_watershed(maps[0], threshold=threshold)
    if method == "distance":
        if maps.shape[0] < 2:
            raise InputError("method 'distance' needs a model with a distance head (2 outputs)")
        return count_distance(maps[0], maps[1], threshold=threshold)
    if method == "classic":
        raise InputError("method 'classic' segments the image, not a network's maps")
    raise InputError(f"unknown counting method {method!r}; known: {', '.join(METHODS)}")


def count_paper(
    prob: np.ndarray, *, threshold: float, min_distance: int = 5, eps: float = 10.0
) -> CountResult:
    """The paper's count: maximum filter -> ``peak_local_max`` -> DBSCAN -> number of clusters.

    Example:
        >>> prob = np.zeros((40, 60)); prob[5:15, 5:15] = 1; prob[20:30, 30:50] = 1
        >>> count_paper(prob, threshold=0.5).count
        2
    """
    _check_map(prob, "probability map")
    filtered = ndimage.maximum_filter(prob, size=3)
    peaks = peak_local_max(
        filtered, min_distance=min_distance, threshold_abs=threshold, exclude_border=False
    )
    if len(peaks) == 0:
        return CountResult(0, np.zeros(prob.shape, np.int32), np.zeros((0, 2)))
    clusters = DBSCAN(eps=eps, min_samples=1).fit_predict(peaks)
    centres = np.array([peaks[clusters == c].mean(axis=0) for c in np.unique(clusters)])
    labels, _ = ndimage.label(prob > threshold)
    return CountResult(len(centres), labels.astype(np.int32), centres)


def count_watershed(
    prob: np.ndarray, *, threshold: float, min_distance: int = 5, min_size: int = MIN_SIZE
) -> CountResult:
    """Split the thresholded mask by watershed on its distance transform; count the pieces."""
    _check_map(prob, "probability map")
    mask = drop_small(prob > threshold, min_size)
    elevation = ndimage.gaussian_filter(ndimage.distance_transform_edt(mask), 1.0)
    return split_touching(elevation, mask, min_distance, threshold_abs=1.0)


def count_distance(
    prob: np.ndarray,
    distance: np.ndarray,
    *,
    threshold: float,
    min_distance: int = 3,
    peak_threshold: float = 0.5,
) -> CountResult:
    """Count the peaks of a predicted per-cell distance map inside the predicted mask."""
    _check_map(prob, "probability map")
    _check_map(distance, "distance map")
    if distance.shape != prob.shape:
        raise InputError(f"distance map {distance.shape} and probability map {prob.shape} differ")
    mask = drop_small(prob > threshold, MIN_SIZE)
    return split_touching(
        ndimage.gaussian_filter(distance, 1.0), mask, min_distance, peak_threshold
    )


def split_touching(
    elevation: np.ndarray, mask: np.ndarray, min_distance: int, threshold_abs: float
) -> CountResult:
    """Watershed of ``-elevation`` inside ``mask`` from its peaks (at least ``min_distance``
    apart and above ``threshold_abs``); a component without such a peak is one object."""
    components, _ = ndimage.label(mask)
    peaks = peak_local_max(
        elevation,
        min_distance=min_distance,
        threshold_abs=threshold_abs,
        labels=components,
        exclude_border=False,
    )
    # a component without a qualifying peak is still one cell: seed it at its highest point
    seeded = set(components[tuple(peaks.T)]) if len(peaks) else set()
    extra = [
        np.unravel_index(np.argmax(np.where(components == c, elevation, -np.inf)), mask.shape)
        for c in range(1, components.max() + 1)
        if c not in seeded
    ]
    peaks = np.vstack([peaks.reshape(-1, 2), np.array(extra, int).reshape(-1, 2)])
    markers = np.zeros(mask.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    labels = watershed(-elevation, markers, mask=mask)
    return CountResult(len(peaks), labels.astype(np.int32), peaks.astype(float))


def drop_faint(maps: np.ndarray, image: np.ndarray, threshold: float, faint: float) -> np.ndarray:
    """``maps`` ``(C, H, W)`` with every connected component of the mask (``maps[0] >
    threshold``, 8-connected) whose brightest 3 x 3 median in ``image`` (normalised, so its low
    percentile is 0) stays below ``faint`` set to 0 in every channel: blobs of noise, not nuclei.

    Example:
        >>> image = np.zeros((20, 20), np.float32)
        >>> image[2:7, 2:7], image[12:17, 12:17] = 1.0, 0.05  # a nucleus, a faint blob
        >>> maps = np.zeros((1, 20, 20)); maps[0, 2:7, 2:7] = maps[0, 12:17, 12:17] = 0.9
        >>> kept = drop_faint(maps, image, 0.5, 0.1)
        >>> float(kept[0, 4, 4]), float(kept[0, 14, 14])
        (0.9, 0.0)
    """
    if faint <= 0:
        return maps
    components, count = ndimage.label(maps[0] > threshold, structure=np.ones((3, 3), int))
    if count == 0:
        return maps
    # a 3 x 3 median reaches ``faint`` where at least 5 of the 9 pixels do (edges reflected, as
    # median_filter does): one integer convolution instead of a median filter on the hot path
    bright = (image >= faint).astype(np.uint8)
    standing = ndimage.convolve(bright, np.ones((3, 3), np.uint8), mode="reflect") >= 5
    risen = np.zeros(count + 1, bool)
    risen[components[standing]] = True
    if risen[1:].all():
        return maps
    return np.where((~risen)[components] & (components > 0), 0, maps).astype(maps.dtype)


def drop_small(mask: np.ndarray, min_size: int) -> np.ndarray:
    """``mask`` without its connected components (8-connected) of fewer than ``min_size`` pixels."""
    components, _ = ndimage.label(mask, structure=np.ones((3, 3), int))
    sizes = np.bincount(components.ravel())
    keep = sizes >= min_size
    keep[0] = False
    return keep[components]


def _check_map(array: np.ndarray, what: str) -> None:
    if array.ndim != 2:
        raise InputError(f"{what} must be 2-D, got shape {array.shape}")
    check_finite(array, what)


METHODS: dict[str, str] = {
    "paper": "maximum filter + peak_local_max + DBSCAN clusters (the cells paper)",
    "watershed": "distance transform of the mask + watershed (splits touching cells)",
    "distance": "peaks of the learned per-cell distance head + watershed (needs a 2-output model)",
    "classic": "no network: smoothing, Otsu, size-aware distance watershed (CellProfiler-like)",
}
