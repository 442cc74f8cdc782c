"""Counting on Dask, function by function: the recipe rebuilds the same predictor, a worker
loads it once, a failed task reports its files, and a missing Dask names the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor
from bioscope.inference.dask_plates import (
    PredictorRecipe,
    count_chunk,
    dask_counts,
    worker_predictor,
)
from bioscope.inference.files import count_files
from bioscope.io import write_image
from bioscope.samples import nuclei_field


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("plate")
    for seed in range(3):
        image, _ = nuclei_field(count=60, seed=seed)
        write_image(folder / f"f{seed}.tif", image[:96, :112])
    return sorted(folder.glob("*.tif"))


@pytest.fixture(scope="module")
def predictor() -> CellPredictor:
    return CellPredictor.from_checkpoint(
        None, "cpu", threshold=0.4, method="watershed", batch_size=2
    )


def test_the_recipe_rebuilds_the_same_predictor(predictor):
    recipe = PredictorRecipe.of(predictor, None, "cpu")
    assert recipe == PredictorRecipe(None, "cpu", 0.4, "watershed", "native", 2)
    rebuilt = recipe.build()
    assert rebuilt.spec == predictor.spec and rebuilt.window == predictor.window
    relative = PredictorRecipe.of(predictor, Path("m.safetensors"), "auto")
    assert relative.model == str(Path.cwd() / "m.safetensors")  # workers may run elsewhere


def test_a_worker_loads_its_predictor_once_and_counts_as_the_caller(predictor, images):
    recipe = PredictorRecipe.of(predictor, None, "cpu")
    threads = torch.get_num_threads()
    try:
        assert worker_predictor(recipe) is worker_predictor(
            PredictorRecipe.of(predictor, None, "cpu")
        )
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    counts = count_chunk(recipe, [str(p) for p in images], None)
    assert counts == list(count_files(predictor, images, None, 2))
    assert [c.file for c in counts] == [str(p) for p in images]


def test_a_failed_task_reports_each_of_its_files(images, tmp_path):
    distributed = pytest.importorskip("distributed", reason="needs the dask extra")
    broken = PredictorRecipe(str(tmp_path / "gone.safetensors"), "cpu", 0.5, "paper", "native", 2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        dask_counts(cluster.scheduler_address, 1, broken, images, None) as found,
    ):
        counts = list(found)
    assert [c.file for c in counts] == [str(p) for p in images]
    assert all("the Dask task failed" in c.error and c.count is None for c in counts)


def test_without_dask_the_error_names_the_extra(monkeypatch, predictor, images):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    recipe = PredictorRecipe.of(predictor, None, "cpu")
    with pytest.raises(InputError, match=r"pip install 'bioscope\[dask\]'"):
        with dask_counts(None, 1, recipe, images, None):
            pass
