"""``bioscope cells count --dask``: a plate's images counted on a Dask cluster.

The files go out in chunks of the predictor's batch size (the batches the plain command runs),
one task each, by absolute path (the workers must see the same files). Each worker process
builds the predictor once, from a small :class:`PredictorRecipe` rather than a pickled network,
and keeps it for every later task (one torch thread per worker, the allocator tuned as the
command line tunes it); counts come back as each chunk finishes. Without an address a
``LocalCluster`` of ``workers`` processes with one thread each is started and stopped here.

Needs ``pip install 'bioscope[dask]'``; Dask is imported only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor, Diameter
from bioscope.inference.files import ImageCount, count_files
from bioscope.inference.spec import Mode
from bioscope.runtime import tune_allocator


@dataclass(frozen=True)
class PredictorRecipe:
    """What a worker needs to build the caller's :class:`CellPredictor` for itself.

    Attributes:
        model: checkpoint path (absolute), or ``None`` for the shipped model (found in the
            worker's own installation).
        device: ``auto``, ``cpu`` or ``cuda``, resolved on the worker.
        threshold: mask threshold.
        method: counting method.
        mode: ``resize`` or ``native``.
        batch_size: images per network call, and per task.

    Example:
        >>> predictor = CellPredictor.from_checkpoint(device="cpu", method="watershed")
        >>> recipe = PredictorRecipe.of(predictor, None, "cpu")
        >>> recipe.method, recipe.build().spec == predictor.spec
        ('watershed', True)
    """

    model: str | None
    device: str
    threshold: float
    method: str
    mode: Mode
    batch_size: int

    @classmethod
    def of(cls, predictor: CellPredictor, model: Path | None, device: str) -> PredictorRecipe:
        """The recipe of ``predictor``, loaded from ``model`` (``None``: shipped) for
        ``device``: its resolved spec, so a worker's predictor counts exactly as it does."""
        spec = predictor.spec
        return cls(
            str(model.absolute()) if model is not None else None,
            device,
            spec.threshold,
            spec.method,
            spec.mode,
            predictor.window.batch_size,
        )

    def build(self) -> CellPredictor:
        """Load the predictor this recipe describes."""
        return CellPredictor.from_checkpoint(
            self.model,
            self.device,
            threshold=self.threshold,
            method=self.method,
            mode=self.mode,
            batch_size=self.batch_size,
        )


@functools.cache
def worker_predictor(recipe: PredictorRecipe) -> CellPredictor:
    """The predictor of ``recipe``, built on a worker's first task and kept for the others."""
    torch.set_num_threads(1)
    tune_allocator()
    return recipe.build()


def count_chunk(
    recipe: PredictorRecipe, paths: list[str], diameter: Diameter, channel: int | None = None
) -> list[ImageCount]:
    """A worker's task: the counts of ``paths``, in order, in one batch."""
    predictor = worker_predictor(recipe)
    files = [Path(p) for p in paths]
    return list(count_files(predictor, files, diameter, recipe.batch_size, channel))


@contextlib.contextmanager
def dask_counts(
    address: str | None,
    workers: int,
    recipe: PredictorRecipe,
    paths: Sequence[Path],
    diameter: Diameter,
    channel: int | None = None,
) -> Iterator[Iterator[ImageCount]]:
    """Count ``paths`` on the Dask scheduler at ``address`` (``None``: a new ``LocalCluster``
    of ``workers`` processes, closed on leaving); yields the counts as chunks finish, each
    ``file`` as given in ``paths``.

    Raises:
        InputError: Dask is not installed.
    """
    distributed = _import_distributed()
    with contextlib.ExitStack() as stack:
        target: Any = address
        if address is None:
            target = stack.enter_context(local_cluster(distributed, workers))
        client = stack.enter_context(distributed.Client(target))
        yield _as_finished(distributed, client, recipe, paths, diameter, channel)


def local_cluster(distributed: ModuleType, workers: int) -> Any:
    """A Dask ``LocalCluster`` of ``workers`` one-thread processes on a free dashboard port."""
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: 8787 may be taken
        silence_logs=logging.ERROR,  # not the nannies' notes on shutting down
    )


def _as_finished(
    distributed: ModuleType,
    client: Any,
    recipe: PredictorRecipe,
    paths: Sequence[Path],
    diameter: Diameter,
    channel: int | None,
) -> Iterator[ImageCount]:
    """Submit one task per chunk; yield each chunk's counts as it finishes. A task that fails
    (a worker died, an unexpected error) gives every file of its chunk that error."""
    size = recipe.batch_size
    chunks = [list(paths[start : start + size]) for start in range(0, len(paths), size)]
    futures = {
        client.submit(
            count_chunk, recipe, [str(p.absolute()) for p in chunk], diameter, channel, pure=False
        ): chunk
        for chunk in chunks
    }
    for future in distributed.as_completed(futures):
        chunk = futures.pop(future)
        try:
            counts = future.result()
        except Exception as exc:  # report it per file and go on with the plate
            counts = [
                ImageCount(str(p), error=f"{p}: the Dask task failed: {exc!r}") for p in chunk
            ]
        for path, count in zip(chunk, counts, strict=True):
            yield dataclasses.replace(count, file=str(path))


def _import_distributed() -> ModuleType:
    """``distributed``, or an :class:`InputError` that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise InputError(
            "--dask needs Dask's distributed scheduler: pip install 'bioscope[dask]'"
        ) from exc
    return distributed
