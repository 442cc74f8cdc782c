"""Input lists of the commands: files, folders and glob patterns, BBBC005 stains filtered."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from bioscope.data.bbbc005 import NAME_PATTERN
from bioscope.errors import InputError
from bioscope.io.folders import derived_files

GLOB_CHARS = frozenset("*?[")


def expand_inputs(
    items: Sequence[Path],
    suffixes: tuple[str, ...],
    stain: int | None = 2,
    skip_predicted: bool = True,
) -> tuple[list[Path], str | None]:
    """The files ``items`` stand for, in order, each once, and a note for the user (or ``None``).

    A folder stands for its files ending in ``suffixes`` (not those of its sub-folders, not
    Cellpose-style ``*_masks.*`` files, and with ``skip_predicted`` not the outputs ``cells
    predict`` or Cellpose wrote beside an image there,
    :func:`~bioscope.io.folders.derived_files`), a pattern with ``*``, ``?``
    or ``[`` for its matches; a file stands for itself (whatever its ending: the reader says if
    it cannot read it). BBBC005 file names (``..._w1.TIF`` cell bodies, ``..._w2.TIF`` nuclei)
    found in folders and patterns are kept for ``stain`` only (``None``: both), and the note
    says how many were left out.

    Raises:
        InputError: an item does not exist or matches nothing usable.
    """
    files: list[Path] = []
    skipped = derived = 0
    for item in items:
        if GLOB_CHARS & set(str(item)):
            found = [Path(p) for p in sorted(glob.glob(str(item))) if Path(p).is_file()]
            where = f"pattern {item}"
        elif item.is_dir():
            listed = [p for p in item.iterdir() if p.is_file()]
            images = [p for p in listed if p.name.lower().endswith(suffixes)]
            found = sorted(p for p in images if not p.stem.endswith("_masks"))
            outputs = derived_files(found) if skip_predicted else set()
            derived += len(outputs)
            found = [p for p in found if p not in outputs]
            where = f"folder {item}"
        elif item.exists():
            files.append(item)
            continue
        else:
            raise InputError(f"{item}: no such file or folder")
        kept = [p for p in found if _stain_ok(p, stain)]
        skipped += len(found) - len(kept)
        if not kept:
            folders = sorted(p.name for p in item.iterdir() if p.is_dir()) if item.is_dir() else []
            hint = f" (it holds folders {', '.join(folders[:4])}: pass one)" if folders else ""
            raise InputError(f"{where}: no {'/'.join(suffixes)} files to read{hint}")
        files += kept
    unique = list(dict.fromkeys(files))
    notes = [
        f"left out {skipped} BBBC005 cell-body (w1) image(s); pass --stain 1 or --stain all "
        "to count them"
        if skipped and stain == 2
        else f"left out {skipped} BBBC005 image(s) of the other stain"
        if skipped
        else "",
        f"left out {derived} file(s) that cells predict or Cellpose wrote beside their image "
        "(_prob, _mask, _labels, _overlay, _flows, ...); name them to read them"
        if derived
        else "",
    ]
    return unique, "; ".join(n for n in notes if n) or None


def _stain_ok(path: Path, stain: int | None) -> bool:
    match = NAME_PATTERN.fullmatch(path.name)
    return stain is None or match is None or int(match["stain"]) == stain


def parse_stain(text: str) -> int | None:
    """The ``--stain`` choice: ``"1"``, ``"2"`` or ``"all"`` (``None``)."""
    return None if text == "all" else int(text)
