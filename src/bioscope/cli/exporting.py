"""What ``cells export`` and ``sr export`` share: the checkpoint, output and format arguments,
and the line that says what was written.

``--format`` takes the exporters' formats (:data:`~bioscope.inference.formats.FORMATS`, among
them ``bioimageio``, a bioimage.io model package): one output, ``-o``, whatever the format.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bioscope.cli.args import add_out
from bioscope.inference.formats import BIOIMAGEIO, FORMATS, sidecar_path
from bioscope.inference.formats.choices import BIOIMAGEIO_HINT, ONNX_HINT


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The checkpoint to read, the file to write and its ``--format``."""
    parser.add_argument("checkpoint", type=Path, help="e.g. RUN/best.safetensors")
    suffixes = tuple(FORMATS.values())
    add_out(parser, "file", "file to write (as --format says)", suffixes=suffixes)
    parser.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="safetensors",
        help="safetensors (weights; default), torchscript, onnx (needs "
        f"{ONNX_HINT}) or bioimageio (a bioimage.io model package; needs {BIOIMAGEIO_HINT}); "
        "file endings: " + ", ".join(f"{k} {v}" for k, v in FORMATS.items()),
    )


def print_exported(path: Path, fmt: str) -> None:
    """Say what an export wrote: the file, its size, and its JSON sidecar (network formats) or
    how to test it (bioimage.io packages)."""
    if fmt == BIOIMAGEIO:
        extra = f"; test it with: bioimageio test {path}"
    else:
        extra = "" if fmt == "safetensors" else f" and {sidecar_path(path)}"
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB){extra}")
