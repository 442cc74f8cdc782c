"""``bioscope bench``: every speed figure of the README, measured in one run, as ratios.

Keys of ``bench.json``: ``fourier_overhead_ratio`` (train-step time fft-unet / unet, batch 8,
256 x 256), ``meta_upscale_speedup`` and ``meta_upscale_memory_ratio`` (scale -> naive / ours),
``train_flops_fraction_of_peak`` (unet training step FLOP/s over a 2048 x 2048 fp32 matmul's),
``count_images_per_s`` (predict + count of 696 x 520 images, batched as ``cells count`` runs,
through the shipped model's predictor) and ``count_batch_speedup`` (its ratio to one image per
network call, measured in turns), ``upscale_ms`` and ``bicubic_upscale_ms``
(a 256 x 256 slice at x2.5, shipped Meta-SRGAN and bicubic), with the raw numbers under
``details``.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bioscope.bench import meta_upscale
from bioscope.bench.flops import flops_fraction
from bioscope.bench.throughput import count_images_per_s, upscale_ms
from bioscope.data.bbbc005 import index_bbbc005
from bioscope.data.superres import builtin_slices
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
from bioscope.inference.cells import CellPredictor
from bioscope.inference.superres import SRPredictor
from bioscope.io import read_image
from bioscope.models import create_model
from bioscope.runtime import tune_allocator
from bioscope.train.timing import interleaved_step_times, median_ratio

#: The targets of the speed issue; ``bench_table`` marks each figure against its own.
TARGETS = {
    "fourier_overhead_ratio": ("<=", 1.05),
    "meta_upscale_speedup": (">=", 10.0),
    "meta_upscale_memory_ratio": (">=", 5.0),
    "train_flops_fraction_of_peak": (">=", 0.6),
    # the count pipeline before the predictor (one image per call): 2.99 images/s here
    "count_images_per_s": (">=", 2.99),
    "count_batch_speedup": (">=", 1.0),
}


@dataclass(frozen=True)
class BenchConfig:
    """Repeats per measurement (medians are taken over them)."""

    step_repeats: int = 7
    upscale_repeats: int = 5
    count_images: int = 8
    count_repeats: int = 2
    size: int = 256
    batch: int = 8


QUICK = BenchConfig(step_repeats=3, upscale_repeats=3, count_images=8, count_repeats=1)


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Take every measurement; return the ``bench.json`` dictionary."""
    start = time.perf_counter()
    torch.manual_seed(0)
    log("train steps: unet against fft-unet, in turns ...")
    nets = {name: create_model(name) for name in ("unet", "fft-unet")}
    steps = interleaved_step_times(nets, config.size, config.batch, config.step_repeats)
    log("training FLOP/s against a large matmul ...")
    flops = flops_fraction(nets["unet"], config.size, config.batch, config.step_repeats)
    log("Meta-Upscale against the per-pixel method ...")
    scales = [Fraction(3, 2), Fraction(5, 2), Fraction(4), Fraction(399, 100)]
    upscaling = meta_upscale.compare(scales, config.upscale_repeats)
    log("count pipeline and sr upscale ...")
    count_rates = count_images_per_s(
        {
            "batched": CellPredictor.from_checkpoint(device="cpu", batch_size=4),
            "single": CellPredictor.from_checkpoint(device="cpu", batch_size=1),
        },
        _cell_images(config.count_images),
        config.count_repeats,
    )
    plane = np.zeros((256, 256), np.float32)
    slice_ = builtin_slices()["test"][0][:256, :256]
    plane[: slice_.shape[0], : slice_.shape[1]] = slice_
    sr_models = {
        "meta-srgan": SRPredictor.from_checkpoint(device="cpu"),
        "bicubic": SRPredictor.by_name("bicubic", device="cpu"),
    }
    upscale = upscale_ms(sr_models, plane, Fraction(5, 2), config.upscale_repeats)
    return {
        "fourier_overhead_ratio": median_ratio(steps, "fft-unet", "unet"),
        "meta_upscale_speedup": {k: v["speedup"] for k, v in upscaling.items()},
        "meta_upscale_memory_ratio": {k: v["memory_ratio"] for k, v in upscaling.items()},
        "train_flops_fraction_of_peak": flops["fraction"],
        "count_images_per_s": count_rates["batched"],
        "count_batch_speedup": count_rates["batched"] / count_rates["single"],
        "upscale_ms": upscale["meta-srgan"],
        "bicubic_upscale_ms": upscale["bicubic"],
        "details": {
            "train_ms_per_step": {k: statistics.median(v) for k, v in steps.items()},
            "train_flops": flops,
            "meta_upscale": upscaling,
            "count_images_per_s": count_rates,
            "config": asdict(config),
            "threads": torch.get_num_threads(),
            "allocator_tuned": tune_allocator(),  # idempotent: says whether the CLI's took
            "torch": torch.__version__,
            "machine": f"{platform.machine()} {platform.processor()}".strip(),
            "wall_seconds": time.perf_counter() - start,
        },
    }


def bench_table(result: dict[str, Any]) -> list[list[str]]:
    """Rows ``[figure, value, target, met]`` of the headline numbers."""
    rows = []
    for key, value in result.items():
        if key == "details":
            continue
        values = value if isinstance(value, dict) else {"": value}
        for sub, number in values.items():
            target = TARGETS.get(key)
            met = ""
            if target is not None:
                op, bound = target
                met = "yes" if (number <= bound if op == "<=" else number >= bound) else "NO"
            name = f"{key}[x{sub}]" if sub else key
            rows.append([name, f"{number:.3g}", f"{target[0]} {target[1]}" if target else "", met])
    return rows


def _cell_images(count: int) -> list[np.ndarray]:
    """``count`` simulated 696 x 520 nuclei images across blur levels."""
    plan = SimulationPlan(counts=(48, 100), blurs=(1, 14, 29, 48), sites=1, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        simulate_bbbc005(tmp, plan)
        records = index_bbbc005(Path(tmp), stains=[2])
        return [read_image(r.image) for r in records[:count]]
