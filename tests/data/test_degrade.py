from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bioscope.data.degrade import (
    ScaleSampler,
    as_scale,
    degrade,
    lr_size,
    resample_matrix,
)
from bioscope.errors import InputError
from bioscope.geometry import source_index

SCALES = [1.1, 1.4, 2, 2.3, 2.5, 2.7, 3.3, 3.7, 4]


@pytest.mark.parametrize("value", SCALES)
@pytest.mark.parametrize("shape", [(97, 83), (101, 149), (96, 96)])
def test_lr_size_is_exact(value, shape):
    scale = as_scale(value)
    hr, lr = degrade(np.random.default_rng(0).random(shape), scale)
    assert scale * lr.shape[0] == hr.shape[0] and scale * lr.shape[1] == hr.shape[1]
    assert hr.shape[0] > shape[0] - scale.numerator and hr.shape[1] > shape[1] - scale.numerator
    # the float shortcuts that go wrong: int(H / s) and round(H / s) need not be the exact size
    assert lr_size(shape[0], scale)[1] == lr.shape[0]


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_integer_scale_matches_pytorch_antialiased_bicubic(factor):
    rows, cols = np.mgrid[0:96, 0:96]
    smooth = np.sin(cols / 7.0) * np.cos(rows / 9.0) + 0.3 * np.sin((rows + cols) / 13.0)
    hr, lr = degrade(smooth, Fraction(factor))
    reference = F.interpolate(
        torch.from_numpy(hr)[None, None].double(),
        size=lr.shape,
        mode="bicubic",
        antialias=True,
        align_corners=False,
    )[0, 0].numpy()
    assert np.abs(lr - reference).max() < 1e-5  # float32 rounding only, borders included


def test_rows_of_the_resampling_matrix_sum_to_one():
    for value in SCALES:
        scale = as_scale(value)
        matrix = resample_matrix(scale.numerator * 5, scale)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


@pytest.mark.parametrize("value", SCALES)
def test_source_index_is_exact(value):
    scale = as_scale(value)
    for i in range(200):
        source, offset = source_index(i, scale)
        position = Fraction(2 * i + 1, 2) / scale
        assert source == math.floor(position) and offset == position - source
        assert 0 <= offset < 1


def test_scale_parsing_and_range():
    assert as_scale("3.7") == Fraction(37, 10)
    for bad, message in (
        (0, "greater than 1"),
        (-1, "greater than 1"),
        (1, "greater than 1"),
        ("two", "must be a number"),
        (4.5, "outside the range"),
        (1.05, "outside"),
    ):
        with pytest.raises(InputError, match=message):
            as_scale(bad)
    assert as_scale(6, allow_outside=True) == 6


def test_blur_option_smooths():
    image = np.zeros((40, 40))
    image[20, 20] = 1.0
    _, sharp = degrade(image, Fraction(2))
    _, blurred = degrade(image, Fraction(2), blur_sigma=2.0)
    assert blurred.max() < 0.5 * sharp.max()
    assert blurred.sum() == pytest.approx(sharp.sum(), rel=1e-5)  # blur keeps the energy


def test_scale_sampler():
    torch.manual_seed(3)
    sampler = ScaleSampler()
    assert len(sampler.scales) == 30 and sampler.scales[0] == Fraction(11, 10)
    assert sampler.scales[-1] == 4
    draws = [sampler() for _ in range(200)]
    assert set(draws) <= set(sampler.scales) and len(set(draws)) > 20
    torch.manual_seed(1)
    first = [sampler() for _ in range(5)]
    torch.manual_seed(1)
    assert [sampler() for _ in range(5)] == first
    assert ScaleSampler(2, 2).scales == [2]


@pytest.mark.parametrize("sigma", [-3.0, float("nan"), float("inf")])
def test_bad_blur_sigma_is_refused(sigma):
    with pytest.raises(InputError, match="blur sigma"):
        degrade(np.zeros((8, 8)), Fraction(2), sigma)
