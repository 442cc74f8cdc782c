"""Train-step time of fft-unet against unet, A/B interleaved in one process.

    .venv/bin/python benchmarks/fourier_overhead.py [--size 256] [--batch 8] [--repeats 7]

Writes benchmarks/results/fourier_overhead.json and prints the ratio fft-unet / unet (medians of
interleaved repeats). The paper claims the FFT makes steps faster (600-700 -> 400-500 ms/step).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from pathlib import Path

import torch

from bioscope.models import create_model
from bioscope.train.timing import interleaved_step_times, median_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    torch.manual_seed(0)
    models = {name: create_model(name) for name in ("unet", "fft-unet")}
    times = interleaved_step_times(models, args.size, args.batch, args.repeats)
    median = {name: statistics.median(t) for name, t in times.items()}
    result = {
        "fourier_overhead_ratio": median_ratio(times, "fft-unet", "unet"),
        "ms_per_step_median": median,
        "ms_per_step_all": times,
        "size": args.size,
        "batch": args.batch,
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fourier_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"unet {median['unet']:.0f} ms/step, fft-unet {median['fft-unet']:.0f} ms/step, "
        f"ratio {result['fourier_overhead_ratio']:.3f}"
    )


if __name__ == "__main__":
    main()
