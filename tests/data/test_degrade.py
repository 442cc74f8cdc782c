from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from bioscope.data.degrade import (
    ScaleSampler,
    as_scale,
    degrade,
    lr_size,
    resample_matrix,
)
from bioscope.errors import InputError
from bioscope.geometry import parse_scale, source_index

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
        ("two", "finite number"),
        ("nan", "finite number"),
        (float("inf"), "finite number"),
        ("1e999999999", "finite number"),  # refused before any exact arithmetic on the exponent
        ("1e9", "larger than 16"),
        (Fraction(2.7), "denominator"),
        (4.5, "outside the range"),
        (1.05, "outside"),
    ):
        with pytest.raises(InputError, match=message):
            as_scale(bad)
    assert as_scale(6, allow_outside=True) == 6
    with pytest.raises(InputError, match="larger than 16"):
        as_scale(17, allow_outside=True)


def test_parse_scale_one_rule_for_every_spelling():
    assert parse_scale(2.7) == parse_scale("2.7") == parse_scale(" 27/10 ") == Fraction(27, 10)
    assert parse_scale(Fraction(399, 100)) == Fraction(399, 100)  # passed through
    assert parse_scale(np.float32(2.7)) == Fraction(27, 10) and parse_scale(np.int64(3)) == 3
    assert parse_scale("2.345") == Fraction(2.345).limit_denominator(100)
    with pytest.raises(InputError, match="finite number"):
        parse_scale(True)
    for close_to_one in ("1.001", "1001/1000", 1.004):
        with pytest.raises(InputError, match=r"rounds to 1 .* the least above 1 is 1\.01"):
            parse_scale(close_to_one)
    image = np.random.default_rng(0).random((30, 30))
    np.testing.assert_array_equal(degrade(image, 2.7)[1], degrade(image, Fraction(27, 10))[1])
    with pytest.raises(InputError, match="larger than 16"):
        degrade(image, "1e9")


def keys(x: float, a: float = -0.5) -> float:
    """Keys' cubic convolution kernel at distance ``x``."""
    x = abs(x)
    if x <= 1:
        return (a + 2) * x**3 - (a + 3) * x**2 + 1
    return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a if x < 2 else 0.0


def naive_weights(hr: int, scale: Fraction) -> np.ndarray:
    """``(lr, hr)``: for each LR pixel the kernel stretched by ``s`` at every HR pixel, summing
    to one (the border taps dropped)."""
    lr = hr * scale.denominator // scale.numerator
    weights = np.zeros((lr, hr))
    for j in range(lr):
        centre = float(Fraction(2 * j + 1, 2) * scale - Fraction(1, 2))
        for i in range(hr):
            weights[j, i] = keys((i - centre) / float(scale))
        weights[j] /= weights[j].sum()
    return weights


@pytest.mark.parametrize(("value", "sigma"), [(1.1, 0.0), (2.7, 0.0), (3.3, 1.5), (4, 0.7)])
def test_degrade_equals_a_naive_reference(value, sigma):
    scale = as_scale(value)
    image = np.random.default_rng(1).random((2, 97, 83))
    hr, lr = degrade(image, scale, blur_sigma=sigma)
    cropped = image[:, : hr.shape[-2], : hr.shape[-1]]  # cropped first, then blurred
    blurred = ndimage.gaussian_filter(cropped, sigma, axes=(-2, -1)) if sigma else cropped
    rows, cols = naive_weights(hr.shape[-2], scale), naive_weights(hr.shape[-1], scale)
    np.testing.assert_allclose(lr, rows @ blurred @ cols.T, atol=1e-5)
    np.testing.assert_array_equal(hr, cropped.astype(np.float32))


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
