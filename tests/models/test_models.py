from __future__ import annotations

import pytest
import torch

from bioscope.errors import InputError
from bioscope.models import create_model, list_models


@pytest.mark.parametrize("name", list_models("segmentation"))
def test_forward_backward_on_odd_valid_sizes(name):
    torch.manual_seed(0)
    model = create_model(name)
    size = (48, 80) if "tiny" not in name else (36, 20)  # multiples of 16 / of 4, not square
    x = torch.randn(2, 1, *size, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 1, *size)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_batch_of_zero_images():
    assert create_model("unet-tiny")(torch.zeros(0, 1, 8, 8)).shape == (0, 1, 8, 8)


def test_paper_unet_matches_the_keras_starter_parameter_count():
    # Keras "U-Net starter" summary with a 3-channel input: Total params 1,941,105.
    model = create_model("unet", in_channels=3)
    assert sum(p.numel() for p in model.parameters()) == 1_941_105


def test_size_not_divisible_is_explained():
    with pytest.raises(InputError, match=r"divisible by 16, got 50 x 64"):
        create_model("unet")(torch.zeros(1, 1, 50, 64))
    with pytest.raises(InputError, match=r"\(B, C, H, W\)"):
        create_model("unet")(torch.zeros(1, 64, 64))


def test_unknown_name_lists_known_models():
    with pytest.raises(InputError, match=r"unknown model 'vnet'; known models: .*fft-unet"):
        create_model("vnet")


def test_bad_arguments_are_named():
    with pytest.raises(InputError, match="model 'unet': bad arguments"):
        create_model("unet", widths=3)


def test_model_records_its_name_and_arguments():
    model = create_model("fft-unet", variant="magnitude")
    assert model.bioscope_name == "fft-unet"
    assert model.bioscope_args == {"variant": "magnitude"}
    assert model.fourier.variant == "magnitude"


def test_ffc_unet_sees_the_whole_image_and_unet_does_not():
    """A pixel in one corner changes the far corner's output only through the spectral branch."""
    torch.manual_seed(0)
    for name, global_view in (("ffc-unet-tiny", True), ("unet-tiny", False)):
        model = create_model(name).eval()
        x = torch.randn(1, 1, 96, 96)
        y = x.clone()
        y[..., 0, 0] += 10.0
        with torch.no_grad():
            delta = (model(x) - model(y))[..., 95, 95].abs().item()
        assert (delta > 1e-6) == global_view, (name, delta)
