"""Training augmentations: scale crops keep image and targets aligned; quality changes only
the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bioscope.data.augment import QualityAugment, gaussian_blur, scaled_crop


def _item(side: int = 64) -> dict[str, torch.Tensor]:
    labels = torch.zeros(side, side, dtype=torch.int64)
    labels[8:24, 8:24], labels[40:56, 30:50] = 1, 2
    mask = (labels > 0).float()[None]
    return {"image": mask * 0.8 + 0.1, "mask": mask, "labels": labels, "distance": mask * 0.5}


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_scaled_crop_resizes_objects_and_keeps_targets_aligned(scale):
    torch.manual_seed(0)
    out = scaled_crop(_item(), 32, (scale, scale))
    assert {k: tuple(v.shape[-2:]) for k, v in out.items()} == dict.fromkeys(out, (32, 32))
    assert out["labels"].dtype == torch.int64
    np.testing.assert_array_equal(out["mask"][0] > 0, out["labels"] > 0)
    bright = out["image"][0] > 0.5
    assert (bright == (out["labels"] > 0)).float().mean() > 0.95
    if scale == 2.0:  # a 16 px window enlarged: a nucleus of 16 px fills 32
        assert int((out["labels"] > 0).sum()) in (0, *range(200, 32 * 32 + 1))


def test_small_images_are_padded_not_refused():
    torch.manual_seed(1)
    out = scaled_crop(_item(24), 32, (1.0, 1.0))
    assert out["image"].shape == (1, 32, 32) and out["labels"][24:, :].max() == 0


def test_quality_changes_the_image_repeatably():
    image = _item()["image"]
    torch.manual_seed(2)
    a = QualityAugment(p=1.0)(image)
    torch.manual_seed(2)
    b = QualityAugment(p=1.0)(image)
    assert a.shape == image.shape and torch.equal(a, b) and not torch.allclose(a, image)
    assert torch.equal(QualityAugment(p=0.0)(image), image)


def test_gaussian_blur_keeps_the_mean_and_spreads_a_point():
    point = torch.zeros(1, 21, 21)
    point[0, 10, 10] = 1
    blurred = gaussian_blur(point, 2.0)
    assert float(blurred.sum()) == pytest.approx(1.0, abs=1e-5)
    assert float(blurred[0, 10, 10]) == pytest.approx(1 / (2 * np.pi * 4), rel=0.05)
