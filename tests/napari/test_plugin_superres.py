"""The super-resolution widget's plain function: output size and placement in world space."""

from __future__ import annotations

from fractions import Fraction

import nibabel as nib
import numpy as np
import pytest

from bioscope.errors import InputError
from bioscope.inference.superres import SRPredictor
from bioscope.io.volumes import read_volume
from bioscope.napari.placement import Placement
from bioscope.napari.reader import read_nifti
from bioscope.napari.superres import upscale_layer


def _world(meta: dict, index: np.ndarray) -> np.ndarray:
    """World position of data ``index`` for a layer placed by scale and translate."""
    return np.asarray(meta["translate"]) + np.asarray(meta["scale"]) * index


@pytest.mark.parametrize("scale", [2.5, 2.7])
def test_image_size_and_world_placement(scale: float) -> None:
    image = np.random.default_rng(0).random((48, 40)).astype(np.float32)
    placed = Placement((0.5, 0.8), (3.0, -2.0))
    [(out, meta, kind)] = upscale_layer(image, scale, placed, name="mri", device="cpu")
    s = Fraction(str(scale))
    assert kind == "image" and meta["name"] == f"mri x{scale:g}"
    assert out.shape == (48 * s.numerator // s.denominator, 40 * s.numerator // s.denominator)
    np.testing.assert_allclose(meta["scale"], np.array([0.5, 0.8]) / scale)
    # output pixel j lies over input coordinate (j + 1/2) / s - 1/2, in world units too
    last = np.array(out.shape) - 1
    for j in (np.zeros(2), last):
        np.testing.assert_allclose(
            _world(meta, j), _world(placed.kwargs(), (j + 0.5) / scale - 0.5)
        )
    # so the outer edge of pixel 0 is where the input's was: the field of view starts there
    np.testing.assert_allclose(
        _world(meta, np.full(2, -0.5)), _world(placed.kwargs(), np.full(2, -0.5))
    )


def test_volume_in_plane_matches_the_predictors_affine(stored_las, tmp_path) -> None:
    """A NIfTI volume read as a layer and enlarged in-plane lands where bioscope's own affine
    for the upscaled volume (``SRPredictor.upscale`` of the :class:`Volume`) puts it."""
    data = np.random.default_rng(1).random((20, 16, 3)).astype(np.float32) * 1000
    path = stored_las(tmp_path / "small.nii.gz", data)
    [(volume, meta, _)] = read_nifti(path)
    placed = Placement(meta["scale"], meta["translate"])
    [(out, out_meta, _)] = upscale_layer(volume, 2, placed, name="small", axis=2, device="cpu")
    assert out.shape == (40, 32, 3)
    assert (
        out_meta["scale"][2] == meta["scale"][2]
        and out_meta["translate"][2] == meta["translate"][2]
    )
    expected = SRPredictor.from_checkpoint(None, "cpu").upscale(read_volume(path), 2, axis=2)
    np.testing.assert_allclose(out, expected.data, atol=1e-4)
    np.testing.assert_allclose(out_meta["scale"], np.diag(expected.affine)[:3])
    np.testing.assert_allclose(out_meta["translate"], expected.affine[:3, 3])
    # and a voxel's world position is the affine's, as nibabel computes it
    voxel = np.array([39, 0, 2])
    np.testing.assert_allclose(
        _world(out_meta, voxel), nib.affines.apply_affine(expected.affine, voxel)
    )


def test_volume_along_the_first_axis() -> None:
    volume = np.random.default_rng(2).random((3, 24, 20)).astype(np.float32)
    placed = Placement((4.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    [(out, meta, _)] = upscale_layer(volume, 1.5, placed, axis=0, device="cpu")
    assert out.shape == (3, 36, 30)
    np.testing.assert_allclose(meta["scale"], (4.0, 1 / 1.5, 1 / 1.5))
    np.testing.assert_allclose(meta["translate"], (0.0, 0.5 / 1.5 - 0.5, 0.5 / 1.5 - 0.5))


def test_volume_across_slices_enlarges_the_slice_axis_only() -> None:
    """Through-plane: 4 mm slices to 1 mm; the new slices sit where the affine convention says."""
    volume = np.random.default_rng(3).random((20, 18, 5)).astype(np.float32) * 100
    placed = Placement((1.0, 1.0, 4.0), (-10.0, 5.0, 2.0))
    [(out, meta, _)] = upscale_layer(volume, 4, placed, axis=2, through_plane=True, device="cpu")
    assert out.shape == (20, 18, 20)
    np.testing.assert_allclose(meta["scale"], (1.0, 1.0, 1.0))
    np.testing.assert_allclose(meta["translate"], (-10.0, 5.0, 2.0 + 4.0 * (0.5 / 4 - 0.5)))
    with pytest.raises(InputError, match="3-D volume"):
        upscale_layer(volume[..., 0], 2, through_plane=True, device="cpu")


def test_refuses_bad_input() -> None:
    image = np.ones((8, 8, 8, 2), np.float32)
    with pytest.raises(InputError, match="2-D image or a 3-D volume"):
        upscale_layer(image, 2, device="cpu")
    with pytest.raises(InputError, match="axis must be 0, 1 or 2"):
        upscale_layer(image[..., 0], 2, axis=3, device="cpu")
    with pytest.raises(InputError, match="greater than 1"):
        upscale_layer(image[..., 0, 0], 0.5, device="cpu")
    with pytest.raises(InputError, match="has 3 dimensions; expected 2"):
        upscale_layer(image[..., 0, 0], 2, Placement.unit(3), device="cpu")
