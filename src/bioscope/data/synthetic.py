"""Write simulated data sets: a BBBC005-layout folder with the SIMCEP-style simulator, or a
Cellpose-layout folder of randomised fields (:func:`simulate_randomised_folder`).

Layout (the real BBBC005's, plus a ``truth/`` folder it lacks)::

    DIR/BBBC005_v1_images/SIMCEPImages_<well>_C<count>_F<blur>_s<site>_w<stain>.TIF   uint8
    DIR/BBBC005_v1_ground_truth/<same name>            F1 only, binary 0/255
    DIR/truth/<stem>_labels.tif                        uint16 instance labels (zlib)
    DIR/truth/cells.csv                                file, field, well, site, requested_count,
                                                       placed_count, blur, stain

Wells: the row letter is the blur level's position among the requested blur levels (A, B, ...)
and the column the count's position among the requested counts; with the defaults this is
BBBC005's own numbering. Every field (count, site) is simulated once from
``SeedSequence([seed, 0, count, site])`` and rendered at every blur level with camera noise from
``[seed, 1, count, site, blur, stain]``, so the output does not depend on the number of workers or
the order of work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bioscope.data.bbbc005 import (
    BBBC005_BLURS,
    BBBC005_COUNTS,
    BBBC005_SITES,
    CELLS_CSV,
    IMAGES_DIR,
    MASKS_DIR,
    TRUTH_DIR,
    Bbbc005Name,
    well_name,
)
from bioscope.data.randomised import simulate_randomised
from bioscope.data.simcep import SimcepParams, render_image, simulate_field
from bioscope.errors import InputError
from bioscope.io import atomic_write_text, write_image
from bioscope.io.tables import csv_text


@dataclass(frozen=True)
class SimulationPlan:
    """What to simulate: every (count, site) field at every blur level, both stains."""

    counts: tuple[int, ...] = BBBC005_COUNTS
    blurs: tuple[int, ...] = BBBC005_BLURS
    sites: int = BBBC005_SITES
    seed: int = 0
    params: SimcepParams = field(default_factory=SimcepParams)

    def __post_init__(self) -> None:
        if not self.counts or not self.blurs:
            raise InputError("at least one count and one blur level are needed")
        if len(set(self.counts)) != len(self.counts) or len(set(self.blurs)) != len(self.blurs):
            raise InputError("counts and blur levels must not repeat")
        if min(self.counts) < 0:
            raise InputError(f"counts must be >= 0, got {min(self.counts)}")
        if min(self.blurs) < 1:
            raise InputError(f"blur levels F must be >= 1, got {min(self.blurs)}")
        if not 1 <= self.sites <= 99:
            raise InputError(f"sites must be in 1..99 (two-digit s<site>), got {self.sites}")
        if self.seed < 0:
            raise InputError(f"seed must be >= 0, got {self.seed}")
        well_name(len(self.blurs) - 1, len(self.counts) - 1)  # raises if the wells overflow

    @property
    def fields(self) -> list[tuple[int, int]]:
        """All (count, site) pairs."""
        return [(c, s) for c in sorted(self.counts) for s in range(1, self.sites + 1)]

    @property
    def n_images(self) -> int:
        """Number of image files the plan writes."""
        return len(self.fields) * len(self.blurs) * 2


@dataclass(frozen=True)
class SimulationSummary:
    """What :func:`simulate_bbbc005` wrote."""

    root: Path
    images: int
    masks: int
    labels: int
    requested_cells: int
    placed_cells: int
    short_fields: int

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES_DIR


def simulate_bbbc005(
    out: str | os.PathLike[str],
    plan: SimulationPlan | None = None,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SimulationSummary:
    """Simulate a BBBC005-layout folder under ``out``.

    Args:
        out: destination folder (created; existing files of the same names are replaced).
        plan: counts, blur levels, sites, seed and simulator settings.
        workers: worker processes (1 = in this process).
        progress: called with the number of images written after each field.

    Returns:
        A :class:`SimulationSummary` of the files and cells written.
    """
    plan = plan or SimulationPlan()
    root = Path(out)
    jobs = [(root, plan, count, site) for count, site in plan.fields]
    rows = _run(_write_field, jobs, workers, 1, progress)
    atomic_write_text(root / TRUTH_DIR / CELLS_CSV, csv_text(rows))
    per_field = {(r["field"]): (r["requested_count"], r["placed_count"]) for r in rows}
    return SimulationSummary(
        root=root,
        images=len(rows),
        masks=sum(1 for r in rows if r["blur"] == 1),
        labels=len(rows),
        requested_cells=sum(int(req) for req, _ in per_field.values()),
        placed_cells=sum(int(placed) for _, placed in per_field.values()),
        short_fields=sum(1 for req, placed in per_field.values() if placed < req),
    )


def _run(
    write: Callable[[Any], list[dict[str, object]]],
    jobs: Sequence[Any],
    workers: int,
    chunksize: int,
    progress: Callable[[int], None] | None,
) -> list[dict[str, object]]:
    """``write`` every job (in this process, or over ``workers`` processes), in order; the CSV
    rows they return, joined; ``progress`` told each job's number of rows."""
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    rows: list[dict[str, object]] = []
    with ExitStack() as stack:
        if workers == 1:
            results: Iterable[list[dict[str, object]]] = map(write, jobs)
        else:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
            results = pool.map(write, jobs, chunksize=chunksize)
        for job_rows in results:
            rows.extend(job_rows)
            if progress is not None:
                progress(len(job_rows))
    return rows


def _write_field(job: tuple[Path, SimulationPlan, int, int]) -> list[dict[str, object]]:
    """Simulate one field and write its images, F1 masks and labels; return its CSV rows."""
    root, plan, count, site = job
    sim = simulate_field(count, np.random.SeedSequence([plan.seed, 0, count, site]), plan.params)
    counts, blurs = sorted(plan.counts), sorted(plan.blurs)
    rows = []
    for blur_index, blur in enumerate(blurs):
        well = well_name(blur_index, counts.index(count))
        for stain in (1, 2):
            name = Bbbc005Name(count=count, site=site, blur=blur, stain=stain, well=well)
            seed = np.random.SeedSequence([plan.seed, 1, count, site, blur, stain])
            write_image(
                root / IMAGES_DIR / name.filename,
                render_image(sim.optical(stain), blur, seed, plan.params),
            )
            labels = sim.labels(stain)
            if blur == 1:
                write_image(
                    root / MASKS_DIR / name.filename, np.where(labels > 0, 255, 0).astype(np.uint8)
                )
            write_image(
                root / TRUTH_DIR / f"{Path(name.filename).stem}_labels.tif", labels, compress=True
            )
            rows.append(
                {
                    "file": name.filename,
                    "field": name.field,
                    "well": well,
                    "site": site,
                    "requested_count": count,
                    "placed_count": sim.placed,
                    "blur": blur,
                    "stain": stain,
                }
            )
    return rows


RANDOMISED_PREFIX = "randomised"


def simulate_randomised_folder(
    out: str | os.PathLike[str],
    fields: int,
    seed: int = 0,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``fields`` randomised nuclei fields to ``out`` in Cellpose layout:
    ``randomised_NNNN.tif`` (8/12/16-bit camera image) beside ``randomised_NNNN_masks.tif``
    (uint16 instance labels); field ``i`` comes from ``SeedSequence([seed, i])``, so the output
    does not depend on ``workers``. Also writes ``fields.csv`` (file, diameter, bits, count)."""
    if fields < 1:
        raise InputError(f"fields must be >= 1, got {fields}")
    root = Path(out)
    jobs = [(root, seed, index) for index in range(fields)]
    rows = _run(_write_randomised, jobs, workers, 4, progress)
    atomic_write_text(root / "fields.csv", csv_text(rows))
    return root


def _write_randomised(job: tuple[Path, int, int]) -> list[dict[str, object]]:
    root, seed, index = job
    field = simulate_randomised(np.random.SeedSequence([seed, index]))
    stem = f"{RANDOMISED_PREFIX}_{index:04d}"
    write_image(root / f"{stem}.tif", field.image)
    write_image(root / f"{stem}_masks.tif", field.labels, compress=True)
    return [
        {
            "file": f"{stem}.tif",
            "diameter": round(field.diameter, 2),
            "bits": field.bits,
            "count": field.count,
        }
    ]
