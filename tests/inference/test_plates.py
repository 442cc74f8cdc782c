"""The count CSV: rows streamed and flushed, rewritten in input order, resumed after a kill."""

from __future__ import annotations

import csv

import pytest

from bioscope.errors import InputError
from bioscope.inference.files import ImageCount
from bioscope.inference.plates import CountTable, read_counts

FILES = ["c.tif", "a.tif", "b,with comma.tif"]


def _count(file: str, n: int, method: str = "distance") -> ImageCount:
    return ImageCount(file, n, method)


def _plain(rows: list[tuple[str, int]]) -> str:
    """The CSV written independently of the module: csv.writer, one line per row."""
    lines = ["file,count,method"]
    for file, n in rows:
        lines.append(f'"{file}",{n},distance' if "," in file else f"{file},{n},distance")
    return "\n".join(lines) + "\n"


def test_rows_are_flushed_as_added_and_finished_in_input_order(tmp_path):
    out = tmp_path / "counts.csv"
    with CountTable(out, FILES, "distance") as table:
        assert not out.exists()  # nothing counted, nothing written
        table.add(_count("b,with comma.tif", 7))
        table.add(_count("c.tif", 2))
        streamed = list(csv.reader(out.open()))  # readable while the run goes on
        assert streamed == [
            ["file", "count", "method"],
            ["b,with comma.tif", "7", "distance"],
            ["c.tif", "2", "distance"],
        ]
        table.add(_count("a.tif", 0))
        assert table.finish() == 3
    assert out.read_text() == _plain([("c.tif", 2), ("a.tif", 0), ("b,with comma.tif", 7)])


def test_resume_drops_a_truncated_line_and_appends_after_the_whole_ones(tmp_path):
    out = tmp_path / "counts.csv"
    out.write_text("file,count,method\nc.tif,2,distance\na.tif,1")  # killed mid-line
    rows, keep = read_counts(out)
    assert rows == [{"file": "c.tif", "count": "2", "method": "distance"}]
    assert keep == len("file,count,method\nc.tif,2,distance\n")
    with CountTable(out, FILES, "distance", resume=True) as table:
        assert table.todo == ["a.tif", "b,with comma.tif"]
        table.add(_count("a.tif", 4))
        assert out.read_text() == "file,count,method\nc.tif,2,distance\na.tif,4,distance\n"
        table.add(_count("b,with comma.tif", 1))
        table.finish()
    assert out.read_text() == _plain([("c.tif", 2), ("a.tif", 4), ("b,with comma.tif", 1)])


@pytest.mark.parametrize("text", ["", "file,cou", "file,count,method\n"])
def test_a_file_without_rows_is_started_again_without_asking(tmp_path, text):
    out = tmp_path / "counts.csv"
    out.write_text(text)
    with CountTable(out, FILES, "distance") as table:
        assert table.todo == FILES
        table.add(_count("a.tif", 3))
        table.finish()
    assert out.read_text() == "file,count,method\na.tif,3,distance\n"


def test_counts_are_never_silently_lost_or_reused(tmp_path):
    out = tmp_path / "counts.csv"
    out.write_text("file,count,method\nc.tif,2,distance\n")
    with pytest.raises(InputError, match=r"already holds 1 count\(s\); --resume .* --overwrite"):
        CountTable(out, FILES, "distance")
    with pytest.raises(
        InputError, match="made with method 'distance', this run counts with 'peaks'"
    ):
        CountTable(out, FILES, "peaks", resume=True)
    with pytest.raises(InputError, match="1 of its rows are for files that are not among"):
        CountTable(out, ["a.tif"], "distance", resume=True)
    with CountTable(out, FILES, "peaks", overwrite=True) as table:
        assert table.todo == FILES
        table.add(_count("a.tif", 5, "peaks"))
        table.finish()
    assert out.read_text() == "file,count,method\na.tif,5,peaks\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,value\nx,1\n", "not a 'cells count' CSV"),
        ("file,count,method\nc.tif,many,distance\n", "line 2: expected file,count,method"),
        ("file,count,method\nc.tif,2\n", "line 2"),
    ],
)
def test_other_files_are_refused_with_the_way_out(tmp_path, text, message):
    out = tmp_path / "counts.csv"
    out.write_text(text)
    with pytest.raises(InputError, match=message) as error:
        CountTable(out, FILES, "distance", resume=True)
    assert "--overwrite" in str(error.value)
    assert out.read_text() == text  # left as it was


def test_a_csv_that_is_not_utf8_is_refused_with_the_way_out(tmp_path):
    out = tmp_path / "counts.csv"
    data = "file,count,method\ncaf\xe9.tif,2,distance\n".encode("cp1252")
    out.write_bytes(data)
    with pytest.raises(InputError, match=r"not UTF-8 text.*--overwrite"):
        CountTable(out, FILES, "distance", resume=True)
    assert out.read_bytes() == data


def test_an_interrupted_block_keeps_the_streamed_rows(tmp_path):
    out = tmp_path / "counts.csv"
    with pytest.raises(KeyboardInterrupt), CountTable(out, FILES, "distance") as table:
        table.add(_count("a.tif", 3))
        raise KeyboardInterrupt
    assert out.read_text() == "file,count,method\na.tif,3,distance\n"
    with CountTable(out, FILES, "distance", resume=True) as table:
        assert table.todo == ["c.tif", "b,with comma.tif"]
