"""Folders given as data: one check that says whether a path is missing or a file."""

from __future__ import annotations

from pathlib import Path

from bioscope.errors import InputError


def check_folder(path: Path, expected: str) -> None:
    """Raise :class:`InputError` unless ``path`` is a folder, saying whether it is missing or
    a file and what it should be (``expected``, e.g. "a BBBC005-layout folder")."""
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise InputError(f"{path}: {what} (expected {expected})")
