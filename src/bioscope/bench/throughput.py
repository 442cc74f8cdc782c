"""End-to-end throughput: the count pipeline on 696 x 520 images, and ``sr upscale`` of a slice."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from fractions import Fraction
from functools import partial

import numpy as np
import torch

from bioscope.inference.cells import CellPredictor
from bioscope.inference.superres import SRPredictor
from bioscope.train.timing import time_in_turns


def count_all(predictor: CellPredictor, images: Sequence[np.ndarray]) -> int:
    """Segment and count ``images``; the predictor's window runs them ``batch_size`` at a time,
    as for ``bioscope cells count``."""
    return sum(result.count for result in predictor.segment_batch(images))


def count_images_per_s(
    predictors: dict[str, CellPredictor], images: Sequence[np.ndarray], repeats: int
) -> dict[str, float]:
    """Images per second of predict + count per predictor (median of runs taken in turns)."""
    calls = {name: partial(count_all, p, images) for name, p in predictors.items()}
    times = time_in_turns(calls, repeats)
    return {name: 1000 * len(images) / statistics.median(t) for name, t in times.items()}


def upscale_ms(
    models: dict[str, SRPredictor], plane: np.ndarray, scale: Fraction, repeats: int
) -> dict[str, float]:
    """Median milliseconds of upscaling one plane per model, in turns."""
    lr = torch.from_numpy(np.ascontiguousarray(plane, np.float32))[None, None]
    calls = {name: partial(model.upscale_unit, lr, scale) for name, model in models.items()}
    return {name: statistics.median(t) for name, t in time_in_turns(calls, repeats).items()}
