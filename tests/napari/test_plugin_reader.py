"""The NIfTI reader: which paths it takes, and where it puts the voxels in the world."""

from __future__ import annotations

import itertools

import nibabel as nib
import numpy as np
import pytest

from bioscope.errors import InputError
from bioscope.napari.reader import get_reader, read_nifti


def _corners(shape: tuple[int, ...]) -> np.ndarray:
    """The voxel indices of the corners of a grid of ``shape``."""
    return np.array(list(itertools.product(*[(0, n - 1) for n in shape])), float)


def test_takes_nifti_paths_only(tmp_path) -> None:
    assert get_reader(str(tmp_path / "a.nii")) is read_nifti
    assert get_reader([tmp_path / "a.NII.GZ", tmp_path / "b.nii"]) is read_nifti
    assert get_reader(str(tmp_path / "a.tif")) is None
    assert get_reader([tmp_path / "a.nii", tmp_path / "b.png"]) is None
    assert get_reader([]) is None


def test_scale_and_translate_place_every_voxel(stored_las, tmp_path) -> None:
    """A file stored LAS (2 x 2 x 4 mm, x flipped, offset): the layer's world box is the file's."""
    data = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4)
    path = stored_las(tmp_path / "las.nii.gz", data)
    [(volume, meta, kind)] = get_reader(str(path))(str(path))
    assert kind == "image" and meta["name"] == "las" and "affine" not in meta
    assert volume.shape == (6, 5, 4) and meta["scale"] == (2.0, 2.0, 4.0)
    file = nib.load(str(path))
    world = nib.affines.apply_affine(file.affine, _corners(data.shape))
    layer = np.asarray(meta["translate"]) + np.asarray(meta["scale"]) * _corners(volume.shape)
    np.testing.assert_allclose(np.sort(layer, axis=0), np.sort(world, axis=0))
    # the first canonical voxel is the file's last along the flipped x axis
    assert volume[0, 0, 0] == data[-1, 0, 0]
    np.testing.assert_allclose(meta["translate"], nib.affines.apply_affine(file.affine, [5, 0, 0]))


def test_oblique_affine_goes_to_the_layer_affine(tmp_path) -> None:
    angle = np.deg2rad(20)
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    affine[:2, :2] = 1.5 * np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    affine[:3, 3] = (-10.0, 4.0, 7.0)
    path = tmp_path / "oblique.nii"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 3), np.float32), affine), str(path))
    [(_, meta, _)] = read_nifti(path)
    assert meta["scale"] == (1.0, 1.0, 1.0) and meta["translate"] == (0.0, 0.0, 0.0)
    np.testing.assert_allclose(meta["affine"], affine)


def test_bad_file_is_named(tmp_path) -> None:
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"not a nifti file")
    with pytest.raises(InputError, match=r"broken\.nii\.gz"):
        read_nifti(str(path))
