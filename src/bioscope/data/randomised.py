"""A randomised nuclei simulator: fields that look like many microscopes, not one.

The faithful SIMCEP/BBBC005 simulator (:mod:`bioscope.data.simcep`) draws every field with one
look, so a model trained on it learns that look. This one draws, per field, everything that
varies between real nuclei images, and keeps the truth of what is *visible*:

* nucleus diameter 8..60 px (log-uniform per field, +-15 % per nucleus), elongation up to 2:1 at a
  random angle, jittered spline outlines (SIMCEP's shape model);
* chromatin texture (fractal noise with a random floor) and 0..3 nucleoli, dark or bright;
* mitotic nuclei: a few small, bright, evenly condensed ones;
* placement uniform or in clusters, touching and overlapping (a new nucleus may slip *under*
  placed ones by up to ``max_overlap`` of its area, so every label stays mostly visible; the
  fluorescence of overlaps adds up);
* optics: per-nucleus defocus, a Gaussian PSF, out-of-focus haze, an uneven background and an
  offset;
* camera: Poisson (shot) plus Gaussian (read) noise at a random photon level, a random gamma, and
  8-, 12- or 16-bit output using a random part of the range (dim 16-bit images included).

Labels are the nuclei's sharp outlines where they are on top (uint16, 0 = background), drawn
before any blur: the visible nucleus, not its halo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.draw import polygon as rasterise_polygon

from bioscope.data.simcep import cell_outline, fractal_texture
from bioscope.errors import InputError

BIT_DEPTHS = (8, 12, 16)


@dataclass(frozen=True)
class RandomisedParams:
    """The ranges every field draws from.

    Attributes:
        diameter: range of the field's typical nucleus diameter (pixels), drawn log-uniform.
        side: field side in multiples of the diameter (drawn uniform), clipped to ``side_px``.
        side_px: smallest and largest field side in pixels.
        coverage: fraction of the field covered by nuclei (drawn uniform).
        elongation: ratio of major to minor axis (drawn uniform per nucleus).
        mitotic_fraction: largest fraction of small bright condensed nuclei in a field.
        cluster_fraction: largest fraction of nuclei drawn around cluster centres.
        max_overlap: largest fraction of a new nucleus's area that may lie under placed ones.
        psf_sigma: Gaussian PSF sigma as a fraction of the diameter.
        photons: range of photons at the brightest nucleus (shot noise), drawn log-uniform.
        read_noise: range of the Gaussian read noise, as a fraction of the brightest nucleus.
        gamma: range of the camera gamma.
    """

    diameter: tuple[float, float] = (8.0, 60.0)
    side: tuple[float, float] = (10.0, 18.0)
    side_px: tuple[int, int] = (160, 640)
    coverage: tuple[float, float] = (0.03, 0.4)
    elongation: tuple[float, float] = (1.0, 2.0)
    mitotic_fraction: float = 0.1
    cluster_fraction: float = 0.6
    max_overlap: float = 0.25
    psf_sigma: tuple[float, float] = (0.02, 0.1)
    photons: tuple[float, float] = (20.0, 5000.0)
    read_noise: tuple[float, float] = (0.0, 0.03)
    gamma: tuple[float, float] = (0.7, 1.4)


@dataclass(frozen=True)
class RandomField:
    """One randomised field: the camera image and the labels of its visible nuclei.

    Attributes:
        image: ``uint8`` or ``uint16`` ``(H, W)``.
        labels: ``uint16`` instance labels, 0 = background, ids 1..N.
        diameter: the field's drawn typical nucleus diameter (pixels).
        bits: the camera's bit depth (8, 12 or 16; 12-bit images are stored as uint16).
    """

    image: np.ndarray
    labels: np.ndarray
    diameter: float
    bits: int

    @property
    def count(self) -> int:
        """Number of labelled nuclei."""
        return int(self.labels.max())


def simulate_randomised(
    seed: int | np.random.SeedSequence, params: RandomisedParams | None = None
) -> RandomField:
    """Simulate one randomised nuclei field; the same seed gives the same field, bit for bit.

    Example:
        >>> field = simulate_randomised(0)
        >>> field.image.shape == field.labels.shape, field.count == len(np.unique(field.labels)) - 1
        (True, True)
    """
    params = params or RandomisedParams()
    rng = np.random.default_rng(seed)
    low, high = params.diameter
    if not 0 < low <= high:
        raise InputError(f"diameter range must satisfy 0 < low <= high, got {params.diameter}")
    diameter = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    sides = [
        int(np.clip(round(diameter * rng.uniform(*params.side)), *params.side_px)) for _ in range(2)
    ]
    shape = (sides[0], sides[1])
    optical, labels = _draw_nuclei(shape, diameter, rng, params)
    optical = _optics(optical, diameter, rng, params)
    image, bits = _camera(optical, rng, params)
    return RandomField(image=image, labels=labels, diameter=diameter, bits=bits)


def _draw_nuclei(
    shape: tuple[int, int], diameter: float, rng: np.random.Generator, params: RandomisedParams
) -> tuple[np.ndarray, np.ndarray]:
    """Place and paint nuclei: the in-focus fluorescence and the labels of what is on top."""
    area = np.pi * diameter**2 / 4
    wanted = int(rng.uniform(*params.coverage) * shape[0] * shape[1] / area)
    mitotic = rng.uniform(0, params.mitotic_fraction)
    optical = np.zeros(shape, np.float64)
    labels = np.zeros(shape, np.uint16)
    propose = _proposer(shape, wanted, diameter, rng, params)
    for _ in range(wanted):
        is_mitotic = rng.uniform() < mitotic
        radius = diameter / 2 * max(0.4, 1 + 0.15 * rng.standard_normal())
        if is_mitotic:
            radius *= 0.6
        outline = _elongate(
            cell_outline(radius, (0.12, 0.12), 11, rng), rng.uniform(*params.elongation), rng
        )
        for _ in range(20):
            rows, cols = _raster(outline, propose(), shape)
            if rows.size and (labels[rows, cols] > 0).mean() <= params.max_overlap:
                break
        else:
            continue
        free = labels[rows, cols] == 0
        label = int(labels.max()) + 1
        labels[rows[free], cols[free]] = label
        optical += _paint(rows, cols, radius, is_mitotic, shape, rng)
    return optical, _relabel(labels)


def _proposer(
    shape: tuple[int, int],
    wanted: int,
    diameter: float,
    rng: np.random.Generator,
    params: RandomisedParams,
) -> Callable[[], np.ndarray]:
    """A function that draws candidate centres: uniform, or near one of a few cluster centres."""
    size = np.asarray(shape, float)
    clustered = rng.uniform(0, params.cluster_fraction)
    centres = rng.uniform(0, 1, (max(1, wanted // 8), 2)) * size

    def propose() -> np.ndarray:
        if rng.uniform() < clustered:
            return centres[rng.integers(len(centres))] + rng.normal(0, 1.2 * diameter, 2)
        return rng.uniform(0, 1, 2) * size

    return propose


def _elongate(outline: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Stretch an outline to ``ratio``:1 (same area) and turn it by a random angle."""
    stretched = outline * np.array([np.sqrt(ratio), 1 / np.sqrt(ratio)])
    angle = rng.uniform(0, np.pi)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return stretched @ turn.T


def _raster(
    outline: np.ndarray, centre: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    points = outline + centre
    return rasterise_polygon(points[:, 0], points[:, 1], shape)


def _paint(
    rows: np.ndarray,
    cols: np.ndarray,
    radius: float,
    is_mitotic: bool,
    shape: tuple[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """One nucleus's fluorescence in a window around it: texture, nucleoli, defocus."""
    top, left = rows.min(), cols.min()
    pad = int(np.ceil(radius * 0.5)) + 2
    box = (rows.max() - top + 1 + 2 * pad, cols.max() - left + 1 + 2 * pad)
    mask = np.zeros(box)
    mask[rows - top + pad, cols - left + pad] = 1.0
    if is_mitotic:
        texture = 1.5 + 0.1 * rng.uniform(size=box)  # condensed: bright and even
    else:
        texture = fractal_texture(box, rng, 4, 0.6, rng.uniform(0.3, 0.85))
        for _ in range(rng.integers(0, 4)):
            texture *= _nucleolus(box, rows, cols, top - pad, left - pad, radius, rng)
    brightness = rng.uniform(0.5, 1.0)
    defocus = rng.uniform(0, 0.1) * 2 * radius
    patch = ndimage.gaussian_filter(mask * texture * brightness, defocus, mode="constant")
    out = np.zeros(shape)
    r0, c0 = top - pad, left - pad
    r1, c1 = min(r0 + box[0], shape[0]), min(c0 + box[1], shape[1])
    rs, cs = max(r0, 0), max(c0, 0)
    out[rs:r1, cs:c1] = patch[rs - r0 : r1 - r0, cs - c0 : c1 - c0]
    return out


def _nucleolus(
    box: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    r0: int,
    c0: int,
    radius: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A smooth spot inside the nucleus that darkens (or brightens) the chromatin."""
    pick = rng.integers(rows.size)
    centre = (rows[pick] - r0, cols[pick] - c0)
    yy, xx = np.mgrid[: box[0], : box[1]]
    spot = np.exp(-((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) / (2 * (radius / 5) ** 2))
    return 1 + rng.choice([-0.6, 0.5]) * spot


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Ids 1..N in order, dropping nuclei left without pixels or split into crumbs."""
    out = np.zeros_like(labels)
    next_id = 1
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        region = labels[box] == index
        parts, n = ndimage.label(region)
        if n > 1:  # keep the largest piece: what is seen of a nucleus is one object
            sizes = ndimage.sum(region, parts, range(1, n + 1))
            region = parts == 1 + int(np.argmax(sizes))
        out[box][region] = next_id
        next_id += 1
    return out


def _optics(
    optical: np.ndarray, diameter: float, rng: np.random.Generator, params: RandomisedParams
) -> np.ndarray:
    """PSF blur, out-of-focus haze, uneven background and offset, on a [0, ~1] scale."""
    image = ndimage.gaussian_filter(optical, rng.uniform(*params.psf_sigma) * diameter)
    peak = np.percentile(image[optical > 0], 99) if (optical > 0).any() else 1.0
    image = image / max(peak, 1e-6)
    haze = ndimage.gaussian_filter(image, 1.5 * diameter)
    image = image + rng.uniform(0, 0.4) * haze / max(haze.max(), 1e-6)
    background = fractal_texture(image.shape, rng, 2, 0.5, 0.0)
    return image + rng.uniform(0, 0.25) * background + rng.uniform(0, 0.2)


def _camera(
    optical: np.ndarray, rng: np.random.Generator, params: RandomisedParams
) -> tuple[np.ndarray, int]:
    """Shot and read noise, gamma, and quantisation into a random part of a random bit depth."""
    photons = float(np.exp(rng.uniform(*np.log(params.photons))))
    image = rng.poisson(np.clip(optical, 0, None) * photons) / photons
    image = image + rng.normal(0, rng.uniform(*params.read_noise), image.shape)
    image = np.clip(image, 0, None) ** rng.uniform(*params.gamma)
    bits = int(rng.choice(BIT_DEPTHS))
    top = 2**bits - 1
    used = rng.uniform(0.3, 1.0) if bits == 8 else float(np.exp(rng.uniform(np.log(0.02), 0)))
    scale = used * top / max(float(np.percentile(image, 99.9)), 1e-6)
    counts = np.clip(np.round(image * scale), 0, top)
    return counts.astype(np.uint8 if bits == 8 else np.uint16), bits
