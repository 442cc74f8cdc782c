"""The shared sliding-window inferer: tiles agree with one pass, batches with single tiles."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from bioscope.data.cells import pad_to_multiple
from bioscope.errors import InputError
from bioscope.inference.window import SlidingWindow
from bioscope.models import create_model


@pytest.fixture
def unet():
    torch.manual_seed(0)
    net = create_model("unet-tiny", out_channels=2).eval()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return net(pad_to_multiple(x, 16))[..., : x.shape[-2], : x.shape[-1]]

    return forward


@torch.no_grad()
def test_tiles_match_one_pass_away_from_borders(unet):
    x = torch.randn(1, 1, 100, 140)
    whole = unet(x)
    tiled = SlidingWindow(tile=64, overlap=48)(unet, x)
    assert tiled.shape == whole.shape == (1, 2, 100, 140)
    inner = (..., slice(24, -24), slice(24, -24))
    difference = (tiled - whole)[inner].abs().max().item()
    assert difference < 1e-2 * whole[inner].abs().max().item(), difference
    shifted = SlidingWindow(tile=64, overlap=48)(unet, torch.roll(x, 16, dims=-1))
    assert (shifted - tiled)[inner].abs().max() > 10 * difference  # the check can fail


@torch.no_grad()
def test_batched_tiles_equal_single_tiles(unet):
    x = torch.randn(2, 1, 90, 130)
    single = SlidingWindow(tile=48, overlap=16, batch_size=1)(unet, x)
    batched = SlidingWindow(tile=48, overlap=16, batch_size=8)(unet, x)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("value", [Fraction(2), Fraction(5, 2), Fraction(37, 10)])
@torch.no_grad()
def test_sr_tiles_land_on_the_exact_grid(value):
    torch.manual_seed(0)
    model = create_model("meta-srgan-tiny", residual=False).eval()
    lr = torch.rand(1, 1, 70, 90)
    whole = model(lr, value)
    tiled = SlidingWindow(tile=40, overlap=20)(lambda x: model(x, value), lr, (value, value))
    assert tiled.shape == whole.shape
    inner = (..., slice(12, -12), slice(12, -12))
    difference = (tiled - whole)[inner].abs().max().item()
    assert difference < 1e-2 * whole[inner].abs().max().item(), difference


def test_bad_settings():
    with pytest.raises(InputError, match="overlap < tile"):
        SlidingWindow(tile=32, overlap=32)
    with pytest.raises(InputError, match="batch size"):
        SlidingWindow(batch_size=0)


@pytest.mark.parametrize("side", [40, 100])  # one pass, and tiles
def test_no_call_sees_more_than_batch_size_images(side):
    seen = []

    def fn(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.shape[0])
        return x * 2

    x = torch.randn(10, 1, side, side)
    out = SlidingWindow(tile=48, overlap=16, batch_size=4, max_side=64)(fn, x)
    torch.testing.assert_close(out, 2 * x)
    assert max(seen) <= 4 and sum(seen) % 10 == 0
