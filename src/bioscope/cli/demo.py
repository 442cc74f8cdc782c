"""``bioscope demo``: the main job on built-in data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bioscope.cli.args import add_out, default_workers
from bioscope.experiments.demo import DEMO_SCALES, run_demo


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        help="run the main job on built-in data and shipped weights",
        description="Simulate 12 BBBC005-like fields (3 counts x 4 blur levels), segment and "
        "count their nuclei against the truth; super-resolve held-out MRI template slices at "
        "x1.5, x2.5 and x4 against bicubic. Writes report.html and summary.json.",
    )
    add_out(
        demo,
        "folder",
        "destination folder (default ./bioscope-demo)",
        default=Path("bioscope-demo"),
    )
    demo.set_defaults(handler=handle_demo)


def handle_demo(args: argparse.Namespace) -> int:
    """Handle ``bioscope demo``."""
    summary = run_demo(args.out, default_workers())
    cells = summary["cells"]
    print(f"cells: {cells['images']} images, foreground IoU at F1 {cells['foreground_iou']:.3f}")
    for method, scores in cells["methods"].items():
        print(f"  count MAE ({method}): {scores['count_mae']:.2f}")
    for scale in DEMO_SCALES:
        per = summary["superres"]["scales"][str(float(scale))]
        print(
            f"sr x{float(scale):g}: meta-srgan {per['meta-srgan']['psnr']:.2f} dB / "
            f"{per['meta-srgan']['ssim']:.4f}, bicubic {per['bicubic']['psnr']:.2f} dB / "
            f"{per['bicubic']['ssim']:.4f}"
        )
    print(f"report: {args.out / 'report.html'} ({summary['wall_seconds']:.0f} s)")
    return 0
