"""MRI slices for super-resolution: orientation, intensities, the informative crop, patches.

Slices of a canonical (RAS+) volume are ``np.rot90`` of the plane, which puts them the usual way
up in the neurological convention (patient left on the image left):

* ``axial`` (``data[:, :, k]``): rows anterior -> posterior, columns left -> right;
* ``coronal`` (``data[:, j, :]``): rows superior -> inferior, columns left -> right;
* ``sagittal`` (``data[i, :, :]``): rows superior -> inferior, columns posterior -> anterior.

The *maximal information crop* of a slice (the paper crops "the image with the most pixel
information") is defined here as the ``crop x crop`` window with the largest summed intensity
(found exactly with a box filter); a slice no larger than ``crop`` is its own crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

from bioscope.data.intensity import normalize_mri
from bioscope.errors import InputError
from bioscope.io.volumes import Volume

Axis = Literal["axial", "coronal", "sagittal"]
AXES: dict[str, int] = {"sagittal": 0, "coronal": 1, "axial": 2}


def take_slice(volume: Volume, axis: Axis, index: int) -> np.ndarray:
    """One 2-D slice of a canonical volume (see the module docstring for its orientation)."""
    data = volume.data
    if not volume.is_volume:
        raise InputError(f"{volume.source}: a 2-D image has no {axis} slices")
    if axis not in AXES:
        raise InputError(f"unknown axis {axis!r}; use axial, coronal or sagittal")
    plane = np.take(data, index, axis=AXES[axis])
    return np.ascontiguousarray(np.rot90(plane))


def slice_voxel_sizes(volume: Volume, axis: Axis) -> tuple[float, float]:
    """(row, column) spacing of the slices along ``axis``."""
    sizes = [s for i, s in enumerate(volume.voxel_sizes) if i != AXES[axis]]
    return sizes[1], sizes[0]  # rot90 swaps the in-plane axes


def normalize_volume(
    data: np.ndarray,
    method: Literal["percentile", "zscore"] = "percentile",
    low: float = 0.5,
    high: float = 99.5,
) -> np.ndarray:
    """Per-volume intensities: ``percentile`` maps the ``low``/``high`` percentiles of the
    non-zero voxels to 0 and 1 and clips (robust to a few hot voxels); ``zscore`` is the paper's
    mean/std normalisation over all voxels."""
    data = np.asarray(data, np.float32)
    if method == "zscore":
        std = float(data.std())
        return (data - data.mean()) / (std if std > 0 else 1.0)
    if method != "percentile":
        raise InputError(f"unknown normalisation {method!r}; use percentile or zscore")
    return normalize_mri(data, low, high)


def signal_fraction(image: np.ndarray, level: float = 0.1) -> float:
    """Fraction of pixels above ``level`` times the image's maximum (0 for a blank image)."""
    peak = float(image.max()) if image.size else 0.0
    return float((image > level * peak).mean()) if peak > 0 else 0.0


def informative_slices(volume: Volume, axis: Axis, min_signal: float = 0.1) -> list[int]:
    """Indices of the slices along ``axis`` with at least ``min_signal`` of their pixels above
    10% of the volume's maximum."""
    peak = float(volume.data.max())
    if peak <= 0:
        return []
    moved = np.moveaxis(volume.data, AXES[axis], 0)
    fractions = (moved > 0.1 * peak).reshape(len(moved), -1).mean(axis=1)
    return [int(i) for i in np.flatnonzero(fractions >= min_signal)]


def informative_crop(image: np.ndarray, crop: int) -> np.ndarray:
    """The ``crop x crop`` window of ``image`` with the largest summed intensity."""
    height, width = image.shape
    if height <= crop and width <= crop:
        return image
    ch, cw = min(crop, height), min(crop, width)
    sums = ndimage.uniform_filter(
        image.astype(np.float64), size=(ch, cw), mode="constant", origin=(-(ch // 2), -(cw // 2))
    )
    valid = sums[: height - ch + 1, : width - cw + 1]
    top, left = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return image[top : top + ch, left : left + cw]


def random_patches(
    image: np.ndarray,
    count: int,
    size: int,
    rng: np.random.Generator,
    min_signal: float = 0.25,
    max_tries: int = 100,
) -> list[np.ndarray]:
    """``count`` random ``size x size`` patches, each with at least ``min_signal`` of its pixels
    above 10% of the image's maximum (near-empty background patches are rejected). Fewer come
    back when the image has too few such places."""
    height, width = image.shape
    if height < size or width < size:
        raise InputError(f"an image of {height} x {width} has no {size} x {size} patch")
    peak = float(image.max())
    patches = []
    for _ in range(count * max_tries):
        if len(patches) == count:
            break
        top = int(rng.integers(0, height - size + 1))
        left = int(rng.integers(0, width - size + 1))
        patch = image[top : top + size, left : left + size]
        if peak > 0 and (patch > 0.1 * peak).mean() >= min_signal:
            patches.append(patch.copy())
    return patches


@dataclass(frozen=True)
class BandSplit:
    """Train/val/test by bands of slice index: ``train`` slices, a gap, ``val``, a gap, ``test``,
    a gap, repeated. Neighbouring slices look alike; the gaps keep them off different sides."""

    train: int = 20
    val: int = 4
    test: int = 4
    gap: int = 3

    def side(self, index: int) -> str | None:
        """``"train"``, ``"val"``, ``"test"``, or ``None`` for a gap slice."""
        period = self.train + self.val + self.test + 3 * self.gap
        position = index % period
        bounds = [
            ("train", self.train),
            (None, self.gap),
            ("val", self.val),
            (None, self.gap),
            ("test", self.test),
            (None, self.gap),
        ]
        for name, length in bounds:
            if position < length:
                return name
            position -= length
        return None

    def split(self, indices: list[int]) -> dict[str, list[int]]:
        """Assign slice indices to sides; gap slices are dropped."""
        out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        for index in indices:
            side = self.side(index)
            if side is not None:
                out[side].append(index)
        return out
