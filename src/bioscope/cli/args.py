"""Argument types shared by the sub-commands."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bioscope.errors import InputError


def int_list(text: str) -> tuple[int, ...]:
    """Parse ``"1,50,100"`` into ``(1, 50, 100)`` for argparse."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,50,100, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def non_negative_int(text: str) -> int:
    """Parse an integer >= 0 for argparse."""
    return _int_from(text, 0, "an integer >= 0")


def positive_int(text: str) -> int:
    """Parse an integer >= 1 for argparse."""
    return _int_from(text, 1, "a positive integer")


def _int_from(text: str, least: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def add_out(
    parser: argparse.ArgumentParser,
    kind: str,
    help: str,
    suffixes: tuple[str, ...] = (),
    default: Path | None = None,
) -> None:
    """Add ``-o/--out`` (the one spelling of every command's output), checked by
    :func:`check_output` before the command computes anything.

    Args:
        parser: the sub-command.
        kind: ``"folder"`` (made if missing) or ``"file"``.
        help: what is written there.
        suffixes: the file endings a ``"file"`` output may have (any when empty).
        default: the default path; without one the option is required.
    """
    parser.add_argument(
        "-o", "--out", type=Path, required=default is None, default=default, help=help
    )
    parser.set_defaults(out_kind=kind, out_suffixes=suffixes)


def check_output(args: argparse.Namespace) -> None:
    """Refuse an output that cannot be written, before any computation: a folder output that is
    a file, a file output that is a folder or has the wrong ending, a missing parent folder, a
    folder where no file can be made.

    Raises:
        InputError: naming the path and the problem.
    """
    kind = getattr(args, "out_kind", None)
    path: Path | None = getattr(args, "out", None)
    if kind is None or path is None:
        return
    if kind == "folder" and path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a folder (--out needs a folder here)")
    if kind == "file":
        if path.is_dir():
            raise InputError(f"{path}: is a folder (--out needs a file name here)")
        suffixes = args.out_suffixes
        if suffixes and not path.name.lower().endswith(suffixes):
            raise InputError(f"{path}: --out must end with {' or '.join(suffixes)}")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise InputError(f"{path}: the folder {parent} does not exist")
    folder = path if path.is_dir() else parent  # where the first file or folder will be made
    try:  # a read-only disk or a locked folder, found now rather than after the computing
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None


def default_workers() -> int:
    """One worker per available CPU core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing or malformed file is an :class:`InputError`."""
    if not path.is_file():
        raise InputError(f"{path}: no such configuration file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a YAML mapping at the top level")
    return data


def run_config(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The raw configuration of a training command and where it came from: ``--config``, else,
    when resuming, the run's own ``config.yaml``, else nothing (the built-in defaults)."""
    path = args.config
    if path is None and args.resume and (args.out / "config.yaml").is_file():
        path = args.out / "config.yaml"
    return (load_yaml(path), str(path)) if path else ({}, "config")
