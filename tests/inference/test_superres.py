"""The SR predictor: scales, units, volumes and their geometry."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.data.intensity import mri_window, normalize_mri
from bioscope.data.mri import normalize_volume
from bioscope.errors import BioscopeWarning, InputError
from bioscope.inference.spec import SRSpec
from bioscope.inference.superres import SRPredictor
from bioscope.io import Volume, read_volume, write_nifti
from bioscope.models import create_model


@pytest.fixture
def tiny() -> SRPredictor:
    torch.manual_seed(0)
    net = create_model("meta-srgan-tiny", residual=False)
    return SRPredictor(net, SRSpec(scales=(1.1, 4.0)), "tiny", "cpu")


def test_volume_upscale_shape_voxels_and_world_alignment(tiny, tmp_path):
    affine = np.array([[0.9, 0, 0, -10], [0, 0.9, 0, 5], [0, 0, 3.0, 2], [0, 0, 0, 1]])
    data = np.random.default_rng(0).random((20, 24, 5)).astype(np.float32)
    volume = read_volume(write_nifti(tmp_path / "v.nii.gz", data, affine))
    seen = []
    up = tiny.upscale(volume, Fraction(5, 2), axis=2, progress=seen.append)
    assert up.data.shape == (50, 60, 5) and sum(seen) == 5
    np.testing.assert_allclose(up.voxel_sizes, (0.36, 0.36, 3.0))
    # HR voxel (i + 1/2) / s - 1/2 = LR voxel: world of HR (2, 2) is world of LR (0.5, 0.5)
    hr_world = up.affine @ np.array([2, 2, 0, 1])
    lr_world = volume.affine @ np.array([0.5, 0.5, 0, 1])
    np.testing.assert_allclose(hr_world, lr_world)


def test_batched_slices_equal_one_at_a_time(tiny):
    data = np.random.default_rng(1).random((6, 18, 20)).astype(np.float32) + 0.1
    batched = tiny.upscale(data, 2, axis=0)
    single = SRPredictor(tiny.net, tiny.spec, "tiny", "cpu")
    single.window = type(tiny.window)(tile=256, overlap=16, batch_size=1)
    np.testing.assert_allclose(batched, single.upscale(data, 2, axis=0), atol=1e-5)


def test_intensities_keep_their_units_and_integers_are_clipped():
    bicubic = SRPredictor.by_name("bicubic", device="cpu")
    plane = np.full((16, 16), 800.0, np.float32)
    plane[4:12, 4:12] = 2000.0
    up = bicubic.upscale(plane, 2)
    assert up.shape == (32, 32)
    assert abs(up[16, 16] - 2000.0) < 1.0 and abs(up[0, 0] - 800.0) < 1.0
    assert up.min() < 800.0 - 1  # bicubic undershoots at the edge of the square ...
    clipped = bicubic.upscale(plane.astype(np.int16), 2)
    assert clipped.min() >= 800 and clipped.max() <= 2000  # ... not for integer input


@pytest.mark.parametrize("value", [2.7, "2.7", Fraction(27, 10), "27/10"])
def test_scales_are_parsed_by_one_rule(tiny, value):
    assert tiny.check_scale(value) == Fraction(27, 10)


@pytest.mark.parametrize("value", [0, -1, "abc", float("nan"), float("inf"), 1e9])
def test_bad_scales_are_refused_at_once(tiny, value):
    with pytest.raises(InputError):
        tiny.check_scale(value)


def test_scale_outside_the_trained_range(tiny):
    with pytest.warns(BioscopeWarning, match="outside the range 1.1..4"):
        assert tiny.check_scale(6) == 6
    with pytest.raises(InputError, match="outside the range"):
        tiny.check_scale(6, strict=True)


def test_one_mri_normalisation_for_training_and_upscaling():
    data = np.random.default_rng(2).gamma(2.0, 300.0, (20, 20, 8)) - 50
    lo, hi = mri_window(data)
    expected = np.clip((data - lo) / (hi - lo), 0, 1)
    np.testing.assert_allclose(normalize_volume(data), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(normalize_mri(data), expected, rtol=1e-5, atol=1e-6)
    bicubic = SRPredictor.by_name("bicubic", device="cpu")
    identity = bicubic.upscale(Volume(data, (1, 1, 1), np.eye(4), "RAS", "t", "float64"), 1.5)
    assert identity.data.shape == (30, 30, 8)  # the upscaler maps the same window back


def test_fixed_scale_models_refuse_other_scales():
    edsr = SRPredictor(create_model("edsr-tiny"), SRSpec(scales=(2, 2)), "edsr", "cpu")
    with pytest.raises(InputError, match="fixed x2 model"):
        edsr.check_scale(3)


def test_shipped_variants_load_by_name():
    """meta-srgan-gan is the shipped GAN-trained variant, by name on the command line and in the
    API; both shipped SR models enlarge one axis alone."""
    gan = SRPredictor.from_checkpoint("meta-srgan-gan", "cpu")
    assert gan.source.endswith("sr-gan.safetensors") and gan.name == "meta-srgan"
    assert SRPredictor.by_name("meta-srgan-gan", device="cpu").source == gan.source
    l1 = SRPredictor.from_checkpoint(None, "cpu")
    assert l1.source.endswith("sr-default.safetensors")
    assert all(p.supports_scales((Fraction(2), Fraction(1))) for p in (gan, l1))
