"""End-to-end throughput: the count pipeline on 696 x 520 images, and ``sr upscale`` of a slice."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from fractions import Fraction
from functools import partial

import numpy as np
from torch import nn

from bioscope.evaluate.cells import DEFAULT_METHOD, count_cells
from bioscope.inference import CellModel, predict_maps
from bioscope.train.timing import time_in_turns
from bioscope.upscale import upscale_plane


def count_images_per_s(model: CellModel, images: Sequence[np.ndarray], rounds: int) -> float:
    """Images per second of predict + count (the default method), after one warm-up image."""
    count_cells(predict_maps(model, images[0]), DEFAULT_METHOD, model.threshold)
    start = time.perf_counter()
    for _ in range(rounds):
        for image in images:
            count_cells(predict_maps(model, image), DEFAULT_METHOD, model.threshold)
    return rounds * len(images) / (time.perf_counter() - start)


def upscale_ms(
    models: dict[str, nn.Module], plane: np.ndarray, scale: Fraction, repeats: int
) -> dict[str, float]:
    """Median milliseconds of :func:`~bioscope.upscale.upscale_plane` per model, in turns."""
    calls = {name: partial(upscale_plane, model, plane, scale) for name, model in models.items()}
    return {name: statistics.median(t) for name, t in time_in_turns(calls, repeats).items()}
