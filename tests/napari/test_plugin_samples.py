"""The sample data contributions."""

from __future__ import annotations

import numpy as np

from bioscope.napari.samples import mri_slice_sample, mri_volume_sample, nuclei_sample


def test_nuclei_field_with_its_truth() -> None:
    (image, image_meta, image_kind), (labels, _, labels_kind) = nuclei_sample()
    assert (image_kind, labels_kind) == ("image", "labels")
    assert image.shape == labels.shape == (520, 696) and image.dtype == np.uint8
    assert int(labels.max()) == len(np.unique(labels)) - 1 > 40
    assert image_meta["name"] == "nuclei (simulated)"


def test_mri_slice_and_volume() -> None:
    [(plane, _, kind)] = mri_slice_sample()
    assert kind == "image" and plane.ndim == 2 and np.isfinite(plane).all() and plane.max() > 0
    [(volume, meta, _)] = mri_volume_sample()
    assert volume.shape == (197, 233, 189)
    assert meta["scale"] == (1.0, 1.0, 1.0) and meta["translate"] == (-98.0, -134.0, -72.0)
