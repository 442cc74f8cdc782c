"""``bioscope cells ...``: cell data, segmentation and counting."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from bioscope.cli.args import default_workers, int_list, positive_int
from bioscope.data.bbbc005 import (
    BBBC005_BLURS,
    BBBC005_COUNTS,
    BBBC005_SITES,
    IMAGES_DIR,
    MASKS_DIR,
    TRUTH_DIR,
)
from bioscope.data.synthetic import SimulationPlan, SimulationSummary, simulate_bbbc005


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``cells`` and its sub-commands."""
    cells = commands.add_parser("cells", help="cell segmentation and counting")
    sub = cells.add_subparsers(dest="cells_command", required=True, metavar="COMMAND")
    sim = sub.add_parser(
        "simulate",
        help="write a simulated BBBC005-layout folder",
        description="Simulate SIMCEP-style fluorescence fields laid out exactly like BBBC005, "
        "with F1 masks, instance labels and true counts.",
    )
    sim.add_argument("--out", type=Path, required=True, help="destination folder")
    sim.add_argument(
        "--counts",
        type=int_list,
        default=BBBC005_COUNTS,
        help="cells per field (default: BBBC005's 24 counts)",
    )
    sim.add_argument(
        "--blur",
        type=int_list,
        default=BBBC005_BLURS,
        help="focus-blur diameters F (default: BBBC005's 16 levels)",
    )
    sim.add_argument(
        "--sites",
        type=positive_int,
        default=BBBC005_SITES,
        help=f"fields per count (default {BBBC005_SITES})",
    )
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        help="worker processes (default: one per core)",
    )
    sim.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells simulate``."""
    plan = SimulationPlan(counts=args.counts, blurs=args.blur, sites=args.sites, seed=args.seed)
    summary = simulate(args.out, plan, args.workers)
    print_summary(summary)
    return 0


def simulate(out: Path, plan: SimulationPlan, workers: int) -> SimulationSummary:
    """Run the simulator with a progress bar on a terminal."""
    with tqdm(total=plan.n_images, unit="img", desc="simulate", disable=None) as bar:
        return simulate_bbbc005(out, plan, workers=workers, progress=bar.update)


def print_summary(summary: SimulationSummary) -> None:
    """Say what a simulation wrote, and where."""
    root = summary.root
    print(f"wrote {summary.images} images to {root / IMAGES_DIR}")
    print(f"wrote {summary.masks} F1 ground-truth masks (0/255) to {root / MASKS_DIR}")
    print(f"wrote {summary.labels} instance-label images and cells.csv to {root / TRUTH_DIR}")
    print(
        f"cells placed: {summary.placed_cells} of {summary.requested_cells} requested "
        f"({summary.short_fields} fields fell short of their requested count)"
    )
