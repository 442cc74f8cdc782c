"""The CSV of ``bioscope cells count``: written as it grows, resumed after a kill.

Rows (``file,count,method``) are appended and flushed as counts come in, in whatever order they
finish, so a killed run keeps every row it had; a line cut short by the kill is dropped when the
file is read again. :meth:`CountTable.finish` then rewrites the file atomically in input order,
so a finished run gives the same bytes however, and in whatever order, its images were counted.

An existing CSV is neither lost nor silently reused: with ``resume`` only the files it lacks are
counted (its rows must come from the same counting method and be for files among the inputs);
with ``overwrite`` everything is counted again; with neither, a CSV that holds counts is refused.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TextIO

from bioscope.errors import InputError
from bioscope.inference.files import ImageCount
from bioscope.io import atomic_write_text
from bioscope.io.tables import csv_text

#: The columns of the CSV, in order.
COLUMNS = ("file", "count", "method")
HEADER = ",".join(COLUMNS)


class CountTable:
    """The counts of ``files`` in the CSV at ``path``: an earlier run's, and those added now.

    Use it as a context manager (the streamed file is closed however the block ends) and call
    :meth:`finish` when every count is in.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "counts.csv"
        >>> with CountTable(out, ["b.tif", "a.tif"], "distance") as table:
        ...     table.add(ImageCount("a.tif", 3, "distance"))
        ...     table.add(ImageCount("b.tif", 5, "distance"))
        ...     table.finish()
        2
        >>> out.read_text()
        'file,count,method\\nb.tif,5,distance\\na.tif,3,distance\\n'
    """

    def __init__(
        self,
        path: Path,
        files: Sequence[str],
        method: str,
        *,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        self.path = path
        self.files = list(files)
        self.rows: dict[str, dict[str, object]] = {}
        self._keep = 0  # bytes of whole lines of the earlier file to append after
        if path.exists() and not overwrite:
            self.rows, self._keep = _earlier(path, self.files, method, resume)
        self._handle: TextIO | None = None
        self._writer: csv.DictWriter | None = None

    @property
    def todo(self) -> list[str]:
        """The files with no count yet, in input order."""
        return [f for f in self.files if f not in self.rows]

    def add(self, count: ImageCount) -> None:
        """Append ``count``'s row to the file and flush it."""
        if self._writer is None:
            self._open()
        assert self._writer is not None and self._handle is not None
        row = count.row()
        self._writer.writerow(row)
        self._handle.flush()
        self.rows[count.file] = row

    def finish(self) -> int:
        """Rewrite the file atomically with every row in input order; return how many rows it
        holds (0: nothing was counted, and no file is written)."""
        self.close()
        rows = [self.rows[f] for f in self.files if f in self.rows]
        if rows:
            atomic_write_text(self.path, csv_text(rows))
        return len(rows)

    def close(self) -> None:
        """Close the streamed file, leaving what it holds."""
        if self._handle is not None:
            self._handle.close()
            self._handle = self._writer = None

    def __enter__(self) -> CountTable:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> None:
        """Open for appending after the earlier whole lines, or anew with the header."""
        if self._keep:
            os.truncate(self.path, self._keep)  # drop a line cut short by a kill
            self._handle = self.path.open("a", encoding="utf-8", newline="")
        else:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=COLUMNS, lineterminator="\n")
        if not self._keep:
            self._writer.writeheader()


def read_counts(path: Path) -> tuple[list[dict[str, str]], int]:
    """The rows of a count CSV, and the length in bytes of its whole lines (a last line without
    its newline, cut short by a kill, is left out).

    Raises:
        InputError: the file is not a ``cells count`` CSV, or a row is malformed.
    """
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    header = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    if not (header == HEADER or (not whole and HEADER.startswith(header))):
        raise InputError(
            f"{path}: exists and is not a 'cells count' CSV (first line {header[:60]!r}, "
            f"expected {HEADER!r}); --overwrite replaces it"
        )
    try:
        text = whole.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}), so not a 'cells count' CSV; "
            "--overwrite replaces it"
        ) from exc
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    rows = []
    for fields in reader:
        if len(fields) != len(COLUMNS) or not fields[1].isdigit():
            raise InputError(
                f"{path}, line {reader.line_num}: expected {HEADER}, got {fields}; "
                "--overwrite counts everything again"
            )
        rows.append(dict(zip(COLUMNS, fields, strict=True)))
    return rows, len(whole)


def _earlier(
    path: Path, files: list[str], method: str, resume: bool
) -> tuple[dict[str, dict[str, object]], int]:
    """The rows of an earlier run to keep, by file, and the bytes to append after.

    Raises:
        InputError: the file holds counts and ``resume`` is off, or they cannot be resumed.
    """
    rows, keep = read_counts(path)
    if not rows:
        return {}, 0
    if not resume:
        raise InputError(
            f"{path}: already holds {len(rows)} count(s); --resume counts only the images it "
            "lacks, --overwrite counts everything again"
        )
    others = sorted({r["method"] for r in rows} - {method})
    if others:
        raise InputError(
            f"{path}: its counts were made with method {others[0]!r}, this run counts with "
            f"{method!r}; resume with the same model and --method, or --overwrite"
        )
    inputs = set(files)
    strangers = [r["file"] for r in rows if r["file"] not in inputs]
    if strangers:
        raise InputError(
            f"{path}: {len(strangers)} of its rows are for files that are not among the inputs "
            f"(first: {strangers[0]}); resume with the same inputs, or --overwrite"
        )
    return {r["file"]: dict(r) for r in rows}, keep
