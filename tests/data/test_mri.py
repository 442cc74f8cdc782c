from __future__ import annotations

import numpy as np
import pytest

from bioscope.data.mri import (
    BandSplit,
    informative_crop,
    informative_slices,
    normalize_volume,
    random_patches,
    take_slice,
)
from bioscope.data.superres import HRPatches, PatchConfig, builtin_slices, builtin_volume, make_pair
from bioscope.errors import InputError
from bioscope.io import Volume


def test_informative_crop_is_the_brightest_window():
    rng = np.random.default_rng(0)
    image = rng.random((40, 50))
    image[12:30, 20:41] += 3.0
    crop = informative_crop(image, 16)
    sums = [image[r : r + 16, c : c + 16].sum() for r in range(25) for c in range(35)]
    assert crop.shape == (16, 16) and crop.sum() == pytest.approx(max(sums))
    assert informative_crop(image[:10, :12], 16).shape == (10, 12)


def test_patches_deterministic_and_never_near_empty():
    image = np.zeros((120, 120))
    image[30:90, 30:90] = 1.0
    a = random_patches(image, 16, 32, np.random.default_rng(5))
    b = random_patches(image, 16, 32, np.random.default_rng(5))
    assert len(a) == 16 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert all((p > 0.1).mean() >= 0.25 for p in a)
    assert random_patches(np.zeros((64, 64)), 4, 32, np.random.default_rng(0)) == []
    with pytest.raises(InputError, match="no 96 x 96 patch"):
        random_patches(image[:50], 1, 96, np.random.default_rng(0))


def test_band_split_never_overlaps_and_leaves_gaps():
    bands = BandSplit(train=5, val=2, test=2, gap=1)
    split = bands.split(list(range(60)))
    sides = [set(v) for v in split.values()]
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
    for a in split["train"]:  # no train slice is next to a val or test slice
        assert a - 1 not in sides[1] | sides[2] and a + 1 not in sides[1] | sides[2]
    assert all(split.values())


def test_builtin_template_splits():
    volume = builtin_volume()
    assert volume.data.shape == (197, 233, 189) and volume.orientation == "RAS"
    slices = builtin_slices()
    assert all(len(v) > 10 for v in slices.values())
    indices = BandSplit().split(informative_slices(volume, "axial"))
    assert not set(indices["train"]) & (set(indices["val"]) | set(indices["test"]))
    assert (
        0.0 <= min(s.min() for s in slices["test"]) and max(s.max() for s in slices["test"]) <= 1.0
    )
    patches = HRPatches(slices["val"], PatchConfig(per_slice=4, seed=1))
    again = HRPatches(slices["val"], PatchConfig(per_slice=4, seed=1))
    assert len(patches) == 4 * len(slices["val"]) and (patches.patches == again.patches).all()


def test_slices_and_normalisation():
    data = np.zeros((4, 5, 6), np.float32)
    data[1, 2, 3] = 10.0
    volume = Volume(data, (1.0, 1.0, 1.0), np.eye(4), "RAS", "test", "float32")
    axial = take_slice(volume, "axial", 3)
    assert axial.shape == (5, 4) and axial.max() == 10.0
    assert informative_slices(volume, "axial", min_signal=0.01) == [3]
    norm = normalize_volume(data + np.linspace(0, 1, 120).reshape(4, 5, 6).astype(np.float32))
    assert norm.min() >= 0 and norm.max() == 1.0
    z = normalize_volume(data, "zscore")
    assert abs(z.mean()) < 1e-6 and z.std() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InputError, match="no value above zero"):
        normalize_volume(np.zeros((2, 2, 2)))


def test_make_pair_shapes():
    from fractions import Fraction

    import torch

    pair = make_pair(torch.rand(2, 1, 96, 96), Fraction(27, 10))
    assert pair["hr"].shape == (2, 1, 81, 81) and pair["lr"].shape == (2, 1, 30, 30)
    assert pair["scale"] == "27/10"


def test_brats_layout_folder_and_png_folder(tmp_path):
    from bioscope.data.superres import (
        image_folder_slices,
        split_volumes,
        volume_paths,
        volume_slices,
    )
    from bioscope.io import write_image, write_nifti

    brain = np.zeros((20, 24, 8), np.float32)
    brain[4:16, 5:19, 2:7] = 1.0
    for case in ("BraTS_001", "BraTS_002", "BraTS_003"):
        for modality in ("t1ce", "flair"):
            write_nifti(tmp_path / "brats" / case / f"{case}_{modality}.nii.gz", brain, np.eye(4))
    paths = volume_paths(tmp_path / "brats")
    assert [p.name for p in paths] == [f"BraTS_00{i}_t1ce.nii.gz" for i in (1, 2, 3)]
    assert len(volume_paths(tmp_path / "brats", modality="flair")) == 3
    split = split_volumes(paths, seed=0)
    assert sorted(len(v) for v in split.values()) == [1, 1, 1]
    slices = volume_slices(split["train"])
    assert len(slices) == 5 and slices[0].shape == (24, 20) and slices[0].max() == 1.0
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 1] = 255
    write_image(tmp_path / "div2k" / "0001.png", rgb)
    (image,) = image_folder_slices(tmp_path / "div2k")
    assert image.shape == (10, 12) and image.max() == pytest.approx(0.587)
    with pytest.raises(InputError, match="no PNG images"):
        image_folder_slices(tmp_path / "brats")
    with pytest.raises(InputError, match="no NIfTI volumes"):
        volume_paths(tmp_path / "div2k")


def test_photo_slices_are_the_bundled_photographs():
    from bioscope.data.superres import PHOTOS, HRPatches, PatchConfig, photo_slices

    photos = photo_slices()
    assert len(photos["train"]) == len(PHOTOS) - 2 and len(photos["val"]) == 2
    assert not photos["test"]
    for image in photos["train"] + photos["val"]:
        assert image.ndim == 2 and image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.01
    patches = HRPatches(photos["val"], PatchConfig(crop=None, patch=40, per_slice=3))
    assert len(patches) == 6 and patches[0].shape == (1, 40, 40)
