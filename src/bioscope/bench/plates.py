"""``cells count`` against ``cells count --dask`` on local workers: images/s on one plate.

``python -c "from bioscope.bench.plates import plate_speed; print(plate_speed())"`` simulates
``images`` 696 x 520 nuclei fields (BBBC005 layout, w2), starts one ``LocalCluster`` per entry of
``workers`` (one thread per worker; the start and every worker's model load are timed apart, as
``startup_s``), then counts the plate the plain way (in this process with torch's default
threads, as ``cells count`` runs) and on each cluster, in turns, ``repeats`` timed rounds after
one untimed. Rates are images/s of the medians; ``ratio_to_plain`` divides them by the plain
rate; ``same_counts`` says whether every way gave every image the same count. Needs the ``dask``
extra; the allocator is tuned as the command line tunes it.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from bioscope.data.bbbc005 import index_bbbc005
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
from bioscope.inference.cells import CellPredictor
from bioscope.inference.dask_plates import (
    PredictorRecipe,
    dask_counts,
    local_cluster,
    worker_predictor,
)
from bioscope.inference.files import count_files
from bioscope.runtime import tune_allocator
from bioscope.train.timing import time_in_turns


def plate_speed(
    images: int = 24, workers: Sequence[int] = (1, 2), repeats: int = 2
) -> dict[str, Any]:
    """Images/s of counting one simulated plate plainly and on local Dask clusters of each
    size in ``workers``, taken in turns; see the module for the keys."""
    import distributed

    tune_allocator()
    predictor = CellPredictor.from_checkpoint(device="cpu")
    recipe = PredictorRecipe.of(predictor, None, "cpu")
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        paths = _plate(Path(scratch), images)
        calls: dict[str, Callable[[], dict[str, int | None]]] = {
            "plain": lambda: {c.file: c.count for c in count_files(predictor, paths, None, 4)}
        }
        startup = {}
        for n in workers:
            start = time.perf_counter()
            cluster = stack.enter_context(local_cluster(distributed, n))
            with distributed.Client(cluster) as client:
                client.run(_load, recipe)
            startup[f"dask_{n}"] = round(time.perf_counter() - start, 2)
            calls[f"dask_{n}"] = _on_cluster(cluster.scheduler_address, recipe, paths)
        counts: dict[str, list[dict[str, int | None]]] = {name: [] for name in calls}
        recording = {name: _recorded(call, counts[name]) for name, call in calls.items()}
        times = time_in_turns(recording, repeats)
    rates = {name: len(paths) * 1000 / statistics.median(t) for name, t in times.items()}
    return {
        "images": len(paths),
        "images_per_s": {name: round(rate, 3) for name, rate in rates.items()},
        "ratio_to_plain": {
            n: round(r / rates["plain"], 2) for n, r in rates.items() if n != "plain"
        },
        "startup_s": startup,
        "same_counts": all(c == counts["plain"][0] for runs in counts.values() for c in runs),
        "plain_threads": torch.get_num_threads(),
        "repeats": repeats,
    }


def _plate(folder: Path, images: int) -> list[Path]:
    """``images`` simulated 696 x 520 nuclei fields (w2) in ``folder``, over counts and blurs."""
    plan = SimulationPlan(counts=(14, 48, 100), blurs=(1, 14, 29, 48), sites=-(-images // 12))
    simulate_bbbc005(folder, plan)
    return [record.image for record in index_bbbc005(folder, stains=[2])][:images]


def _load(recipe: PredictorRecipe) -> None:
    """Run on every worker: load its predictor now (not on its first task)."""
    worker_predictor(recipe)


def _on_cluster(
    address: str, recipe: PredictorRecipe, paths: list[Path]
) -> Callable[[], dict[str, int | None]]:
    def count() -> dict[str, int | None]:
        with dask_counts(address, 0, recipe, paths, None) as counts:
            return {c.file: c.count for c in counts}

    return count


def _recorded(call: Callable[[], dict], into: list[dict]) -> Callable[[], None]:
    """``call``, keeping what each run returns in ``into``."""
    return lambda: into.append(call())
