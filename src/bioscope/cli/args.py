"""Argument types shared by the sub-commands."""

from __future__ import annotations

import argparse
import os
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


def positive_int(text: str) -> int:
    """Parse an integer >= 1 for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def output_folder(text: str) -> Path:
    """A folder to write into (made if missing) for argparse: refused up front when a file of
    that name exists, before any long computation."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return path


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
