"""Through-plane SR: the slice axis and scale from voxel sizes, the result's grid and affine, and
the evaluation's sinc baseline."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.data.kspace import kspace_matrix
from bioscope.data.slice_profile import thick_slices
from bioscope.errors import InputError
from bioscope.evaluate.through_plane import evaluate_through_plane, sinc_matrix
from bioscope.inference.superres import SRPredictor
from bioscope.inference.through_plane import slice_axis, through_plane_scale
from bioscope.io.volumes import Volume


@pytest.fixture(scope="module")
def anisotropic(sr_anisotropic_checkpoint) -> SRPredictor:
    return SRPredictor.from_checkpoint(sr_anisotropic_checkpoint, "cpu")


def _volume(shape=(12, 14, 6), sizes=(1.0, 1.0, 4.0)) -> Volume:
    affine = np.diag([*sizes, 1.0])
    affine[:3, 3] = [-10.0, 20.0, 5.0]
    data = np.random.default_rng(0).random(shape).astype(np.float32) * 100
    return Volume(data, sizes, affine, "RAS", "test", "float32")


def test_slice_axis_and_scale_come_from_the_voxel_sizes():
    volume = _volume(sizes=(0.9, 0.9, 3.6))
    assert slice_axis(volume) == 2
    assert through_plane_scale(volume, 2) == 4
    assert through_plane_scale(volume, 2, 1.2) == 3
    assert through_plane_scale(volume, 2, 0.7) == Fraction(36, 7)  # not 5.14 = 257/50
    with pytest.raises(InputError, match="no axis is thicker"):
        slice_axis(_volume(sizes=(1.0, 1.0, 1.05)))
    with pytest.raises(InputError, match="not finer"):
        through_plane_scale(volume, 2, 4.0)
    image = Volume(np.zeros((8, 8), np.float32), (1.0, 1.0), np.eye(4), "image", "t", "float32")
    for check in (slice_axis, lambda v: through_plane_scale(v, 2)):
        with pytest.raises(InputError, match="needs a 3-D volume"):
            check(image)


@pytest.mark.parametrize(("value", "slices"), [("2", 6), ("5/2", 6), ("5/2", 7), ("4", 6)])
def test_result_grid_and_affine_place_the_new_slices_on_the_old(anisotropic, value, slices):
    """Also where s times the slice count is not whole (7 slices at x5/2: 17 new ones)."""
    scale = Fraction(value)
    volume = _volume(shape=(12, 14, slices))
    result = anisotropic.upscale_through_plane(volume, scale, axis=2)
    assert result.data.shape == (12, 14, slices * scale.numerator // scale.denominator)
    assert result.voxel_sizes == (1.0, 1.0, 4.0 / float(scale))
    # new slice j sits at old slice coordinate (j + 1/2) / s - 1/2; other axes unchanged
    for j in (0, 3, result.data.shape[2] - 1):
        old = (j + 0.5) / float(scale) - 0.5
        np.testing.assert_allclose(
            result.affine @ [2, 5, j, 1], volume.affine @ [2, 5, old, 1], atol=1e-9
        )


def test_thick_slices_then_through_plane_come_back_on_the_original_grid(anisotropic):
    volume = _volume(shape=(10, 11, 12), sizes=(1.0, 1.0, 1.0))
    _, lr = thick_slices(volume.data, Fraction(3), axis=2)
    affine = volume.affine @ np.diag([1, 1, 3.0, 1])
    affine[2, 3] += 1.0  # thick slice 0 is centred on thin slice 1 (1 mm apart)
    thick = Volume(lr, (1.0, 1.0, 3.0), affine, "RAS", "thick", "float32")
    back = anisotropic.upscale_through_plane(thick, 3, axis=2)
    assert back.data.shape == volume.data.shape
    np.testing.assert_allclose(back.affine, volume.affine, atol=1e-12)


def test_an_isotropic_model_is_refused(sr_checkpoint):
    predictor = SRPredictor.from_checkpoint(sr_checkpoint, "cpu")
    with pytest.raises(InputError, match="anisotropic"):
        predictor.upscale_through_plane(_volume(), 2, axis=2)


@pytest.mark.parametrize("value", ["2", "5/2", "4"])
def test_sinc_interpolation_inverts_kspace_sampling_of_a_band_limited_line(value):
    scale = Fraction(value)
    hr = 40
    x = np.arange(hr) + 0.5
    line = np.cos(2 * np.pi * 2 * x / hr) + np.sin(2 * np.pi * 3 * x / hr)
    lr = kspace_matrix(hr, scale) @ line
    np.testing.assert_allclose(sinc_matrix(len(lr), scale) @ lr, line, atol=1e-9)


def test_evaluation_rows_cover_every_method(anisotropic):
    volume = _volume(shape=(16, 24, 24), sizes=(1.0, 1.0, 1.0))
    bicubic = SRPredictor.by_name("bicubic")
    rows = evaluate_through_plane({"tiny": anisotropic, "bicubic": bicubic}, volume, [Fraction(2)])
    assert [r["method"] for r in rows] == ["tiny", "bicubic", "sinc"]
    assert all(np.isfinite(r["psnr"]) and 0 < r["ssim"] <= 1 for r in rows)
    with pytest.raises(InputError, match="axis must be 0, 1 or 2 for a volume, got 5"):
        evaluate_through_plane({"bicubic": bicubic}, volume, [Fraction(2)], axis=5)


def test_bicubic_skip_reads_each_new_slice_at_its_exact_coordinate():
    """The interpolation behind the network (and the cubic baseline) reads new slice j at
    (j + 1/2) / s - 1/2 also when s times the slice count is not whole: a linear ramp across
    the slices comes back as that ramp away from the ends."""
    from bioscope.nn.meta_upscale import bicubic_upscale

    scale = Fraction(139, 25)  # 26 slices -> 144
    ramp = torch.arange(26.0, dtype=torch.float64).view(1, 1, 26, 1).repeat(1, 1, 1, 2)
    out = bicubic_upscale(ramp, (scale, 1))[0, 0, :, 0]
    where = (torch.arange(len(out), dtype=torch.float64) + 0.5) / float(scale) - 0.5
    inside = (where > 3) & (where < 22)
    # PyTorch's cubic (a = -0.75) is not exact on a ramp (within 0.05 at any scale); reading at
    # 26 / 144 instead of 1 / s drifts to 0.13 of a slice by the far end
    assert (out - where)[inside].abs().max() < 0.06
