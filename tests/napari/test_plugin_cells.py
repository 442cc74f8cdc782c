"""The cells widget's plain function: layers, count, centroids and placement."""

from __future__ import annotations

import numpy as np
import pytest

import bioscope
from bioscope.errors import InputError
from bioscope.napari.cells import segment_cells
from bioscope.napari.placement import Placement

PLACED = Placement((0.65, 0.65), (12.0, -40.0))


def test_layers_count_and_centroids(field: np.ndarray) -> None:
    (labels, meta, kind), (points, point_meta, point_kind) = segment_cells(
        field, PLACED, name="nuclei", device="cpu"
    )
    assert (kind, point_kind) == ("labels", "points")
    assert labels.shape == field.shape and labels.dtype == np.int32
    count = meta["metadata"]["count"]
    assert count == bioscope.count(field, device="cpu") == int(labels.max()) > 5
    assert meta["metadata"]["method"] == "distance"  # the shipped model's default
    assert meta["name"] == "nuclei labels" and point_meta["name"] == "nuclei centroids"
    assert points.shape == (count, 2)
    np.testing.assert_array_equal(point_meta["features"]["cell"], np.arange(1, count + 1))
    # each point is the centre of one labelled nucleus (row, col): inside it, near its centroid
    for label, point in enumerate(points, start=1):
        rows, cols = np.nonzero(labels == label)
        assert labels[tuple(np.round(point).astype(int))] == label
        assert np.hypot(point[0] - rows.mean(), point[1] - cols.mean()) < 2.0


def test_layers_carry_the_image_placement(field: np.ndarray) -> None:
    labels, points = segment_cells(field, PLACED, device="cpu")
    for _, meta, _ in (labels, points):
        assert meta["scale"] == (0.65, 0.65) and meta["translate"] == (12.0, -40.0)
    oblique = Placement((1.0, 1.0), (0.0, 0.0), np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1.0]]))
    labels, _ = segment_cells(field, oblique, device="cpu")
    np.testing.assert_array_equal(labels[1]["affine"], oblique.affine)


def test_overrides_reach_the_predictor(field: np.ndarray) -> None:
    (labels, meta, _), _ = segment_cells(
        field, method="watershed", threshold=0.7, diameter=0, device="cpu"
    )
    assert (meta["metadata"]["method"], meta["metadata"]["threshold"]) == ("watershed", 0.7)
    expected = bioscope.segment(field, method="watershed", threshold=0.7, device="cpu")
    np.testing.assert_array_equal(labels, expected)


def test_rgb_counts_as_grey(field: np.ndarray) -> None:
    rgb = np.repeat(field[..., None], 3, axis=-1)
    (_, grey, _), _ = segment_cells(field, device="cpu")
    (_, colour, _), _ = segment_cells(rgb, device="cpu")
    assert colour["metadata"]["count"] == grey["metadata"]["count"]


def test_refuses_a_stack_and_bad_settings(field: np.ndarray) -> None:
    with pytest.raises(InputError, match="has 3 dimensions; expected 2"):
        segment_cells(np.stack([field] * 4), Placement.unit(3), name="stack", device="cpu")
    with pytest.raises(InputError, match="diameter must be"):
        segment_cells(field, diameter="big", device="cpu")
    with pytest.raises(InputError, match="unknown counting method"):
        segment_cells(field, method="guess", device="cpu")
    with pytest.raises(InputError, match="threshold must be in"):
        segment_cells(field, threshold=1.5, device="cpu")
