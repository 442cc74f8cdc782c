from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from bioscope.errors import InputError
from bioscope.models import create_model, list_models


def params(name: str) -> int:
    return sum(p.numel() for p in create_model(name).parameters())


@pytest.mark.parametrize(
    ("name", "expected"), [("meta-srgan", 0.561e6), ("srgan", 0.565e6), ("edsr", 40.7e6)]
)
def test_parameter_counts_match_the_papers(name, expected):
    assert abs(params(name) - expected) / expected < 0.01


@pytest.mark.parametrize("name", list_models("superres"))
def test_every_sr_model_forward_backward(name):
    if name == "edsr":
        pytest.skip("40.7M parameters: counted above, too large to run here")
    torch.manual_seed(0)
    model = create_model(name)
    lr = torch.rand(2, 1, 11, 13, requires_grad=True)
    scale = Fraction(2) if name.startswith(("srgan", "edsr")) else Fraction(27, 10)
    out = model(lr, scale)
    assert out.shape == (
        2,
        1,
        11 * scale.numerator // scale.denominator,
        13 * scale.numerator // scale.denominator,
    )
    assert torch.isfinite(out).all()
    out.mean().backward()
    assert lr.grad is not None


def test_fixed_scale_models_refuse_other_scales():
    with pytest.raises(InputError, match="x2 only"):
        create_model("srgan-tiny")(torch.zeros(1, 1, 8, 8), Fraction(3))


def test_meta_srgan_starts_at_bicubic():
    lr = torch.rand(1, 1, 10, 12)
    for value in (Fraction(3, 2), Fraction(37, 10)):
        torch.testing.assert_close(
            create_model("meta-srgan")(lr, value), create_model("bicubic")(lr, value)
        )


def test_discriminator_takes_any_size():
    disc = create_model("srgan-discriminator-tiny")
    assert disc(torch.rand(3, 1, 48, 40)).shape == (3,)
    assert disc(torch.rand(2, 1, 81, 81)).shape == (2,)
