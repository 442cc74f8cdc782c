"""Folders given as data: whether a path is a folder, and which of its files are images rather
than what tools wrote beside them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bioscope.errors import InputError

#: What ``cells predict`` writes for an image ``<stem>``: ``<stem>_<kind><ending>``.
PREDICT_OUTPUTS = {"prob": ".tif", "mask": ".tif", "labels": ".tif", "overlay": ".png"}
#: What Cellpose writes beside an image ``<stem>`` besides masks: ``<stem>_<kind>.<image
#: ending>``. Its masks, ``_cp_masks``, end in ``_masks`` as truth masks do.
CELLPOSE_OUTPUTS = ("flows", "cp_output", "outlines")


def check_folder(path: Path, expected: str) -> None:
    """Raise :class:`InputError` unless ``path`` is a folder, saying whether it is missing or
    a file and what it should be (``expected``, e.g. "a BBBC005-layout folder")."""
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise InputError(f"{path}: {what} (expected {expected})")


def derived_files(files: Iterable[Path]) -> set[Path]:
    """The files among ``files`` named as the outputs of another of them: what ``cells
    predict`` (:data:`PREDICT_OUTPUTS`) or Cellpose (:data:`CELLPOSE_OUTPUTS`) wrote beside it.

    Example:
        >>> names = ["a.tif", "a_mask.tif", "a_flows.tif", "b_mask.tif"]
        >>> sorted(p.name for p in derived_files(Path(n) for n in names))
        ['a_flows.tif', 'a_mask.tif']
    """
    files = list(files)
    stems = {p.stem for p in files}
    kinds = [(kind, (ending,)) for kind, ending in PREDICT_OUTPUTS.items()]
    kinds += [(kind, (".tif", ".tiff", ".png")) for kind in CELLPOSE_OUTPUTS]
    return {
        p
        for p in files
        for kind, endings in kinds
        if p.stem.endswith(f"_{kind}")
        and p.suffix.lower() in endings
        and p.stem[: -len(kind) - 1] in stems
    }
