"""The randomised nuclei simulator: determinism, variety, and labels that match what is seen."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from bioscope.data.randomised import RandomisedParams, simulate_randomised
from bioscope.data.synthetic import simulate_randomised_folder
from bioscope.data.targets import median_diameter
from bioscope.errors import InputError
from bioscope.io import read_image

SMALL = RandomisedParams(diameter=(8.0, 24.0), side_px=(96, 160))


def test_same_seed_same_field_other_seed_other_field():
    a, b = simulate_randomised(3, SMALL), simulate_randomised(3, SMALL)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.labels, b.labels)
    c = simulate_randomised(4, SMALL)
    assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("seed", range(6))
def test_labels_are_the_visible_nuclei(seed):
    field = simulate_randomised(seed, SMALL)
    image, labels = field.image.astype(float), field.labels
    assert labels.dtype == np.uint16 and labels.shape == image.shape
    ids = np.unique(labels)[1:]
    assert ids.tolist() == list(range(1, field.count + 1))  # ids 1..N, none lost
    for index in ids:  # every nucleus is one piece
        assert ndimage.label(labels == index)[1] == 1
    # nuclei stand out of the background they sit on (images hold haze, offset and noise)
    ring = ndimage.binary_dilation(labels > 0, iterations=int(field.diameter)) & (labels == 0)
    if ring.any():
        assert image[labels > 0].mean() > image[ring].mean()
    assert median_diameter([labels]) == pytest.approx(field.diameter, rel=0.35)


def test_fields_vary_in_size_bit_depth_and_density():
    fields = [simulate_randomised(seed) for seed in range(12)]
    diameters = [f.diameter for f in fields]
    assert 8 <= min(diameters) and max(diameters) <= 60 and max(diameters) / min(diameters) > 2
    assert {f.bits for f in fields} == {8, 12, 16}
    for f in fields:
        assert f.image.dtype == (np.uint8 if f.bits == 8 else np.uint16)
        assert int(f.image.max()) < 2**f.bits
    assert len({f.count for f in fields}) > 6


def test_a_narrow_range_is_respected_and_a_bad_one_refused():
    tiny = RandomisedParams(diameter=(10.0, 10.0), side_px=(96, 96))
    field = simulate_randomised(1, tiny)
    assert field.diameter == pytest.approx(10.0) and field.image.shape == (96, 96)
    with pytest.raises(InputError, match="diameter range"):
        simulate_randomised(0, RandomisedParams(diameter=(20.0, 10.0)))


def test_folder_is_cellpose_layout_and_independent_of_workers(tmp_path):
    one = simulate_randomised_folder(tmp_path / "one", 3, seed=5)
    two = simulate_randomised_folder(tmp_path / "two", 3, seed=5, workers=2)
    for index in range(3):
        for suffix in (".tif", "_masks.tif"):
            name = f"randomised_{index:04d}{suffix}"
            np.testing.assert_array_equal(read_image(one / name), read_image(two / name))
    assert (one / "fields.csv").read_text().startswith("file,diameter,bits,count")
    with pytest.raises(InputError, match="fields must be >= 1"):
        simulate_randomised_folder(tmp_path / "none", 0)
