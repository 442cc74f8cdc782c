from __future__ import annotations

import numpy as np
import pytest
import torch

from bioscope.errors import InputError
from bioscope.inference import CellModel, padded_forward, predict_maps, sliding_window
from bioscope.models import create_model


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return create_model("unet-tiny", out_channels=2).eval()


def test_tiles_match_one_pass_away_from_borders(tiny):
    x = torch.randn(1, 1, 100, 140)
    with torch.no_grad():
        whole = padded_forward(tiny, x)
        tiled = sliding_window(tiny, x, tile=64, overlap=48)
    assert tiled.shape == whole.shape == (1, 2, 100, 140)
    inner = (..., slice(24, -24), slice(24, -24))
    difference = (tiled - whole)[inner].abs().max().item()
    assert difference < 1e-2 * whole[inner].abs().max().item(), difference
    shifted = sliding_window(tiny, torch.roll(x, 16, dims=-1), tile=64, overlap=48)
    assert (shifted - tiled)[inner].abs().max() > 10 * difference  # the check can fail


def test_small_image_is_padded_for_tiles(tiny):
    with torch.no_grad():
        out = sliding_window(tiny, torch.randn(1, 1, 20, 30), tile=32, overlap=8)
    assert out.shape == (1, 2, 20, 30)


@pytest.mark.parametrize(("size", "mode"), [(None, "native"), (32, "resize"), (None, None)])
@pytest.mark.parametrize("shape", [(37, 53), (40, 48, 3)])
def test_predict_maps_shapes(tiny, size, mode, shape):
    raw = np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8)
    maps = predict_maps(CellModel(tiny, size, "test"), raw, mode=mode)
    assert maps.shape == (2, *shape[:2]) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and 0 <= maps.min() and maps.max() <= 1


def test_bad_modes_and_tiles(tiny):
    raw = np.zeros((32, 32), np.uint8)
    with pytest.raises(InputError, match="no resize mode"):
        predict_maps(CellModel(tiny, None, "m"), raw, mode="resize")
    with pytest.raises(InputError, match="multiple of 16"):
        sliding_window(tiny, torch.zeros(1, 1, 64, 64), tile=50, overlap=8)
