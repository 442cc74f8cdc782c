"""A SIMCEP-style simulator of fluorescence microscopy fields (Lehmussola et al., IEEE TMI 2007).

BBBC005 was itself made with SIMCEP; this module re-implements its model so that bioscope can make
BBBC005-like data offline, with the truth that the real set does not publish (instance labels and
centres of every placed cell).

The model, step by step (:func:`simulate_field` then :func:`render_image`):

1. *Shape.* 11 control points on a circle, each radius and angle perturbed uniformly, joined by a
   closed cubic spline and scaled by the object radius, then rasterised. Nucleus and cytoplasm share
   a centre; the cytoplasm is larger and more irregular. A cell body is cytoplasm union nucleus.
2. *Placement.* ``cluster_fraction`` of the cells are drawn around cluster centres (Gaussian spread
   ``cluster_spread`` x image size), the rest uniformly. A position is rejected when the new nucleus
   overlaps existing nuclei by more than ``max_overlap`` of its area; after ``max_retries`` rejected
   positions the cell is dropped, so the placed count can fall short of the requested one. The truth
   is what was placed.
3. *Texture.* Fractal noise: octaves of bilinearly upsampled uniform grids with weights
   ``persistence**i``, rescaled to ``[floor, 1]``; intensity = texture x mask x per-cell brightness.
4. *Per-cell defocus.* Every cell gets a random depth, hence a Gaussian blur with sigma in
   ``defocus_sigma``. Overlapping cells are averaged: the image is sum(blurred intensity)
   divided by max(1, sum(blurred masks)), which is plain averaging where sharp cells overlap.
5. *Image.* Low-frequency autofluorescence carrying ``autofluorescence`` x the cells' energy is
   added, quadratic vignetting multiplies the field, Gaussian CCD noise of variance
   ``noise_variance`` on [0, 1] is added, then the BBBC005 focus blur (Gaussian of diameter F,
   sigma F/4) is applied to the noisy image, as BBBC005 blurred SIMCEP's output; then clipping
   and 8-bit quantisation.

Overlapping pixels of two cells go to the cell whose centre is nearer, so instance labels tile the
union of shapes exactly and every placed cell keeps its own label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.interpolate import CubicSpline
from skimage.draw import polygon as rasterise_polygon

from bioscope.errors import InputError

STAINS = {1: "cell body", 2: "nuclei"}


@dataclass(frozen=True)
class SimcepParams:
    """Every knob of the simulator; the defaults give BBBC005-like U2OS fields at 696 x 520."""

    height: int = 520
    width: int = 696
    nucleus_radius: float = 8.5
    radius_spread: float = 0.15
    cytoplasm_scale: float = 2.0
    nucleus_shape: tuple[float, float] = (0.1, 0.1)
    cytoplasm_shape: tuple[float, float] = (0.3, 0.15)
    control_points: int = 11
    cluster_fraction: float = 0.25
    cells_per_cluster: float = 8.0
    cluster_spread: float = 0.05
    max_overlap: float = 0.1
    max_retries: int = 50
    texture_octaves: int = 5
    texture_persistence: float = 0.6
    nucleus_texture_floor: float = 0.5
    cytoplasm_texture_floor: float = 0.3
    brightness: tuple[float, float] = (0.6, 0.9)
    defocus_sigma: tuple[float, float] = (0.5, 5.0)
    autofluorescence: float = 0.05
    vignetting: float = 0.3
    noise_variance: float = 1e-4


@dataclass(frozen=True)
class Field:
    """One simulated field of view, before the global focus blur and the camera.

    Attributes:
        bodies: optical cell-body image (stain w1), float32 ``(H, W)`` in about [0, 1].
        nuclei: optical nuclei image (stain w2), float32 ``(H, W)``.
        body_labels: uint16 instance labels of cell bodies, 0 = background.
        nucleus_labels: uint16 instance labels of nuclei, same ids as ``body_labels``.
        centres: float ``(N, 2)`` (row, col) centre of every placed cell, row i = label i + 1.
        requested: the number of cells asked for.
    """

    bodies: np.ndarray
    nuclei: np.ndarray
    body_labels: np.ndarray
    nucleus_labels: np.ndarray
    centres: np.ndarray
    requested: int

    @property
    def placed(self) -> int:
        """Number of cells actually placed: the true count."""
        return len(self.centres)

    def optical(self, stain: int) -> np.ndarray:
        """The optical image of stain 1 (cell body) or 2 (nuclei)."""
        return self.bodies if stain == 1 else self.nuclei

    def labels(self, stain: int) -> np.ndarray:
        """The instance labels that match stain 1 (cell body) or 2 (nuclei)."""
        return self.body_labels if stain == 1 else self.nucleus_labels


@dataclass
class _Canvas:
    """Accumulators of one stain: blurred intensities and masks, labels, nearest distance."""

    num: np.ndarray
    den: np.ndarray
    labels: np.ndarray
    best: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> _Canvas:
        return cls(
            np.zeros(shape, np.float64),
            np.zeros(shape, np.float64),
            np.zeros(shape, np.uint16),
            np.full(shape, np.inf, np.float32),
        )

    def image(self) -> np.ndarray:
        return (self.num / np.maximum(self.den, 1.0)).astype(np.float32)

    def add(self, patch: _Patch, texture: np.ndarray, sigma: float, label: int) -> None:
        """Blur the object's intensity and mask by ``sigma`` and accumulate them; give the
        object's pixels to ``label`` where its centre is the nearest one so far."""
        intensity = ndimage.gaussian_filter(texture * patch.mask, sigma, mode="constant")
        weight = ndimage.gaussian_filter(patch.mask.astype(float), sigma, mode="constant")
        (r0, c0), size = patch.origin, patch.mask.shape[0]
        top, left = max(r0, 0), max(c0, 0)
        bottom, right = min(r0 + size, self.labels.shape[0]), min(c0 + size, self.labels.shape[1])
        if top >= bottom or left >= right:
            return
        local = (slice(top - r0, bottom - r0), slice(left - c0, right - c0))
        window = (slice(top, bottom), slice(left, right))
        self.num[window] += intensity[local]
        self.den[window] += weight[local]
        distance = patch.distance[local]
        nearer = patch.mask[local] & (distance < self.best[window])
        self.labels[window][nearer] = label
        self.best[window][nearer] = distance[nearer]


def simulate_field(
    count: int, seed: int | np.random.SeedSequence, params: SimcepParams | None = None
) -> Field:
    """Simulate one field of view with ``count`` requested cells.

    Args:
        count: number of cells to try to place (0 gives an empty field).
        seed: integer or ``SeedSequence``; the same seed gives the same field, bit for bit.
        params: simulator settings (defaults: BBBC005-like).

    Returns:
        The :class:`Field` with optical images of both stains, instance labels and centres.

    Example:
        >>> field = simulate_field(5, seed=0)
        >>> field.nuclei.shape, field.placed == int(field.nucleus_labels.max())
        ((520, 696), True)
    """
    params = params or SimcepParams()
    if count < 0:
        raise InputError(f"cell count must be >= 0, got {count}")
    if count >= np.iinfo(np.uint16).max:
        raise InputError(f"cell count must be < 65535 (uint16 labels), got {count}")
    rng = np.random.default_rng(seed)
    shape = (params.height, params.width)
    occupied = np.zeros(shape, bool)
    canvases = {1: _Canvas.empty(shape), 2: _Canvas.empty(shape)}
    centres: list[tuple[float, float]] = []
    for position in _proposals(count, rng, params):
        cell = _make_cell(rng, params)
        accepted = _place_nucleus(cell, position, occupied, params)
        if accepted is None:
            continue
        centres.append(accepted)
        _paint_cell(canvases, cell, accepted, len(centres), rng, params)
    nuclei, bodies = canvases[2].image(), canvases[1].image()
    return Field(
        bodies=illuminate(bodies, rng, params),
        nuclei=illuminate(nuclei, rng, params),
        body_labels=canvases[1].labels,
        nucleus_labels=canvases[2].labels,
        centres=np.asarray(centres, float).reshape(-1, 2),
        requested=count,
    )


def render_image(
    optical: np.ndarray,
    blur: int,
    seed: int | np.random.SeedSequence,
    params: SimcepParams | None = None,
) -> np.ndarray:
    """Camera noise, then the BBBC005 focus blur of diameter ``blur``, clipping and 8-bit output.

    BBBC005 blurred SIMCEP's finished images, noise included, so its blurred images are smoother
    than their in-focus ones in every respect (the raw Laplacian's variance falls with F).

    Args:
        optical: an optical image from :class:`Field` (float, about [0, 1]).
        blur: BBBC005's F: Gaussian of diameter F pixels and sigma F/4 (F=1 is in focus).
        seed: seed of the camera noise.
        params: simulator settings (for the noise variance).

    Returns:
        uint8 image of the same shape.
    """
    params = params or SimcepParams()
    rng = np.random.default_rng(seed)
    noisy = optical + rng.normal(0.0, np.sqrt(params.noise_variance), optical.shape)
    image = focus_blur(noisy, blur)
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def focus_blur(image: np.ndarray, diameter: int) -> np.ndarray:
    """Blur with BBBC005's focus kernel: a Gaussian of sigma ``diameter / 4`` cut at radius
    ``diameter / 2`` (MATLAB's ``fspecial('gaussian', F, F/4)``, kept centred for even F).

    Example:
        >>> img = np.zeros((9, 9)); img[4, 4] = 1.0
        >>> bool(np.allclose(focus_blur(img, 1), img)), round(float(focus_blur(img, 8).sum()), 6)
        (True, 1.0)
    """
    if diameter < 1:
        raise InputError(f"focus blur diameter must be >= 1, got {diameter}")
    radius = diameter // 2
    if radius == 0:
        return image.astype(np.float32, copy=True)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / (diameter / 4.0)) ** 2)
    kernel /= kernel.sum()
    out = ndimage.correlate1d(image.astype(np.float32), kernel, axis=0, mode="nearest")
    return ndimage.correlate1d(out, kernel, axis=1, mode="nearest")


def fractal_texture(
    shape: tuple[int, int], rng: np.random.Generator, octaves: int, persistence: float, floor: float
) -> np.ndarray:
    """Fractal noise: sum over octaves i of upsampled uniform grids of 2**(i+1) cells, weight
    ``persistence**i``, rescaled to ``[floor, 1]``."""
    total = np.zeros(shape)
    for i in range(octaves):
        cells = 2 ** (i + 1)
        grid = rng.random((cells + 1, cells + 1))
        total += persistence**i * _upsample_bilinear(grid, shape)
    low, high = total.min(), total.max()
    unit = (total - low) / (high - low) if high > low else np.ones(shape)
    return floor + (1.0 - floor) * unit


def cell_outline(
    radius: float, shape_noise: tuple[float, float], points: int, rng: np.random.Generator
) -> np.ndarray:
    """A closed cubic-spline outline through ``points`` jittered points on a circle.

    Args:
        radius: object radius in pixels.
        shape_noise: (radius, angle) randomness: each control radius is scaled by
            ``1 + U(-a, a)`` and each angle moved by ``U(-b, b)`` of the spacing between points.
        points: number of control points (SIMCEP: 11).
        rng: random generator.

    Returns:
        ``(M, 2)`` array of (row, col) offsets from the centre, M = 16 * points.
    """
    radial, angular = shape_noise
    step = 2 * np.pi / points
    angles = step * (np.arange(points) + rng.uniform(-angular, angular, points))
    radii = radius * (1.0 + rng.uniform(-radial, radial, points))
    knots = np.stack([radii * np.sin(angles), radii * np.cos(angles)], axis=1)
    knots = np.vstack([knots, knots[:1]])
    spline = CubicSpline(np.arange(points + 1), knots, bc_type="periodic")
    return spline(np.linspace(0, points, 16 * points, endpoint=False))


@dataclass(frozen=True)
class _Cell:
    nucleus: np.ndarray  # outline offsets
    cytoplasm: np.ndarray


def _make_cell(rng: np.random.Generator, params: SimcepParams) -> _Cell:
    radius = params.nucleus_radius * max(0.3, 1.0 + params.radius_spread * rng.standard_normal())
    nucleus = cell_outline(radius, params.nucleus_shape, params.control_points, rng)
    cytoplasm = cell_outline(
        radius * params.cytoplasm_scale, params.cytoplasm_shape, params.control_points, rng
    )
    return _Cell(nucleus, cytoplasm)


def _proposals(
    count: int, rng: np.random.Generator, params: SimcepParams
) -> Iterator[Callable[[], np.ndarray]]:
    """Yield, per requested cell, a function that draws one candidate centre."""
    size = np.array([params.height, params.width], float)
    clustered = round(params.cluster_fraction * count)
    n_clusters = max(1, round(clustered / params.cells_per_cluster)) if clustered else 0
    cluster_centres = rng.uniform(0, 1, (n_clusters, 2)) * size
    kinds = np.zeros(count, int)
    kinds[:clustered] = 1 + rng.integers(0, max(n_clusters, 1), clustered)
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == 0:
            yield lambda: rng.uniform(0, 1, 2) * size
        else:
            centre = cluster_centres[kind - 1]
            yield lambda c=centre: c + rng.normal(0, params.cluster_spread, 2) * size


def _place_nucleus(
    cell: _Cell,
    propose: Callable[[], np.ndarray],
    occupied: np.ndarray,
    params: SimcepParams,
) -> tuple[float, float] | None:
    """Try up to ``max_retries`` positions; mark and return the first acceptable centre."""
    height, width = occupied.shape
    for _ in range(params.max_retries):
        row, col = propose()
        if not (0 <= row < height and 0 <= col < width):
            continue
        rows, cols = _raster(cell.nucleus, (row, col), occupied.shape)
        if rows.size == 0:
            continue
        if occupied[rows, cols].mean() <= params.max_overlap:
            occupied[rows, cols] = True
            return float(row), float(col)
    return None


def _raster(outline: np.ndarray, centre: tuple[float, float], shape: tuple[int, int]):
    points = outline + np.asarray(centre)
    return rasterise_polygon(points[:, 0], points[:, 1], shape)


def _paint_cell(
    canvases: dict[int, _Canvas],
    cell: _Cell,
    centre: tuple[float, float],
    label: int,
    rng: np.random.Generator,
    params: SimcepParams,
) -> None:
    """Add one cell's textured, defocused nucleus (stain 2) and body (stain 1) to the canvases."""
    low, high = params.defocus_sigma
    sigma = low + rng.uniform() * (high - low)  # one random depth per cell
    brightness = rng.uniform(*params.brightness)
    objects = (
        (2, (cell.nucleus,), params.nucleus_texture_floor),
        (1, (cell.nucleus, cell.cytoplasm), params.cytoplasm_texture_floor),
    )
    for stain, outlines, floor in objects:
        patch = _object_patch(outlines, centre, sigma)
        texture = fractal_texture(
            patch.mask.shape, rng, params.texture_octaves, params.texture_persistence, floor
        )
        canvases[stain].add(patch, texture * brightness, sigma, label)


@dataclass(frozen=True)
class _Patch:
    """A square window around one object: its origin in the image, mask and distance map."""

    origin: tuple[int, int]
    mask: np.ndarray
    distance: np.ndarray


def _object_patch(
    outlines: tuple[np.ndarray, ...], centre: tuple[float, float], sigma: float
) -> _Patch:
    extent = max(float(np.abs(o).max()) for o in outlines)
    pad = int(np.ceil(extent + 3 * sigma)) + 1
    origin = (int(np.floor(centre[0])) - pad, int(np.floor(centre[1])) - pad)
    size = 2 * pad + 2
    local = (centre[0] - origin[0], centre[1] - origin[1])
    mask = np.zeros((size, size), bool)
    for outline in outlines:
        mask[_raster(outline, local, (size, size))] = True
    rows, cols = np.mgrid[0:size, 0:size]
    distance = np.hypot(rows - local[0], cols - local[1]).astype(np.float32)
    return _Patch(origin, mask, distance)


def illuminate(image: np.ndarray, rng: np.random.Generator, params: SimcepParams) -> np.ndarray:
    """Add low-frequency autofluorescence and apply quadratic vignetting."""
    shape = image.shape
    background = fractal_texture(shape, rng, 2, 0.5, 0.0)
    energy = image.sum()
    if energy > 0 and background.sum() > 0:
        image = image + background * (params.autofluorescence * energy / background.sum())
    rows = np.linspace(-1.0, 1.0, shape[0])[:, None]
    cols = np.linspace(-1.0, 1.0, shape[1])[None, :]
    falloff = 1.0 - params.vignetting * (rows**2 + cols**2) / 2.0
    return (image * falloff).astype(np.float32)


def _upsample_bilinear(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of ``grid`` onto ``shape`` with corners aligned."""
    return (
        _interp_matrix(shape[0], grid.shape[0]) @ grid @ _interp_matrix(shape[1], grid.shape[1]).T
    )


def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    position = np.linspace(0, n_in - 1, n_out)
    low = np.minimum(np.floor(position).astype(int), n_in - 2)
    frac = position - low
    matrix = np.zeros((n_out, n_in))
    matrix[np.arange(n_out), low] = 1 - frac
    matrix[np.arange(n_out), low + 1] = frac
    return matrix
