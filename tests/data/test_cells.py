from __future__ import annotations

import numpy as np
import pytest
import torch

from bioscope.data.bbbc005 import index_bbbc005
from bioscope.data.cells import (
    CellDataset,
    CellPair,
    load_pair,
    pairs_from_bbbc005,
    pairs_from_folders,
)
from bioscope.data.intensity import PercentileNorm, looks_empty
from bioscope.errors import InputError
from bioscope.io import write_image
from bioscope.io.images import to_grey


@pytest.fixture
def pairs(sim_folder):
    return pairs_from_bbbc005(index_bbbc005(sim_folder, stains=[2]))


def test_only_masked_records_become_pairs(pairs):
    assert pairs and all(p.mask is not None and "_F1_" in p.image.name for p in pairs)


@pytest.mark.parametrize(
    ("size", "expected", "valid"), [(64, 64, 64), (33, 48, 33), (None, None, None)]
)
def test_items_have_model_size(pairs, size, expected, valid):
    item = CellDataset(pairs, size=size)[0]
    expected = (expected, expected) if size else (96, 128)  # padded to a multiple of 16
    assert item["valid"].tolist() == ([valid, valid] if size else [96, 128])
    assert item["image"].shape == (1, *expected) and item["image"].dtype == torch.float32
    assert item["mask"].shape == (1, *expected)
    assert set(item["mask"].unique().tolist()) <= {0.0, 1.0}
    assert item["labels"].shape == expected and item["labels"].dtype == torch.int64


def test_resized_mask_follows_the_labels(pairs):
    item = CellDataset(pairs, size=64)[len(pairs) - 1]
    overlap = ((item["labels"] > 0) == (item["mask"][0] > 0)).float().mean()
    assert overlap > 0.97


def test_augmentation_moves_image_mask_and_labels_together(pairs):
    plain = CellDataset(pairs, size=64)[3]
    torch.manual_seed(0)
    augmented = CellDataset(pairs, size=64, augment=True)
    seen = set()
    for _ in range(12):
        item = augmented[3]
        # the same dihedral transform must map plain->augmented for all three tensors
        hits = [
            (k, f)
            for k in range(4)
            for f in (False, True)
            if all(
                torch.equal(_dihedral(plain[key], k, f), item[key])
                for key in plain
                if key != "valid"
            )
        ]
        assert hits, "image, mask and labels were transformed differently"
        seen.add(hits[0])
    assert len(seen) > 2


def _dihedral(t, k, flip):
    t = torch.rot90(t, k, dims=(-2, -1))
    return torch.flip(t, dims=(-1,)) if flip else t


def test_folder_layout_with_masks_suffix(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / f"cell{i}.png", rng.integers(0, 255, (20, 24), dtype=np.uint8))
        labels = np.zeros((20, 24), np.uint16)
        labels[2:6, 2:6], labels[10:15, 10:18] = 1, 2
        write_image(tmp_path / f"cell{i}_masks.tif", labels)
    pairs = pairs_from_folders(tmp_path)
    assert [p.image.name for p in pairs] == ["cell0.png", "cell1.png", "cell2.png"]
    arrays = load_pair(pairs[0])
    assert arrays.labels.max() == 2  # instance masks kept
    assert arrays.mask.sum() == 16 + 40


def test_folder_layout_separate_mask_folder(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "gt").mkdir()
    write_image(tmp_path / "img" / "a.tif", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "gt" / "a.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "img" / "b.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(InputError, match=r"b\.tif: no mask .*looked for b_masks\.\* or b\.\*"):
        pairs_from_folders(tmp_path / "img", tmp_path / "gt")


def test_folder_pairs_leave_out_tool_outputs_and_refuse_two_masks(tmp_path):
    """What ``cells predict`` and Cellpose wrote beside an image is not an image to evaluate;
    an image with two masks, or none, is refused naming where bioscope looked."""
    image = np.zeros((8, 8), np.uint8)
    write_image(tmp_path / "a.tif", image)
    write_image(tmp_path / "a_masks.png", image)
    for name in ("a_labels.tif", "a_prob.tif", "a_overlay.png", "a_flows.tif", "a_cp_masks.png"):
        write_image(tmp_path / name, image)
    assert [(p.image.name, p.mask.name) for p in pairs_from_folders(tmp_path)] == [
        ("a.tif", "a_masks.png")
    ]
    write_image(tmp_path / "a_masks.tif", image)
    with pytest.raises(InputError, match=r"a\.tif: two masks in .* \(a_masks\.png, a_masks\.tif\)"):
        pairs_from_folders(tmp_path)
    (tmp_path / "a_masks.tif").unlink()
    write_image(tmp_path / "b.tif", image)
    with pytest.raises(InputError, match=r"b\.tif: no mask in .* \(looked for b_masks\.\*\)"):
        pairs_from_folders(tmp_path)


def test_mismatched_mask_is_refused(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "a_masks.png", np.zeros((8, 9), np.uint8))
    with pytest.raises(InputError, match=r"shape \(8, 9\) does not match its image"):
        load_pair(CellPair(tmp_path / "a.png", tmp_path / "a_masks.png"))


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (
            np.array([[0, -1], [-2, 3]], np.int16).repeat(4, 0).repeat(4, 1),
            r"negative values \(-2\)",
        ),
        (
            np.array([[0, 1.5], [2, 3]], np.float32).repeat(4, 0).repeat(4, 1),
            "instance labels must be integers",
        ),
    ],
)
def test_training_masks_with_impossible_labels_are_refused(tmp_path, mask, message):
    """What folder evaluation refuses, training refuses too (it cast them to int64 and went on)."""
    write_image(tmp_path / "a.tif", np.ones((8, 8), np.uint8))
    write_image(tmp_path / "a_masks.tif", mask)
    with pytest.raises(InputError, match=f"a_masks.tif: {message}"):
        load_pair(CellPair(tmp_path / "a.tif", tmp_path / "a_masks.tif"))


def test_a_two_valued_labels_file_is_split_into_its_nuclei(tmp_path):
    """A labels file of 0 and 255 (BBBC005's mask style) holds one nucleus per connected
    component, as folder evaluation reads it, not one object numbered 255."""
    write_image(tmp_path / "a.png", np.ones((12, 12), np.uint8))
    binary = np.zeros((12, 12), np.uint8)
    binary[1:4, 1:4], binary[6:10, 6:10] = 255, 255
    write_image(tmp_path / "a_mask.png", binary)
    write_image(tmp_path / "a_labels.png", binary)
    arrays = load_pair(
        CellPair(tmp_path / "a.png", tmp_path / "a_mask.png", tmp_path / "a_labels.png")
    )
    assert sorted(np.unique(arrays.labels).tolist()) == [0, 1, 2]
    assert arrays.mask.sum() == 9 + 16


def test_normalisation():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_allclose(PercentileNorm(0, 100)(ramp), ramp / 255, rtol=1e-6)
    rng = np.random.default_rng(0)
    noise = rng.normal(100, 5, (64, 64))
    assert PercentileNorm()(noise).max() - PercentileNorm()(noise).min() < 1.0  # not stretched
    assert looks_empty(noise) and PercentileNorm().normalize(noise)[1]
    with pytest.raises(InputError, match="NaN"):
        PercentileNorm()(np.array([[np.nan, 1.0]]))


def test_normalisation_has_no_dtype_floor():
    """A dim 12-bit camera image in a uint16 file is stretched like its x100 copy."""
    rng = np.random.default_rng(1)
    dim = rng.poisson(20, (64, 64)).astype(np.uint16)
    dim[20:30, 20:30] += 200
    norm = PercentileNorm()
    np.testing.assert_allclose(norm(dim), norm(dim.astype(np.float32) * 100), atol=1e-5)
    assert not looks_empty(dim) and not norm.normalize(dim)[1]
    assert to_grey(np.dstack([np.full((2, 2), v, np.uint8) for v in (10, 20, 30)]))[
        0, 0
    ] == pytest.approx(0.299 * 10 + 0.587 * 20 + 0.114 * 30, rel=1e-6)


def test_native_crops_and_padding(sim_folder):
    pairs = pairs_from_bbbc005(index_bbbc005(sim_folder, stains=[2]), blurs=(1, 23))
    assert any("_F23_" in p.image.name for p in pairs)  # blurred images borrow the F1 mask
    torch.manual_seed(0)
    crops = CellDataset(pairs, size=None, crop=32, distance=True, augment=True)
    item = crops[0]
    assert item["image"].shape == item["mask"].shape == item["distance"].shape == (1, 32, 32)
    assert item["valid"].tolist() == [32, 32]
    whole = CellDataset(pairs, size=None, multiple=16)[1]
    assert whole["image"].shape == (1, 96, 128)
    odd = CellDataset(pairs, size=None, multiple=40)[1]  # 96 x 128 -> 120 x 160
    assert odd["image"].shape == (1, 120, 160) and odd["valid"].tolist() == [96, 128]
    assert odd["mask"][0, 96:].sum() == 0 and odd["labels"][96:].sum() == 0


def test_distance_target_peaks_once_per_cell(pairs):
    item = CellDataset(pairs, size=None, distance=True)[len(pairs) - 1]
    labels, distance = item["labels"], item["distance"][0]
    assert float(distance.max()) == 1.0 and float(distance[labels == 0].max()) == 0.0
    for index in labels.unique()[1:]:
        assert float(distance[labels == index].max()) == pytest.approx(1.0)


def test_a_single_nucleus_on_smooth_noise_is_not_stretched_into_nuclei():
    """One nucleus in a BBBC005 field blurred at F4: the high percentile lies in the background,
    whose blurred 8-bit noise has almost no pixel differences (the noise floor cannot see it);
    the stretch cap keeps that background dark instead of spanning 0..1."""
    from bioscope.data.intensity import MAX_STRETCH, PercentileNorm, noise_sigma
    from bioscope.samples import nuclei_field

    image, labels = nuclei_field(count=1, blur=4, seed=3)
    assert noise_sigma(image) == 0.0  # what defeats the noise floor
    normalised = PercentileNorm()(image)
    background = normalised[labels == 0]
    assert np.percentile(background, 99.8) <= 1.5 / MAX_STRETCH
    assert normalised[labels > 0].max() > 5 * np.percentile(background, 99.8)
    busy, _ = nuclei_field(count=60, blur=4, seed=3)  # a usual field: percentiles as before
    plain = (busy - np.percentile(busy, 1)) / np.ptp(np.percentile(busy, [1, 99.8]))
    np.testing.assert_allclose(PercentileNorm()(busy), plain, atol=1e-5)
