"""``bioscope reproduce ...``: the papers' experiments, re-run on built-in data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bioscope.cli.args import default_workers
from bioscope.experiments.fft_unet import (
    QUICK,
    TABLE_HEADER,
    ReproduceConfig,
    reproduce_fft_unet,
    table_rows,
)
from bioscope.report.tables import markdown_table


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``reproduce`` and its experiments."""
    reproduce = commands.add_parser("reproduce", help="re-run a paper's experiment")
    sub = reproduce.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    fft = sub.add_parser(
        "fft-unet",
        help="the cells paper: U-Net with and without the Fourier input block",
        description="Train unet and fft-unet (the paper's literal block and bioscope's) on the "
        "same simulated BBBC005-like fields with the same seeds and budget; write the Table I "
        "analog and Figs. 5, 7, 8, 9. --quick: 48 fields at 128 x 128, 12 epochs (minutes on a "
        "CPU); full: 600 fields at 256 x 256, 100 epochs (hours on a CPU).",
    )
    fft.add_argument("--out", type=Path, required=True, help="output folder")
    fft.add_argument("--quick", action="store_true", help="the small, fast set-up")
    fft.set_defaults(handler=run_fft_unet)


def run_fft_unet(args: argparse.Namespace) -> int:
    """Handle ``bioscope reproduce fft-unet``."""
    config = QUICK if args.quick else ReproduceConfig()
    results = reproduce_fft_unet(args.out, config, workers=default_workers())
    print(markdown_table(TABLE_HEADER, table_rows(results)))
    print(f"wall time {results['wall_seconds']:.0f} s; figures and tables in {args.out}")
    return 0
