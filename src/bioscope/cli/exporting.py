"""What ``cells export`` and ``sr export`` share: the checkpoint, output and format arguments,
and the line that says what was written."""

from __future__ import annotations

import argparse
from pathlib import Path

from bioscope.cli.args import add_out
from bioscope.inference.formats import FORMATS, sidecar_path


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The checkpoint to read, the file to write and its ``--format``."""
    parser.add_argument("checkpoint", type=Path, help="e.g. RUN/best.safetensors")
    add_out(parser, "file", "file to write (as --format says)", suffixes=tuple(FORMATS.values()))
    parser.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="safetensors",
        help="safetensors (weights, .safetensors; default), torchscript (.pt) or onnx (.onnx)",
    )


def print_exported(path: Path, fmt: str) -> None:
    """Say what an export wrote: the file, its size, and its JSON sidecar (network formats)."""
    sidecar = "" if fmt == "safetensors" else f" and {sidecar_path(path)}"
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB){sidecar}")
