"""Exported files against PyTorch on the CPU: sizes, and time per call taken in turns.

``python -c "from bioscope.bench.formats import export_speed; print(export_speed())"`` exports the
shipped models (cells; SR at x2) to a temporary folder, then runs PyTorch, the TorchScript file
and the ONNX file (onnxruntime, CPU) on the same input in turns, ``repeats`` rounds, each on
``threads`` threads, and reports medians in ms and ratios to PyTorch. Needs the ``export`` extra.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from bioscope.data.intensity import mri_window
from bioscope.inference.cells import CellPredictor
from bioscope.inference.formats import export_cell_model, export_sr_model
from bioscope.inference.formats.graphs import cell_graph
from bioscope.inference.superres import SRPredictor
from bioscope.io.images import to_grey
from bioscope.models.checkpoint import shipped_weights
from bioscope.samples import mri_slice, nuclei_field


def _runners(
    torch_fn: Callable[[torch.Tensor], torch.Tensor], files: dict[str, Path], threads: int
) -> dict[str, Callable[[torch.Tensor], object]]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        str(files["onnx"]), options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    script = torch.jit.load(str(files["torchscript"]))
    return {
        "pytorch": torch_fn,
        "torchscript": script,
        "onnxruntime": lambda x: session.run(None, {name: x.numpy()}),
    }


def interleaved_ms(
    runners: dict[str, Callable[[torch.Tensor], object]], x: torch.Tensor, repeats: int
) -> dict[str, float]:
    """Median ms per call of each runner on ``x``, the runners taken in turns (one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    with torch.no_grad():
        for round_ in range(repeats + 1):
            for name, run in runners.items():
                start = time.perf_counter()
                run(x)
                if round_:
                    times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def export_speed(repeats: int = 10, threads: int = 1) -> dict[str, dict[str, float]]:
    """Sizes (MB) and CPU times (ms, ratios to PyTorch) of the shipped models' exported files:
    cells on the 520 x 696 sample field, SR x2 on the 233 x 197 sample slice."""
    torch.set_num_threads(threads)
    cells = CellPredictor.from_checkpoint(device="cpu")
    sr = SRPredictor.from_checkpoint(device="cpu")
    image, _ = nuclei_field()
    unit = cells.spec.normalization.normalize(to_grey(image)).image
    data = mri_slice()
    lo, hi = mri_window(data, *sr.spec.normalization)
    inputs = {
        "cells": torch.from_numpy(unit)[None, None],
        "sr_x2": torch.from_numpy(((data - lo) / (hi - lo)).astype(np.float32))[None, None],
    }
    graph = cell_graph(cells.net)
    torch_fns = {"cells": graph, "sr_x2": lambda x: sr.net(x, Fraction(2))}
    result: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for key, suffix_fmt in (("cells", None), ("sr_x2", "2")):
            files = {}
            for fmt, suffix in (("torchscript", ".pt"), ("onnx", ".onnx")):
                path = Path(scratch) / f"{key}{suffix}"
                if suffix_fmt is None:
                    files[fmt] = export_cell_model(shipped_weights("cells"), path, fmt)
                else:
                    files[fmt] = export_sr_model(shipped_weights("superres"), path, fmt, "2")
            runners = _runners(torch_fns[key], files, threads)
            ms = interleaved_ms(runners, inputs[key], repeats)
            result[key] = {
                **{f"{name}_ms": round(value, 1) for name, value in ms.items()},
                **{
                    f"{name}_ratio": round(value / ms["pytorch"], 2)
                    for name, value in ms.items()
                    if name != "pytorch"
                },
                **{f"{fmt}_mb": round(p.stat().st_size / 1e6, 2) for fmt, p in files.items()},
            }
    return result
