"""``bioscope demo``: the main job on built-in data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bioscope.cli.args import default_workers
from bioscope.cli.cells import print_summary, simulate
from bioscope.data.synthetic import SimulationPlan

DEMO_PLAN = SimulationPlan(counts=(1, 50, 100), blurs=(1, 23, 48), sites=2, seed=0)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        help="run the main job on built-in data",
        description="Simulate a small BBBC005-like folder (3 counts x 3 blur levels x 2 sites) "
        "and report what was written.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("bioscope-demo"),
        help="destination folder (default ./bioscope-demo)",
    )
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Handle ``bioscope demo``."""
    summary = simulate(args.out / "cells", DEMO_PLAN, default_workers())
    print_summary(summary)
    return 0
