"""``bioscope reproduce ...``: the papers' experiments, re-run on built-in data."""

from __future__ import annotations

import argparse
from dataclasses import replace

from bioscope.cli.args import add_out, default_workers, positive_int
from bioscope.experiments.fft_unet import (
    QUICK,
    TABLE_HEADER,
    ReproduceConfig,
    reproduce_fft_unet,
    table_rows,
)
from bioscope.experiments.meta_srgan import QUICK as SR_QUICK
from bioscope.experiments.meta_srgan import TABLE_HEADER as SR_TABLE_HEADER
from bioscope.experiments.meta_srgan import SRReproduceConfig, reproduce_meta_srgan
from bioscope.experiments.meta_srgan import table_rows as sr_table_rows
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
    add_out(fft, "folder", "output folder (made if missing)")
    fft.add_argument("--quick", action="store_true", help="the small, fast set-up")
    fft.set_defaults(handler=run_fft_unet)
    meta = sub.add_parser(
        "meta-srgan",
        help="the MRI paper: Meta-SRGAN against EDSR-baseline x2, SRGAN x2 and bicubic",
        description="Train EDSR-baseline x2, SRGAN x2 and Meta-SRGAN with one recipe and budget "
        "(L1) on the built-in MRI training slices; score them, bicubic and the shipped "
        "Meta-SRGAN on the held-out test slices: the Table 1 analog at x2 and the scale sweep "
        "(Fig. 8). --quick: 5 epochs each, no pretraining (minutes on a CPU); full: the shipped "
        "model's recipe, photograph pretraining then MRI (about 1.5 h on a 2-core CPU).",
    )
    add_out(meta, "folder", "output folder (made if missing)")
    meta.add_argument("--quick", action="store_true", help="the small, fast set-up")
    meta.add_argument("--epochs", type=positive_int, help="MRI epochs per model (overrides)")
    meta.set_defaults(handler=run_meta_srgan)


def run_fft_unet(args: argparse.Namespace) -> int:
    """Handle ``bioscope reproduce fft-unet``."""
    config = QUICK if args.quick else ReproduceConfig()
    results = reproduce_fft_unet(args.out, config, workers=default_workers())
    print(markdown_table(TABLE_HEADER, table_rows(results)))
    print(f"wall time {results['wall_seconds']:.0f} s; figures and tables in {args.out}")
    return 0


def run_meta_srgan(args: argparse.Namespace) -> int:
    """Handle ``bioscope reproduce meta-srgan``."""
    config = SR_QUICK if args.quick else SRReproduceConfig()
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    results = reproduce_meta_srgan(args.out, config)
    for kind, summary in results["by_degradation"].items():
        print(f"x2, LR made by {kind}:")
        print(markdown_table(SR_TABLE_HEADER, sr_table_rows(summary)))
    print(f"wall time {results['wall_seconds']:.0f} s; tables and figures in {args.out}")
    return 0
