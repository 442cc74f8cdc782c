from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from bioscope.data.simcep import (
    SimcepParams,
    cell_outline,
    focus_blur,
    fractal_texture,
    illuminate,
    render_image,
    simulate_field,
)
from bioscope.errors import InputError

SMALL = SimcepParams(height=96, width=128, nucleus_radius=5.0)


def test_same_seed_same_field_other_seed_other_field():
    a, b, c = (simulate_field(10, s, SMALL) for s in (1, 1, 2))
    for x, y in [(a.nuclei, b.nuclei), (a.bodies, b.bodies), (a.nucleus_labels, b.nucleus_labels)]:
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.nuclei, c.nuclei)


@pytest.mark.parametrize("count", [0, 1, 14, 40])
def test_labels_are_the_placed_cells(count):
    field = simulate_field(count, 3, SMALL)
    for labels in (field.nucleus_labels, field.body_labels):
        ids = np.unique(labels[labels > 0])
        np.testing.assert_array_equal(ids, np.arange(1, field.placed + 1))
    # every centre lies in its own nucleus label
    rows, cols = np.floor(field.centres).astype(int).T
    np.testing.assert_array_equal(field.nucleus_labels[rows, cols], np.arange(1, field.placed + 1))
    assert field.requested == count and field.placed <= count


def test_overlap_rejection_limits_nuclear_overlap():
    field = simulate_field(30, 0, SMALL)
    areas = ndimage.sum_labels(
        np.ones_like(field.nucleus_labels), field.nucleus_labels, np.arange(1, field.placed + 1)
    )
    # nearest-centre assignment plus <= 10% overlap: every nucleus keeps most of its area
    assert areas.min() > 0.5 * np.pi * (0.6 * SMALL.nucleus_radius) ** 2


def test_crowded_field_places_fewer_than_requested():
    crowded = SimcepParams(height=40, width=40, nucleus_radius=6.0, max_retries=5)
    field = simulate_field(200, 0, crowded)
    assert 0 < field.placed < 200
    assert int(field.nucleus_labels.max()) == field.placed


def test_clusters_bring_cells_closer_than_uniform():
    clustered = SimcepParams(cluster_fraction=1.0, cells_per_cluster=25)
    uniform = SimcepParams(cluster_fraction=0.0)
    nearest = []
    for params in (clustered, uniform):
        centres = simulate_field(50, 5, params).centres
        distances, _ = cKDTree(centres).query(centres, k=2)
        nearest.append(np.median(distances[:, 1]))
    assert nearest[0] < 0.75 * nearest[1], nearest


def test_image_statistics_like_bbbc005():
    field = simulate_field(40, 11)
    image = render_image(field.nuclei, 1, 0)
    assert image.dtype == np.uint8 and image.shape == (520, 696)
    inside, outside = image[field.nucleus_labels > 0], image[field.nucleus_labels == 0]
    assert inside.mean() > 5 * outside.mean() + 20  # bright cells, dark background
    centre = image[200:320, 250:450].astype(float)
    assert 0 < outside.mean() < 20 and centre.max() > 100


def test_vignetting_darkens_corners():
    flat = SimcepParams(vignetting=0.3, autofluorescence=0.0)
    field = simulate_field(0, 0, flat)
    assert not field.nuclei.any()  # empty field: no cells, no autofluorescence
    lit = illuminate(np.ones((52, 70), np.float32), np.random.default_rng(0), flat)
    assert lit[26, 35] == pytest.approx(1.0, abs=0.01)
    assert lit[0, 0] == pytest.approx(0.7, abs=0.01)


def test_blur_increases_with_f():
    field = simulate_field(60, 2)
    sharpness = [
        ndimage.gaussian_laplace(render_image(field.nuclei, f, 0).astype(float), 1.0).var()
        for f in (1, 4, 7, 14, 23)
    ]
    assert all(a > b for a, b in itertools.pairwise(sharpness)), sharpness


def test_focus_blur_falls_on_the_noise_too():
    """BBBC005 blurred SIMCEP's finished images, noise included: the raw Laplacian's variance
    (noise dominated in focus) must fall steeply with F, not stay at the noise's level."""
    field = simulate_field(40, 3)
    raw = [ndimage.laplace(render_image(field.nuclei, f, 5).astype(float)).var() for f in (1, 23)]
    assert raw[1] < raw[0] / 20, raw


def test_focus_blur_kernel():
    impulse = np.zeros((31, 31))
    impulse[15, 15] = 1.0
    np.testing.assert_allclose(focus_blur(impulse, 1), impulse)
    for diameter in (4, 7, 14):
        out = focus_blur(impulse, diameter)
        assert out.sum() == pytest.approx(1.0, abs=1e-6)
        support = np.argwhere(out > 0)
        assert support.min() == 15 - diameter // 2 and support.max() == 15 + diameter // 2
        rows = np.arange(31) - 15
        sigma = np.sqrt((out.sum(axis=1) * rows**2).sum())
        assert sigma < diameter / 4  # truncated Gaussian of sigma F/4
    with pytest.raises(InputError):
        focus_blur(impulse, 0)


def test_outline_is_a_jittered_closed_circle():
    rng = np.random.default_rng(0)
    outline = cell_outline(10.0, (0.1, 0.1), 11, rng)
    radii = np.hypot(*outline.T)
    assert outline.shape == (176, 2)
    assert 8.0 < radii.min() and radii.max() < 12.5
    circle = cell_outline(10.0, (0.0, 0.0), 11, rng)
    np.testing.assert_allclose(np.hypot(*circle.T), 10.0, rtol=0.01)


def test_fractal_texture_range():
    tex = fractal_texture((33, 40), np.random.default_rng(0), 5, 0.6, 0.3)
    assert tex.shape == (33, 40)
    assert tex.min() == pytest.approx(0.3) and tex.max() == pytest.approx(1.0)


def test_bad_counts():
    with pytest.raises(InputError, match=">= 0"):
        simulate_field(-1, 0, SMALL)
