from __future__ import annotations

import csv

import numpy as np
import pytest

from bioscope.data.bbbc005 import IMAGES_DIR, MASKS_DIR, TRUTH_DIR, index_bbbc005
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
from bioscope.errors import InputError
from bioscope.io import read_image


def test_truth_table(sim_folder, small_plan):
    with (sim_folder / TRUTH_DIR / "cells.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == small_plan.n_images
    assert set(rows[0]) >= {"file", "field", "requested_count", "placed_count", "blur", "stain"}
    for row in rows:
        assert int(row["placed_count"]) <= int(row["requested_count"])
        labels = read_image(sim_folder / TRUTH_DIR / (row["file"][:-4] + "_labels.tif"))
        assert labels.dtype == np.uint16 and int(labels.max()) == int(row["placed_count"])


def test_masks_are_the_union_of_labels(sim_folder):
    for record in index_bbbc005(sim_folder, blurs=[1]):
        mask, labels = read_image(record.mask), read_image(record.labels)
        assert set(np.unique(mask)) <= {0, 255}
        np.testing.assert_array_equal(mask == 255, labels > 0)


def test_images_are_8bit_and_fields_share_cells(sim_folder, small_plan):
    records = index_bbbc005(sim_folder, counts=[10])
    for r in records:
        image = read_image(r.image)
        assert image.dtype == np.uint8
        assert image.shape == (small_plan.params.height, small_plan.params.width)
    by_field = {}
    for r in records:
        by_field.setdefault((r.name.field, r.name.stain), set()).add(read_image(r.labels).tobytes())
    assert all(len(v) == 1 for v in by_field.values())  # same cells at every blur level


def test_workers_do_not_change_output(tmp_path, small_plan):
    plan = SimulationPlan(counts=(3, 9), blurs=(1, 14), sites=2, seed=5, params=small_plan.params)
    one = simulate_bbbc005(tmp_path / "one", plan, workers=1)
    two = simulate_bbbc005(tmp_path / "two", plan, workers=2)
    assert one.images == two.images == plan.n_images
    for path in sorted((tmp_path / "one").rglob("*.*")):
        twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
        if path.suffix == ".csv":
            assert path.read_text() == twin.read_text()
        else:
            np.testing.assert_array_equal(read_image(path), read_image(twin))


def test_default_plan_is_bbbc005():
    plan = SimulationPlan()
    assert len(plan.counts) == 24 and len(plan.blurs) == 16 and plan.sites == 25
    assert plan.n_images == 19_200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counts": (1, 1)}, "must not repeat"),
        ({"blurs": (0,)}, ">= 1"),
        ({"sites": 100}, "1..99"),
        ({"blurs": tuple(range(1, 18))}, "at most 16 blur levels"),
        ({"counts": ()}, "at least one"),
    ],
)
def test_bad_plans(kwargs, message):
    with pytest.raises(InputError, match=message):
        SimulationPlan(**kwargs)


def test_layout(sim_folder):
    assert {p.name for p in sim_folder.iterdir()} == {IMAGES_DIR, MASKS_DIR, TRUTH_DIR}
