from __future__ import annotations

import pytest
import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.nn.fourier import (
    FourierInputBlock,
    SpectralBranch,
    fourier_filter,
    identity_init_,
    spectrum_features,
)

SIZES = [(16, 16), (7, 9), (33, 34), (5, 4), (1, 6)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_identity_spectral_conv_returns_the_input(size, channels):
    torch.manual_seed(0)
    block = FourierInputBlock(channels, channels, "reim", init="random")
    identity_init_(block.conv)
    x = torch.randn(2, channels, *size)
    out = block(x)
    assert out.shape == x.shape and out.is_contiguous()
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_default_block_starts_as_identity():
    x = torch.randn(1, 1, 11, 13)
    torch.testing.assert_close(FourierInputBlock()(x), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("size", [(7, 9), (8, 8)])
def test_real_variant_keeps_only_the_even_part(size):
    """Re(FFT) is the FFT of the even part (x[n] + x[-n]) / 2: what the paper's block discards."""
    x = torch.randn(1, 1, *size)
    block = FourierInputBlock(variant="real")
    flipped = torch.roll(torch.flip(x, dims=(-2, -1)), shifts=(1, 1), dims=(-2, -1))
    torch.testing.assert_close(block(x), (x + flipped) / 2, atol=1e-5, rtol=0)


def test_fft_runs_over_space_not_channels():
    x = torch.randn(1, 3, 8, 10)
    features = spectrum_features(x, "magnitude")
    # a spatial circular shift changes only the phase: magnitudes stay
    shifted = spectrum_features(torch.roll(x, shifts=(3, 4), dims=(-2, -1)), "magnitude")
    torch.testing.assert_close(features, shifted, atol=1e-5, rtol=1e-5)
    # channels are not mixed: permuting them permutes the spectra
    permuted = spectrum_features(x[:, [2, 0, 1]], "magnitude")
    torch.testing.assert_close(permuted, features[:, [2, 0, 1]])
    assert features.shape == (1, 3, 8, 6)


@pytest.mark.parametrize("variant", ["reim", "real", "magnitude"])
def test_gradient_matches_finite_differences(variant):
    torch.manual_seed(0)
    k = 2 if variant == "reim" else 1
    conv = nn.Conv2d(k, k, 3, padding=1).double()
    x = torch.rand(1, 1, 5, 6, dtype=torch.float64) + 0.5  # away from |X| = 0 for magnitude
    params = (x.requires_grad_(), conv.weight, conv.bias)

    def fn(x, weight, bias):
        return fourier_filter(
            x, lambda f: nn.functional.conv2d(f, weight, bias, padding=1), variant
        )

    assert torch.autograd.gradcheck(fn, params, eps=1e-6, atol=1e-5)


def test_spectral_branch_shapes_and_gradients():
    branch = SpectralBranch(3, 4)
    x = torch.randn(2, 3, 9, 7, requires_grad=True)
    out = branch(x)
    assert out.shape == (2, 4, 9, 7) and out.is_contiguous()
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and branch.conv.weight.grad.abs().sum() > 0


def test_bad_variant_and_shape():
    with pytest.raises(InputError, match="unknown Fourier variant 'phase'"):
        FourierInputBlock(variant="phase")
    with pytest.raises(InputError, match=r"\(B, C, H, W\)"):
        FourierInputBlock()(torch.zeros(8, 8))
