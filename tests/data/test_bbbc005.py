from __future__ import annotations

import shutil

import numpy as np
import pytest

from bioscope.data.bbbc005 import (
    BBBC005_BLURS,
    BBBC005_COUNTS,
    IMAGES_DIR,
    MASKS_DIR,
    index_bbbc005,
    parse_name,
    split_by_field,
)
from bioscope.errors import InputError


def test_constants_match_the_published_scheme():
    assert np.array_equal(BBBC005_COUNTS, np.round(np.linspace(1, 100, 24)).astype(int))
    assert np.array_equal(BBBC005_BLURS, np.round(np.linspace(1, 48, 16)).astype(int))


def test_parse_name():
    name = parse_name("SIMCEPImages_P24_C100_F48_s25_w1.TIF")
    assert (name.well, name.count, name.blur, name.site, name.stain) == ("P24", 100, 48, 25, 1)
    assert name.field == "C100_s25"
    assert name.filename == "SIMCEPImages_P24_C100_F48_s25_w1.TIF"
    assert parse_name("/some/dir/SIMCEPImages_A01_C1_F1_s01_w2.tif").stain == 2


@pytest.mark.parametrize(
    "bad",
    [
        "SIMCEPImages_A01_C1_F1_s01_w3.TIF",  # stain 3
        "SIMCEPImages_Q01_C1_F1_s01_w1.TIF",  # row Q
        "SIMCEPImages_A01_C1_F1_s1_w1.TIF",  # one-digit site
        "SIMCEPImages_A01_C1_F1_s01_w1.png",
        "image.tif",
        ".htaccess",
    ],
)
def test_bad_names_are_refused(bad):
    with pytest.raises(InputError, match="not a BBBC005 file name"):
        parse_name(bad)


def test_index_pairs_images_masks_labels_and_counts(sim_folder, small_plan):
    records = index_bbbc005(sim_folder)
    assert len(records) == small_plan.n_images
    with_masks = [r for r in records if r.mask is not None]
    assert {r.name.blur for r in with_masks} == {1}
    assert len(with_masks) == len(small_plan.fields) * 2
    assert all(r.labels is not None and r.placed_count is not None for r in records)
    assert all(r.mask.name == r.image.name for r in with_masks)


def test_filters(sim_folder):
    records = index_bbbc005(sim_folder, stains=[2], blurs=[1, 23], counts=[5])
    assert {(r.name.stain, r.name.blur, r.name.count) for r in records} == {(2, 1, 5), (2, 23, 5)}


def test_real_layout_nested_masks_and_stray_files(sim_folder, tmp_path):
    """The real download: nested ground truth, .htaccess files, no truth/ folder."""
    shutil.copytree(sim_folder / IMAGES_DIR, tmp_path / IMAGES_DIR)
    shutil.copytree(sim_folder / MASKS_DIR, tmp_path / MASKS_DIR / MASKS_DIR)
    (tmp_path / IMAGES_DIR / ".htaccess").write_text("deny from all")
    (tmp_path / MASKS_DIR / MASKS_DIR / ".htaccess").write_text("deny from all")
    records = index_bbbc005(tmp_path)
    assert sum(r.mask is not None for r in records) == len(list((sim_folder / MASKS_DIR).iterdir()))
    assert all(r.labels is None and r.placed_count is None for r in records)
    assert all(r.true_count == r.name.count for r in records)


def test_misnamed_tiff_and_empty_folder_are_errors(sim_folder, tmp_path):
    shutil.copytree(sim_folder / IMAGES_DIR, tmp_path / IMAGES_DIR)
    (tmp_path / IMAGES_DIR / "renamed.tif").write_bytes(b"")
    with pytest.raises(InputError, match=r"'renamed\.tif' is not a BBBC005 file name"):
        index_bbbc005(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no BBBC005 images found"):
        index_bbbc005(tmp_path / "empty")
    with pytest.raises(InputError, match="no such folder"):
        index_bbbc005(tmp_path / "missing")


def test_split_by_field_never_leaks(sim_folder):
    records = index_bbbc005(sim_folder)
    split = split_by_field(records, (0.5, 0.25, 0.25), seed=3)
    fields = {side: {r.name.field for r in rs} for side, rs in split.items()}
    assert not (
        fields["train"] & fields["val"]
        or fields["train"] & fields["test"]
        or fields["val"] & fields["test"]
    )
    assert sum(len(v) for v in split.values()) == len(records)
    assert all(fields.values())
    # each field keeps all its blur levels and stains on one side
    for side, rs in split.items():
        for field in fields[side]:
            assert sum(r.name.field == field for r in rs) == sum(
                r.name.field == field for r in records
            )


def test_split_is_deterministic_and_seeded(sim_folder):
    records = index_bbbc005(sim_folder)
    a, b = split_by_field(records, seed=1), split_by_field(records, seed=1)
    assert {k: [r.image for r in v] for k, v in a.items()} == {
        k: [r.image for r in v] for k, v in b.items()
    }
    others = [split_by_field(records, seed=s)["test"] for s in range(2, 8)]
    assert any([r.image for r in o] != [r.image for r in a["test"]] for o in others)
    with pytest.raises(InputError, match="fractions"):
        split_by_field(records, (0.5, 0.5, 0.5))
