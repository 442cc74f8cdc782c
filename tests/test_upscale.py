from __future__ import annotations

from fractions import Fraction

import nibabel as nib
import numpy as np
import pytest
import torch

from bioscope.io import Volume, read_volume, write_nifti
from bioscope.models import create_model
from bioscope.upscale import tiled_upscale, upscale_volume


@pytest.fixture
def model():
    torch.manual_seed(0)
    net = create_model("meta-srgan-tiny", residual=False).eval()
    return net


@pytest.mark.parametrize("value", [Fraction(2), Fraction(5, 2), Fraction(37, 10)])
def test_tiles_match_one_pass_away_from_borders(model, value):
    lr = torch.rand(1, 1, 70, 90)
    with torch.no_grad():
        whole = model(lr, value)
        tiled = tiled_upscale(model, lr, value, tile=40, overlap=20)
    assert tiled.shape == whole.shape
    inner = (..., slice(12, -12), slice(12, -12))
    difference = (tiled - whole)[inner].abs().max().item()
    assert difference < 1e-2 * whole[inner].abs().max().item(), difference  # the clamp bug: 0.37


def test_volume_upscale_shape_voxels_and_world_alignment(model, tmp_path):
    affine = np.array([[0.9, 0, 0, -10], [0, 0.9, 0, 5], [0, 0, 3.0, 2], [0, 0, 0, 1]])
    data = np.random.default_rng(0).random((20, 24, 5)).astype(np.float32)
    volume = read_volume(write_nifti(tmp_path / "v.nii.gz", data, affine))
    up = upscale_volume(model, volume, Fraction(5, 2), axis=2)
    assert up.data.shape == (50, 60, 5)
    np.testing.assert_allclose(up.voxel_sizes, (0.36, 0.36, 3.0))
    # HR voxel (i + 1/2) / s - 1/2 = LR voxel: world of HR (2, 2) is world of LR (0.5, 0.5)
    hr_world = up.affine @ np.array([2, 2, 0, 1])
    lr_world = volume.affine @ np.array([0.5, 0.5, 0, 1])
    np.testing.assert_allclose(hr_world, lr_world)


def test_intensities_keep_their_units(tmp_path):
    bicubic = create_model("bicubic")
    plane = np.full((16, 16), 800.0, np.float32)
    plane[4:12, 4:12] = 2000.0
    up = upscale_volume(
        bicubic, Volume(plane, (1.0, 1.0), np.eye(4), "image", "t", "float32"), Fraction(2)
    )
    assert up.data.shape == (32, 32)
    assert abs(up.data[16, 16] - 2000.0) < 1.0 and abs(up.data[0, 0] - 800.0) < 1.0


def test_upscale_cli(cli, tmp_path):
    run = tmp_path / "sr"
    from bioscope.io import save_checkpoint

    net = create_model("meta-srgan-tiny")
    save_checkpoint(
        run / "m.safetensors",
        {f"nets.model.{k}": v for k, v in net.state_dict().items()},
        {
            "task": "superres",
            "nets": {"model": {"name": "meta-srgan-tiny", "args": {}}},
            "config": {"data": {"scales": [1.1, 4.0, 0.1]}},
        },
    )
    model = str(run / "m.safetensors")
    volume = write_nifti(
        tmp_path / "v.nii.gz",
        np.random.default_rng(0).random((12, 14, 3)).astype(np.float32),
        np.diag([2.0, 2.0, 4.0, 1.0]),
    )
    result = cli(
        "sr",
        "upscale",
        str(volume),
        "--scale",
        "2",
        "--model",
        model,
        "-o",
        str(tmp_path / "up.nii.gz"),
    )
    assert result.returncode == 0, result.stderr
    up = nib.load(str(tmp_path / "up.nii.gz"))
    assert up.shape == (24, 28, 3) and tuple(float(z) for z in up.header.get_zooms()) == (
        1.0,
        1.0,
        4.0,
    )
    nib.save(
        nib.Nifti1Image(np.zeros((4, 4, 4, 2), np.float32), np.eye(4)), str(tmp_path / "4d.nii.gz")
    )
    for args, message in (
        ([str(tmp_path / "4d.nii.gz"), "--scale", "2"], "choose one (--volume N"),
        ([str(volume), "--scale", "0"], "greater than 1"),
        ([str(volume), "--scale", "-1"], "greater than 1"),
        ([str(volume), "--scale", "6", "--strict"], "outside the range"),
    ):
        result = cli("sr", "upscale", *args, "--model", model, "-o", str(tmp_path / "x.nii.gz"))
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
    result = cli(
        "sr",
        "upscale",
        str(volume),
        "--scale",
        "2",
        "--model",
        str(tmp_path / "none.safetensors"),
        "-o",
        str(tmp_path / "x.nii.gz"),
    )
    assert result.returncode == 1 and "no such checkpoint" in result.stderr
    warned = cli(
        "sr",
        "upscale",
        str(volume),
        "--scale",
        "4.5",
        "--model",
        model,
        "-o",
        str(tmp_path / "w.nii.gz"),
    )
    assert warned.returncode == 0 and "warning: scale 4.5 is outside" in warned.stderr
