from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from bioscope.data.degrade import as_scale, lr_size
from bioscope.errors import InputError
from bioscope.geometry import source_index, sr_size
from bioscope.nn.meta_upscale import (
    WeightPredictor,
    bicubic_upscale,
    meta_upscale,
    official_meta_upscale,
    widen_to_anisotropic,
)

SCALES = [1.1, 1.4, 2, 2.3, 2.7, 3.3, 3.7, 4]


def naive(features, scale, predictor):
    """Per output pixel: its own weights from the MLP, a k x k window around its source pixel."""
    batch, channels, height, width = features.shape
    k = predictor.kernel
    padded = F.pad(features, (k // 2,) * 4)
    out = torch.zeros(
        batch,
        predictor.out_channels,
        sr_size(height, scale),
        sr_size(width, scale),
        dtype=features.dtype,
    )
    for i in range(out.shape[-2]):
        row, dh = source_index(i, scale)
        for j in range(out.shape[-1]):
            col, dw = source_index(j, scale)
            inputs = torch.tensor([[1 / float(scale), float(dh), float(dw)]], dtype=features.dtype)
            weights = predictor(inputs).view(predictor.out_channels, channels, k, k)
            window = padded[:, :, row : row + k, col : col + k]
            out[:, :, i, j] = torch.einsum("ocxy,bcxy->bo", weights, window)
    return out


@pytest.mark.parametrize("value", SCALES)
@pytest.mark.parametrize(("size", "out_channels"), [((7, 5), 1), ((5, 9), 3)])
def test_equals_naive_per_pixel_reference(value, size, out_channels):
    torch.manual_seed(0)
    predictor = WeightPredictor(4, out_channels)
    features = torch.randn(2, 4, *size)
    scale = as_scale(value)
    expected = naive(features, scale, predictor)
    assert (meta_upscale(features, scale, predictor) - expected).abs().max() <= 1e-5
    assert (official_meta_upscale(features, scale, predictor) - expected).abs().max() <= 1e-5


@pytest.mark.parametrize("value", SCALES)
@pytest.mark.parametrize("hr", [96, 97, 101])
def test_output_size_is_the_pipeline_hr_size(value, hr):
    scale = as_scale(value)
    cropped, lr = lr_size(hr, scale)
    predictor = WeightPredictor(2, 1)
    out = meta_upscale(torch.zeros(1, 2, lr, lr), scale, predictor)
    assert out.shape[-2:] == (cropped, cropped)


@pytest.mark.parametrize("scale", [Fraction(5, 2), Fraction(27, 10)])  # both paths
def test_gradients_reach_the_weight_prediction_mlp(scale):
    predictor = WeightPredictor(3, 1, quiet_init=True)
    features = torch.randn(1, 3, 6, 6, requires_grad=True)
    target = torch.randn(1, 1, sr_size(6, scale), sr_size(6, scale))
    for _ in range(2):  # zero-initialised last layer: its gradient is nonzero, earlier ones follow
        out = meta_upscale(features, scale, predictor)
        (out - target).square().mean().backward()
        with torch.no_grad():
            for p in predictor.parameters():
                p -= 0.1 * p.grad
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in predictor.parameters())
    assert features.grad.abs().sum() > 0


def test_bad_input():
    predictor = WeightPredictor(4, 1)
    with pytest.raises(InputError, match="expected 4 feature channels"):
        meta_upscale(torch.zeros(1, 3, 5, 5), Fraction(2), predictor)
    for bad in (0, -1, "abc", float("nan"), float("inf"), 1e9, Fraction(2.7)):
        with pytest.raises(InputError, match="scale"):
            meta_upscale(torch.zeros(1, 4, 5, 5), bad, predictor)
        with pytest.raises(InputError, match="scale"):
            official_meta_upscale(torch.zeros(1, 4, 5, 5), bad, predictor)


def test_a_float_or_text_scale_is_its_decimal_fraction():
    torch.manual_seed(0)
    predictor = WeightPredictor(2, 1)
    features = torch.randn(1, 2, 7, 6)
    expected = meta_upscale(features, Fraction(27, 10), predictor)
    for value in (2.7, "2.7", " 27/10 "):
        assert torch.equal(meta_upscale(features, value, predictor), expected)
    assert torch.equal(bicubic_upscale(features, 2.7), bicubic_upscale(features, Fraction(27, 10)))


@pytest.mark.parametrize(
    "scale", [Fraction(399, 100), Fraction(273, 100), Fraction(9, 4), Fraction(7, 3)]
)
def test_large_denominators_equal_the_official_method(scale):
    """Both paths (dense phases for q <= 3, row phase by row phase above) against the official
    one; 23 rows at 399/100 are fewer than p, so every output row is a phase of its own."""
    torch.manual_seed(1)
    predictor = WeightPredictor(3, 2)
    features = torch.randn(1, 3, 23, 17)
    expected = official_meta_upscale(features, scale, predictor)
    assert (meta_upscale(features, scale, predictor) - expected).abs().max() <= 1e-5


def naive_anisotropic(features, rows, cols, predictor):
    """Per output pixel: the MLP at ``(1/s_h, 1/s_w, dh, dw)``, a k x k window at its source."""
    batch, channels, height, width = features.shape
    k = predictor.kernel
    padded = F.pad(features, (k // 2,) * 4)
    out = torch.zeros(batch, predictor.out_channels, sr_size(height, rows), sr_size(width, cols))
    for i in range(out.shape[-2]):
        row, dh = source_index(i, rows)
        for j in range(out.shape[-1]):
            col, dw = source_index(j, cols)
            inputs = torch.tensor([[1 / float(rows), 1 / float(cols), float(dh), float(dw)]])
            weights = predictor(inputs).view(predictor.out_channels, channels, k, k)
            window = padded[:, :, row : row + k, col : col + k]
            out[:, :, i, j] = torch.einsum("ocxy,bcxy->bo", weights, window)
    return out


@pytest.mark.parametrize(
    "scales", [("2", "1"), ("1", "5/2"), ("27/10", "1"), ("3/2", "4"), ("37/10", "11/10")]
)
def test_anisotropic_equals_naive_per_pixel_reference(scales):
    torch.manual_seed(0)
    predictor = WeightPredictor(3, 2, anisotropic=True)
    features = torch.randn(1, 3, 6, 5)
    rows, cols = (Fraction(s) for s in scales)
    expected = naive_anisotropic(features, rows, cols, predictor)
    got = meta_upscale(features, (rows, cols), predictor)
    assert got.shape[-2:] == (sr_size(6, rows), sr_size(5, cols))
    assert (got - expected).abs().max() <= 1e-5
    assert (official_meta_upscale(features, (rows, cols), predictor) - expected).abs().max() <= 1e-5


def test_widened_head_equals_the_isotropic_one_at_equal_scales():
    torch.manual_seed(0)
    isotropic = WeightPredictor(3, 1)
    anisotropic = WeightPredictor(3, 1, anisotropic=True)
    state = isotropic.state_dict()
    state["net.0.weight"] = widen_to_anisotropic(state["net.0.weight"])
    anisotropic.load_state_dict(state)
    features = torch.randn(1, 3, 7, 6)
    for value in ("3/2", "27/10", "4"):
        expected = meta_upscale(features, value, isotropic)
        assert (meta_upscale(features, value, anisotropic) - expected).abs().max() <= 1e-6


def test_an_isotropic_head_refuses_unequal_scales():
    with pytest.raises(InputError, match="anisotropic model"):
        meta_upscale(torch.randn(1, 3, 5, 5), (2, 1), WeightPredictor(3, 1))
