"""k-space truncation: exact on band-limited images, pixel-centre aligned, exact geometry."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from bioscope.data.degrade import degrade
from bioscope.data.kspace import add_rician_noise, degrade_kspace, kspace_matrix
from bioscope.errors import InputError


def _band_limited(size: int, top: int, rng: np.random.Generator) -> tuple[np.ndarray, callable]:
    """A real line of ``size`` samples with frequencies |k| < ``top``, and its continuous form."""
    ks = np.arange(1, top)
    a, b = rng.normal(size=len(ks)), rng.normal(size=len(ks))

    def signal(x: np.ndarray) -> np.ndarray:
        angles = 2 * np.pi * np.outer(x, ks) / size
        return 0.3 + (np.cos(angles) * a + np.sin(angles) * b).sum(1)

    return signal(np.arange(size)), signal


@pytest.mark.parametrize("scale", ["2", "5/2", "3/2", "4", "11/10"])
def test_band_limited_line_is_sampled_exactly_at_lr_centres(scale):
    scale = Fraction(scale)
    size = 40 * scale.numerator
    lr = size // scale.numerator * scale.denominator
    line, signal = _band_limited(size, (lr - 1) // 2, np.random.default_rng(0))
    centres = (np.arange(lr) + 0.5) * float(scale) - 0.5
    np.testing.assert_allclose(kspace_matrix(size, scale) @ line, signal(centres), atol=1e-9)


def test_geometry_matches_the_bicubic_degradation():
    hr = np.random.default_rng(1).random((101, 83))
    for scale in ("2.5", "3", "1.7"):
        cropped, lr = degrade_kspace(hr, scale)
        same_hr, bicubic_lr = degrade(hr, scale)
        np.testing.assert_array_equal(cropped, same_hr)
        assert lr.shape == bicubic_lr.shape
        assert Fraction(scale) * lr.shape[0] == cropped.shape[0]


def test_a_shifted_delta_lands_where_the_convention_says():
    """A smooth bump centred on HR pixel 21.5 at x4 lies over LR coordinate (21.5 + 0.5)/4 - 0.5
    = 5.0: the LR peak is at pixel 5, with its neighbours equal."""
    x = np.arange(64)
    bump = np.exp(-0.5 * ((x - 21.5) / 3.0) ** 2)
    lr = kspace_matrix(64, Fraction(4)) @ bump
    assert int(np.argmax(lr)) == 5 and lr[4] == pytest.approx(lr[6], rel=1e-6)


def test_windows_smooth_and_keep_the_mean():
    hr = np.random.default_rng(2).random((64, 64))
    plain = degrade_kspace(hr, 2)[1]
    for window in ("hamming", "tukey"):
        smooth = degrade_kspace(hr, 2, window=window)[1]
        assert smooth.mean() == pytest.approx(plain.mean(), rel=1e-5)
        assert np.abs(np.diff(smooth)).mean() < np.abs(np.diff(plain)).mean()
    with pytest.raises(InputError, match="unknown k-space window"):
        degrade_kspace(hr, 2, window="hann")


def test_rician_noise_is_positive_and_at_the_asked_level():
    image = np.full((200, 200), 100.0)
    noisy = add_rician_noise(image, snr=20, rng=np.random.default_rng(0))
    assert noisy.min() >= 0 and noisy.std() == pytest.approx(5.0, rel=0.05)
    half = np.zeros((200, 200))
    half[:, 100:] = 100.0
    background = add_rician_noise(half, snr=20, rng=np.random.default_rng(0))[:, :100]
    # magnitude noise has a floor (Rayleigh mean sigma * sqrt(pi / 2)): Rician, not Gaussian
    assert background.mean() == pytest.approx(5.0 * np.sqrt(np.pi / 2), rel=0.05)
    with pytest.raises(InputError, match="SNR must be a positive"):
        add_rician_noise(image, snr=0, rng=np.random.default_rng(0))


def test_minibatches_draw_their_degradation_from_the_mixture():
    import torch

    from bioscope.data.degradations import DegradationSampler
    from bioscope.data.degrade import ScaleSampler
    from bioscope.data.superres import ScaleBatch

    torch.manual_seed(0)
    sampler = DegradationSampler({"bicubic": 1, "kspace": 3})
    kinds = [sampler().kind for _ in range(400)]
    assert 0.65 < kinds.count("kspace") / 400 < 0.85
    only = DegradationSampler({"kspace": 1.0})
    patches = [torch.rand(1, 40, 40) for _ in range(2)]
    batch = ScaleBatch(ScaleSampler(2, 2, 1), only)(patches)
    expected = degrade_kspace(torch.stack(patches).numpy(), 2)[1]
    np.testing.assert_allclose(batch["lr"].numpy(), expected, atol=1e-5)
    for bad in ({"gibbs": 1}, {"kspace": -1}, {"bicubic": 0}):
        with pytest.raises(InputError, match="degradation"):
            DegradationSampler(bad)


def test_training_configuration_takes_a_degradation_mixture():
    from bioscope.train.config import from_dict
    from bioscope.train.superres import SRTrainConfig

    config = from_dict(SRTrainConfig, {"data": {"degradations": {"bicubic": 1, "kspace": 1}}})
    assert config.data.degradations == {"bicubic": 1, "kspace": 1}
    assert from_dict(SRTrainConfig, {}).data.degradations == {"bicubic": 1.0}


def test_windows_and_noise_are_drawn_per_minibatch():
    """k-space minibatches get a window from the mixture (a Tukey taper at random), and a share
    of minibatches Rician noise at a random SNR; the defaults draw neither."""
    import torch

    from bioscope.data.degradations import TUKEY_ALPHAS, Degradation, DegradationSampler
    from bioscope.data.superres import make_pair

    torch.manual_seed(0)
    plain = DegradationSampler({"kspace": 1})
    assert {plain() for _ in range(20)} == {Degradation("kspace")}
    sampler = DegradationSampler(
        {"bicubic": 1, "kspace": 1}, {"none": 1, "hamming": 1, "tukey": 1}, (10.0, 30.0), 0.5
    )
    drawn = [sampler() for _ in range(600)]
    kspace = [d for d in drawn if d.kind == "kspace"]
    assert {d.window for d in kspace} == {"none", "hamming", "tukey"}
    assert {d.window for d in drawn if d.kind == "bicubic"} == {"none"}
    alphas = [d.tukey_alpha for d in kspace if d.window == "tukey"]
    assert TUKEY_ALPHAS[0] <= min(alphas) < max(alphas) <= TUKEY_ALPHAS[1]
    snrs = [d.snr for d in drawn if d.snr is not None]
    assert 0.4 < len(snrs) / 600 < 0.6 and 10 <= min(snrs) < max(snrs) <= 30
    hr = torch.rand(2, 1, 40, 40)
    windowed = make_pair(hr, Fraction(2), Degradation("kspace", "tukey", 0.5))["lr"]
    expected = degrade_kspace(hr.numpy(), 2, "tukey", 0.5)[1]
    np.testing.assert_allclose(windowed.numpy(), expected, atol=1e-5)
    clean = make_pair(hr, Fraction(2), "bicubic")["lr"]
    noisy = make_pair(hr, Fraction(2), Degradation("bicubic", snr=20.0))["lr"]
    sigma = float(clean.flatten(1).quantile(0.99, dim=1).mean()) / 20
    assert 0.5 * sigma < float((noisy - clean).std()) < 2 * sigma
    with pytest.raises(InputError, match="window"):
        DegradationSampler({"kspace": 1}, {"gaussian": 1})
    with pytest.raises(InputError, match="SNR"):
        DegradationSampler({"kspace": 1}, None, (0.0, 10.0), 0.5)
