from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bioscope.errors import InputError
from bioscope.metrics.superres import border, gmsd, paper_psnr, psnr, ssim


def as_batch(*arrays):
    return [torch.from_numpy(a)[None, None] for a in arrays]


def test_psnr_by_hand():
    target = torch.zeros(1, 1, 8, 8)
    pred = target.clone()
    pred[..., 0, 0] = 0.8  # MSE = 0.64 / 64 = 0.01 -> 20 dB
    assert float(psnr(pred, target)) == pytest.approx(20.0)
    assert float(psnr(pred, target, data_range=255.0)) == pytest.approx(20 + 20 * math.log10(255))
    assert math.isinf(float(psnr(target, target)))


def test_border_is_removed_before_scoring():
    target = torch.zeros(1, 1, 10, 10)
    pred = target.clone()
    pred[..., 0, :] = 1.0  # only the border row differs
    assert math.isinf(float(psnr(pred, target, crop=border(1.5))))
    assert border(1.5) == 2 and border(2.0) == 2 and border(3.7) == 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_scikit_image(seed):
    rng = np.random.default_rng(seed)
    target = rng.random((45, 52))
    pred = np.clip(target + 0.05 * rng.standard_normal(target.shape), 0, 1)
    p, t = as_batch(pred, target)
    assert float(psnr(p, t)) == pytest.approx(peak_signal_noise_ratio(target, pred, data_range=1.0))
    expected = structural_similarity(
        target, pred, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert float(ssim(p, t)) == pytest.approx(expected, abs=1e-6)


def test_ssim_identities():
    image = torch.rand(2, 1, 20, 20, dtype=torch.float64)
    torch.testing.assert_close(ssim(image, image), torch.ones(2, dtype=torch.float64))
    assert float(ssim(1 - image[:1], image[:1])) < 0.1


def test_paper_psnr_is_labelled_and_different():
    rng = np.random.default_rng(0)
    target = rng.random((32, 32)) * 0.2 + 0.4
    pred = target + 0.01
    p, t = as_batch(pred, target)
    # z-normalising by a small std inflates the error: the paper's figure sits far from ours
    assert float(paper_psnr(p, t)) < float(psnr(p, t)) - 10


def test_bad_shapes():
    with pytest.raises(InputError, match="differ in shape"):
        psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))
    with pytest.raises(InputError, match="at least 11 x 11"):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(InputError, match="leaves nothing"):
        psnr(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), crop=2)


def test_rgb_is_scored_on_bt601_luminance():
    from skimage.color import rgb2ycbcr

    rng = np.random.default_rng(3)
    target = rng.random((30, 34, 3))
    pred = np.clip(target + 0.04 * rng.standard_normal(target.shape), 0, 1)
    y_target, y_pred = (rgb2ycbcr(a)[..., 0] / 255 for a in (target, pred))  # Y in [16, 235]
    p, t = (torch.from_numpy(a).permute(2, 0, 1)[None] for a in (pred, target))
    assert float(psnr(p, t)) == pytest.approx(
        peak_signal_noise_ratio(y_target, y_pred, data_range=1.0)
    )
    expected = structural_similarity(
        y_target,
        y_pred,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    assert float(ssim(p, t)) == pytest.approx(expected, abs=1e-6)
    assert float(psnr(p * 255, t * 255, data_range=255.0)) == pytest.approx(float(psnr(p, t)))
    with pytest.raises(InputError, match="grey or"):
        psnr(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4))


def _gmsd_reference(pred: np.ndarray, target: np.ndarray) -> float:
    """GMSD as the authors' GMSD.m computes it, in plain NumPy/SciPy: conv2(x, ones(2)/4,
    'same') (which averages x(i) and x(i+1), zero past the end), every second pixel from the
    first, Prewitt gradients by 'same' convolution, the similarity map, its std (N - 1)."""
    from scipy.signal import convolve2d

    def magnitude(x: np.ndarray) -> np.ndarray:
        padded = np.pad(x, ((0, 1), (0, 1)))
        average = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4
        small = average[::2, ::2]
        dx = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]]) / 3
        return np.hypot(convolve2d(small, dx, "same"), convolve2d(small, dx.T, "same"))

    m_p, m_t = magnitude(pred), magnitude(target)
    c = 170 / 255**2
    return float(np.std((2 * m_p * m_t + c) / (m_p**2 + m_t**2 + c), ddof=1))


def test_gmsd_matches_the_authors_recipe():
    rng = np.random.default_rng(0)
    target = rng.random((33, 40))
    pred = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1)
    got = float(gmsd(*as_batch(pred, target))[0])
    assert got == pytest.approx(_gmsd_reference(pred, target), rel=1e-9)
    assert float(gmsd(*as_batch(target, target))[0]) == 0.0
