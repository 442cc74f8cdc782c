"""Entry point of the ``bioscope`` console command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bioscope import __version__
from bioscope.cli import bench, cells, demo, reproduce, superres
from bioscope.errors import BioscopeError
from bioscope.runtime import tune_allocator


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-parser per command group."""
    parser = argparse.ArgumentParser(
        prog="bioscope",
        description="Cell segmentation and counting (Fourier-input U-Net) and arbitrary-scale "
        "MRI super-resolution (Meta-SRGAN).",
    )
    parser.add_argument("--version", action="version", version=f"bioscope {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo.add_parser(commands)
    cells.add_parser(commands)
    superres.add_parser(commands)
    reproduce.add_parser(commands)
    bench.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 bad input, 2 bad usage)."""
    args = build_parser().parse_args(argv)
    tune_allocator()
    try:
        return args.handler(args)
    except (BioscopeError, OSError) as exc:
        print(f"bioscope: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bioscope: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
