"""Entry point of the ``bioscope`` console command."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from bioscope import __version__
from bioscope.cli import bench, cells, demo, reproduce, superres
from bioscope.cli.args import check_output
from bioscope.errors import BioscopeError, BioscopeWarning
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
    warnings.showwarning = _show_warning
    try:
        check_output(args)
        return args.handler(args)
    except (BioscopeError, OSError) as exc:
        print(f"bioscope: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bioscope: interrupted", file=sys.stderr)
        return 130


_DEFAULT_SHOW = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """bioscope's warnings as one ``bioscope: warning: ...`` line; others as Python shows them."""
    if issubclass(category, BioscopeWarning):
        print(f"bioscope: warning: {message}", file=sys.stderr)
    else:
        _DEFAULT_SHOW(message, category, filename, lineno, file, line)


if __name__ == "__main__":
    sys.exit(main())
