"""``bioscope bench``: the speed figures, each a ratio measured in one run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bioscope.bench.suite import QUICK, BenchConfig, bench_table, run_bench
from bioscope.cli.args import add_out
from bioscope.io import atomic_write_text
from bioscope.report.tables import markdown_table


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``bench``."""
    bench = commands.add_parser(
        "bench",
        help="measure speed: Fourier overhead, Meta-Upscale, training FLOP/s, throughput",
        description="Train-step time fft-unet / unet (in turns), Meta-Upscale against the "
        "per-pixel method (time in turns, peak memory in fresh processes), a unet training "
        "step's FLOP/s as a fraction of a large matmul's, count pipeline images/s and sr upscale "
        "ms against bicubic. Writes bench.json and prints a table.",
    )
    bench.add_argument("--quick", action="store_true", help="fewer repeats (about 2 minutes)")
    add_out(bench, "folder", "folder for bench.json", default=Path("bioscope-bench"))
    bench.set_defaults(handler=handle_bench)


def handle_bench(args: argparse.Namespace) -> int:
    """Handle ``bioscope bench``."""
    result = run_bench(QUICK if args.quick else BenchConfig())
    atomic_write_text(args.out / "bench.json", json.dumps(result, indent=2) + "\n")
    print(markdown_table(["figure", "value", "target", "met"], bench_table(result)))
    wall = result["details"]["wall_seconds"]
    print(f"wrote {args.out / 'bench.json'} ({wall:.0f} s)")
    return 0
