"""Image files through a :class:`~bioscope.inference.cells.CellPredictor`, a batch at a time.

A file that cannot be read or segmented is given back with the error that stopped it, and the
others still go through: ``bioscope cells predict`` writes images from
:func:`segment_files`, ``cells count`` (plain or on Dask) rows from :func:`count_files`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bioscope.errors import BioscopeError, naming
from bioscope.inference.cells import CellPredictor, Diameter, Segmentation
from bioscope.io import read_image


@dataclass(frozen=True)
class ImageCount:
    """One file's count, or the reason it has none.

    Attributes:
        file: the path as given (the ``file`` column of the CSV).
        count: objects found; ``None`` when ``error`` says why there is no count.
        method: the counting method used.
        empty: nothing in the image stands above its noise (the count is then meaningless).
        error: the message of the error that stopped this file, or ``""``.

    Example:
        >>> ImageCount("a.tif", 3, "distance").row()
        {'file': 'a.tif', 'count': 3, 'method': 'distance'}
    """

    file: str
    count: int | None = None
    method: str = ""
    empty: bool = False
    error: str = ""

    def row(self) -> dict[str, str | int | None]:
        """The CSV row: ``file``, ``count``, ``method``."""
        return {"file": self.file, "count": self.count, "method": self.method}


def segment_files(
    predictor: CellPredictor,
    paths: Sequence[Path],
    diameter: Diameter,
    batch: int,
    channel: int | None = None,
) -> Iterator[tuple[Path, np.ndarray, Segmentation | BioscopeError]]:
    """Each path with its image and segmentation (or the error that stopped it), in order;
    consecutive readable images go through the predictor ``batch`` at a time. ``channel``: the
    nuclear stain's channel of multi-channel files (:func:`~bioscope.io.read_image`)."""
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        loaded: list[tuple[Path, np.ndarray | BioscopeError]] = []
        for path in chunk:
            try:
                loaded.append((path, read_image(path, channel=channel)))
            except BioscopeError as exc:
                loaded.append((path, exc))
        good = [(p, image) for p, image in loaded if isinstance(image, np.ndarray)]
        try:
            results = predictor.segment_batch([image for _, image in good], diameter)
            by_path = dict(zip([p for p, _ in good], results, strict=True))
        except BioscopeError:  # one bad image in the batch: find it by going one at a time
            by_path = {p: _segment_one(predictor, p, image, diameter) for p, image in good}
        for path, image in loaded:
            if isinstance(image, BioscopeError):
                yield path, np.zeros(0), image
            else:
                yield path, image, by_path[path]


def count_files(
    predictor: CellPredictor,
    paths: Sequence[Path],
    diameter: Diameter,
    batch: int,
    channel: int | None = None,
) -> Iterator[ImageCount]:
    """The count of each path, in order, ``batch`` images per network call."""
    for path, _, result in segment_files(predictor, paths, diameter, batch, channel):
        if isinstance(result, BioscopeError):
            yield ImageCount(str(path), error=str(result))
        else:
            yield ImageCount(str(path), result.count, result.method, result.empty)


def _segment_one(
    predictor: CellPredictor, path: Path, image: np.ndarray, diameter: Diameter
) -> Segmentation | BioscopeError:
    """The segmentation of ``image``, or the error that stopped it, naming ``path``."""
    try:
        return predictor.segment(image, diameter)
    except BioscopeError as exc:
        return naming(path, exc)
