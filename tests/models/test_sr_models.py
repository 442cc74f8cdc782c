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


def test_every_spelling_of_a_scale_gives_the_same_output_at_once():
    """``Fraction(2.7)`` has a numerator of ~6e15: a float must become 27/10, not hang."""
    torch.manual_seed(0)
    model = create_model("meta-srgan").eval()
    lr = torch.rand(1, 1, 24, 20)
    with torch.no_grad():
        outputs = [model(lr, value) for value in (2.7, "2.7", Fraction(27, 10))]
    assert outputs[0].shape == (1, 1, 64, 54)
    for other in outputs[1:]:
        torch.testing.assert_close(other, outputs[0], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["meta-srgan-tiny", "srgan-tiny", "edsr-tiny", "bicubic"])
def test_every_sr_model_refuses_a_bad_scale_at_once(name):
    model = create_model(name)
    lr = torch.rand(1, 1, 8, 8)
    for bad in (0, -1, "abc", float("nan"), float("inf"), 1e9, True, Fraction(2.7)):
        with pytest.raises(InputError, match="scale"):
            model(lr, bad)
    assert model(lr, 2.0).shape == model(lr, "2").shape == (1, 1, 16, 16)
