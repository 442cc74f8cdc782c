"""Training efficiency: achieved FLOP/s of a training step as a fraction of a large matmul's."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from bioscope.train.timing import step_function


def matmul_flops_per_s(n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of an ``n x n`` fp32 matmul (median of ``repeats`` after a warm-up)."""
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=generator) for _ in range(2))
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times)


def step_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call of ``step`` (e.g. :func:`~bioscope.train.timing.step_function`'s
    training step), counted by ``torch.utils.flop_counter``."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def flops_fraction(model: torch.nn.Module, size: int, batch: int, repeats: int) -> dict[str, float]:
    """Achieved FLOP/s of ``model``'s training step over the matmul's, measured in turns."""
    step = step_function(model, size, batch)
    flops = step_flops(step)
    step()
    steps, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        steps.append(time.perf_counter() - start)
        peaks.append(matmul_flops_per_s(repeats=3))
    achieved = flops / statistics.median(steps)
    peak = statistics.median(peaks)
    return {
        "step_gflop": flops / 1e9,
        "step_ms": 1000 * statistics.median(steps),
        "achieved_gflops": achieved / 1e9,
        "matmul_gflops": peak / 1e9,
        "fraction": achieved / peak,
    }
