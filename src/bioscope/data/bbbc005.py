"""The BBBC005 layout: file names, folder index, image/mask pairing and a field-level split.

BBBC005 (Broad Bioimage Benchmark Collection) names every image
``SIMCEPImages_<well>_C<count>_F<blur>_s<site>_w<stain>.TIF``. The well's row letter is the blur
level's index and its column the count's index; ``w1`` is the cell-body stain, ``w2`` the nuclei.
Ground-truth masks (0/255) exist for F1 only, under the same names, in a ``*ground_truth*`` folder,
flat or nested one level deeper as the zip unpacks. The simulator's extra truth lives in ``truth/``:
``<stem>_labels.tif`` instance labels and ``cells.csv`` with the placed (true) count.

The count in a name is metadata for evaluation: nothing that predicts may read it. A *field* is a
(count, site) pair: all blur levels and both stains of a field show the same cells, so splits are
made by field, never by file.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bioscope.data.split import split_keys
from bioscope.errors import InputError
from bioscope.io.folders import check_folder

#: round(linspace(1, 100, 24)): the 24 nominal cell counts.
BBBC005_COUNTS = (
    1,
    5,
    10,
    14,
    18,
    23,
    27,
    31,
    35,
    40,
    44,
    48,
    53,
    57,
    61,
    66,
    70,
    74,
    78,
    83,
    87,
    91,
    96,
    100,
)
#: round(linspace(1, 48, 16)): the 16 focus-blur diameters F.
BBBC005_BLURS = (1, 4, 7, 10, 14, 17, 20, 23, 26, 29, 32, 35, 39, 42, 45, 48)
BBBC005_SITES = 25
IMAGES_DIR = "BBBC005_v1_images"
MASKS_DIR = "BBBC005_v1_ground_truth"
TRUTH_DIR = "truth"
CELLS_CSV = "cells.csv"

NAME_PATTERN = re.compile(
    r"SIMCEPImages_(?P<well>[A-P]\d{2})_C(?P<count>\d+)_F(?P<blur>\d+)"
    r"_s(?P<site>\d{2})_w(?P<stain>[12])\.(?:TIF|tif|TIFF|tiff)"
)
_TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True, order=True)
class Bbbc005Name:
    """The metadata in one BBBC005 file name."""

    count: int
    site: int
    blur: int
    stain: int
    well: str

    @property
    def field(self) -> str:
        """The field id ``C<count>_s<site>``: same cells at every blur level and stain."""
        return f"C{self.count}_s{self.site:02d}"

    @property
    def filename(self) -> str:
        """The canonical BBBC005 file name."""
        return (
            f"SIMCEPImages_{self.well}_C{self.count}_F{self.blur}"
            f"_s{self.site:02d}_w{self.stain}.TIF"
        )


def parse_name(name: str) -> Bbbc005Name:
    """Parse a BBBC005 file name.

    Example:
        >>> parse_name("SIMCEPImages_A05_C18_F1_s01_w2.TIF").field
        'C18_s01'

    Raises:
        InputError: the name does not fit the BBBC005 scheme.
    """
    match = NAME_PATTERN.fullmatch(Path(name).name)
    if match is None:
        raise InputError(
            f"{name!r} is not a BBBC005 file name "
            "(expected SIMCEPImages_<well>_C<count>_F<blur>_s<site>_w<1|2>.TIF, "
            "e.g. SIMCEPImages_A05_C18_F1_s01_w2.TIF)"
        )
    return Bbbc005Name(
        count=int(match["count"]),
        site=int(match["site"]),
        blur=int(match["blur"]),
        stain=int(match["stain"]),
        well=match["well"],
    )


def well_name(blur_index: int, count_index: int) -> str:
    """The well of the ``blur_index``-th blur level (row A..P) and ``count_index``-th count."""
    if not 0 <= blur_index < 16:
        raise InputError(f"BBBC005 has at most 16 blur levels (rows A-P), got index {blur_index}")
    if not 0 <= count_index < 99:
        raise InputError(f"BBBC005 well columns run 01..99, got count index {count_index}")
    return f"{chr(ord('A') + blur_index)}{count_index + 1:02d}"


@dataclass(frozen=True)
class Bbbc005Record:
    """One image of a BBBC005-layout folder and what belongs to it.

    Attributes:
        name: metadata parsed from the file name.
        image: path of the image.
        mask: path of the binary ground-truth mask, if there is one (F1 only in BBBC005).
        labels: path of the instance labels (simulator output only).
        placed_count: the true count from ``truth/cells.csv`` (simulator output only).
    """

    name: Bbbc005Name
    image: Path
    mask: Path | None = None
    labels: Path | None = None
    placed_count: int | None = None

    @property
    def true_count(self) -> int:
        """The count to evaluate against: the placed count where known, else the name's."""
        return self.name.count if self.placed_count is None else self.placed_count


def index_bbbc005(
    root: str | os.PathLike[str],
    *,
    stains: Iterable[int] | None = None,
    blurs: Iterable[int] | None = None,
    counts: Iterable[int] | None = None,
) -> list[Bbbc005Record]:
    """Index a BBBC005-layout folder (the real download or the simulator's output).

    Images are the TIFFs outside any ``*ground_truth*`` and ``truth`` folder; masks are found in
    ``*ground_truth*`` folders at any depth (flat or nested layout); stray files (``.htaccess``,
    ``.DS_Store``, ``Thumbs.db``) are ignored.

    Args:
        root: the folder that holds ``BBBC005_v1_images`` (and optionally the ground truth).
        stains: keep only these stains (1 = cell body, 2 = nuclei).
        blurs: keep only these blur levels F.
        counts: keep only these (nominal) counts.

    Returns:
        Records sorted by (count, site, blur, stain).

    Raises:
        InputError: the folder is missing or holds no BBBC005 image, a TIFF has a name that does
            not fit the scheme, or two files share one name.
    """
    root = Path(root)
    check_folder(root, "a BBBC005-layout folder")
    images, masks = _scan(root)
    if not images:
        raise InputError(
            f"{root}: no BBBC005 images found (expected {IMAGES_DIR}/SIMCEPImages_*.TIF)"
        )
    placed = _read_placed_counts(root / TRUTH_DIR / CELLS_CSV)
    keep = _filter(stains, blurs, counts)
    records = []
    for filename, path in images.items():
        name = parse_name(filename)
        if not keep(name):
            continue
        labels = root / TRUTH_DIR / f"{Path(filename).stem}_labels.tif"
        records.append(
            Bbbc005Record(
                name=name,
                image=path,
                mask=masks.get(filename),
                labels=labels if labels.is_file() else None,
                placed_count=placed.get(filename),
            )
        )
    return sorted(records, key=lambda r: r.name)


def split_by_field(
    records: Sequence[Bbbc005Record],
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> dict[str, list[Bbbc005Record]]:
    """Split records into ``train``/``val``/``test`` by field, deterministically.

    The sorted unique fields are permuted with ``seed``; the first share goes to test, the next to
    validation, the rest to training. With three or more fields, validation and test each get at
    least one. No field is ever on two sides.

    Example:
        >>> recs = [Bbbc005Record(Bbbc005Name(c, s, 1, 2, "A01"), Path("x"))
        ...         for c in (1, 5) for s in range(1, 6)]
        >>> {k: len(v) for k, v in split_by_field(recs).items()}
        {'train': 6, 'val': 2, 'test': 2}
    """
    fields = sorted({r.name.field for r in records}, key=_field_key)
    side = split_keys(fields, fractions, seed)
    out: dict[str, list[Bbbc005Record]] = {"train": [], "val": [], "test": []}
    for record in records:
        out[side[record.name.field]].append(record)
    return out


def _field_key(field: str) -> tuple[int, int]:
    count, site = field[1:].split("_s")
    return int(count), int(site)


def _filter(stains, blurs, counts):
    sets = [None if v is None else set(v) for v in (stains, blurs, counts)]

    def keep(name: Bbbc005Name) -> bool:
        values = (name.stain, name.blur, name.count)
        return all(s is None or v in s for s, v in zip(sets, values, strict=True))

    return keep


def _scan(root: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _TIFF_SUFFIXES:
            continue
        parts = [p.lower() for p in path.relative_to(root).parts[:-1]]
        if parts and parts[0] == TRUTH_DIR:
            continue
        parse_name(path.name)  # a mis-named TIFF is an error, not silently skipped
        target = masks if any("ground_truth" in p for p in parts) else images
        if path.name in target:
            raise InputError(f"{path}: duplicate of {target[path.name]}")
        target[path.name] = path
    return images, masks


def _read_placed_counts(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return {row["file"]: int(row["placed_count"]) for row in rows}
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: malformed truth table ({exc})") from exc
