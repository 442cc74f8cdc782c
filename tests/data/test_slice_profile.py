"""Thick slices: exact geometry, the centre convention, and averaging of thin slices."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.data.degradations import degrade_with
from bioscope.data.slice_profile import slice_matrix, thick_slices
from bioscope.data.superres import make_pair
from bioscope.errors import InputError

SCALES = ["11/10", "3/2", "2", "5/2", "27/10", "4"]


@pytest.mark.parametrize("value", SCALES)
@pytest.mark.parametrize("profile", ["box", "gaussian"])
def test_rows_sum_to_one_and_sit_at_the_lr_pixel_centres(value, profile):
    """Each thick slice is a weighted mean centred on HR coordinate (j + 1/2) s - 1/2."""
    scale = Fraction(value)
    hr = scale.numerator * 8
    matrix = slice_matrix(hr, scale, profile)
    assert matrix.shape == (hr * scale.denominator // scale.numerator, hr)
    assert hr == len(matrix) * scale  # s * LR == HR exactly
    np.testing.assert_allclose(matrix.sum(axis=1), 1, atol=1e-12)
    centres = matrix @ np.arange(hr)
    expected = (np.arange(len(matrix)) + 0.5) * float(scale) - 0.5
    interior = slice(2, -2) if profile == "gaussian" else slice(None)  # truncated at the border
    # exact where slice edges meet pixel edges; else off by the pixels cut by an edge (<= 1/12)
    exact = profile == "box" and scale.denominator == 1
    tolerance = 1e-9 if exact else (1 / 12 + 1e-9 if profile == "box" else 5e-3)
    assert np.abs(centres[interior] - expected[interior]).max() <= tolerance


def test_box_at_an_integer_scale_averages_thin_slices():
    volume = np.random.default_rng(0).random((5, 6, 12))
    hr, lr = thick_slices(volume, Fraction(3), axis=2)
    assert hr.shape == (5, 6, 12) and lr.shape == (5, 6, 4)
    np.testing.assert_allclose(lr, volume.reshape(5, 6, 4, 3).mean(-1), atol=1e-6)


def test_a_shifted_delta_lands_in_the_thick_slice_that_covers_it():
    """A thin slice i contributes to the thick slices whose interval [j s, (j+1) s) holds it."""
    scale = Fraction(5, 2)
    matrix = slice_matrix(10, scale)
    for i in range(10):
        delta = np.zeros(10)
        delta[i] = 1
        hit = np.flatnonzero(matrix @ delta)
        expected = {int(np.floor(i / 2.5)), int(np.floor((i + 0.999) / 2.5))}
        assert set(hit.tolist()) == expected


def test_only_the_slice_axis_shrinks_and_the_rest_is_untouched():
    image = np.random.default_rng(1).random((17, 9))
    hr, lr = degrade_with("slices-gaussian", image, "2", axis=0)
    assert hr.shape == (16, 9) and lr.shape == (8, 9)
    pair = make_pair(
        torch.from_numpy(image[None, None].astype(np.float32)), Fraction(2), "slices-box"
    )
    assert pair["scale"] == "2,1"
    assert pair["hr"].shape[-2:] == (16, 9) and pair["lr"].shape[-2:] == (8, 9)
    np.testing.assert_allclose(pair["lr"][0, 0], (image[:16:2] + image[1:16:2]) / 2, atol=1e-6)


def test_bad_profile_and_options_are_refused():
    with pytest.raises(InputError, match="slice profile"):
        slice_matrix(4, Fraction(2), "cosine")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="do not apply"):
        degrade_with("slices-box", np.zeros((8, 8)), 2, window="hamming")
    with pytest.raises(InputError, match="shorter than"):
        thick_slices(np.zeros((8, 8, 2)), Fraction(3), axis=2)
