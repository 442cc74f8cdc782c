"""Meta-Upscale, phase by phase (bioscope) against the official per-pixel method (weights for every
pixel of a ceil(s)H x ceil(s)W grid, features copied ceil(s)^2 times, unfold, multiply, mask):
forward time and peak memory on a 64-feature 128 x 128 LR map, 1 output channel.

    .venv/bin/python benchmarks/meta_upscale.py [--scales 1.5,2.5,4] [--repeats 3]

Each measurement runs in a fresh subprocess (peak resident memory is a high-water mark), the two
methods in turns. Writes benchmarks/results/meta_upscale.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path


def measure(method: str, scale: str, repeats: int) -> dict[str, float]:
    """Time and peak extra memory (MB) of one method, in this process."""
    import torch

    from bioscope.nn.meta_upscale import WeightPredictor, meta_upscale, official_meta_upscale

    torch.manual_seed(0)
    fn = {"bioscope": meta_upscale, "official": official_meta_upscale}[method]
    predictor = WeightPredictor(64, 1)
    features = torch.randn(1, 64, 128, 128)
    value = Fraction(scale)
    times = []
    with torch.inference_mode():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(repeats):
            start = time.perf_counter()
            fn(features, value, predictor)
            times.append(1000 * (time.perf_counter() - start))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"ms": statistics.median(times), "peak_mb": (after - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1.5,2.5,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single", nargs=2, metavar=("METHOD", "SCALE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    if args.single:
        print(json.dumps(measure(args.single[0], args.single[1], args.repeats)))
        return
    results = {}
    for scale in args.scales.split(","):
        runs = {}
        for method in ("official", "bioscope"):
            command = [
                sys.executable,
                __file__,
                "--single",
                method,
                scale,
                "--repeats",
                str(args.repeats),
            ]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            runs[method] = json.loads(output.strip().splitlines()[-1])
        runs["speedup"] = runs["official"]["ms"] / runs["bioscope"]["ms"]
        runs["memory_ratio"] = runs["official"]["peak_mb"] / max(runs["bioscope"]["peak_mb"], 1.0)
        results[scale] = runs
        official, ours = runs["official"], runs["bioscope"]
        print(
            f"x{scale}: official {official['ms']:.0f} ms / {official['peak_mb']:.0f} MB, "
            f"bioscope {ours['ms']:.0f} ms / {ours['peak_mb']:.0f} MB: "
            f"{runs['speedup']:.1f}x faster, {runs['memory_ratio']:.1f}x less memory"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "meta_upscale.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
