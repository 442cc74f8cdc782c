"""Atomic writes keep what a plain open would: the umask's mode, no temporary file left."""

from __future__ import annotations

import os
import pathlib
import stat

import pytest

from bioscope.errors import InputError
from bioscope.io.atomic import atomic_path, atomic_write_text, current_umask


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        path = atomic_write_text(tmp_path / "report.csv", "a,b\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "shared.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "new"


def test_failure_leaves_no_temporary_file_and_the_old_content(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("keep")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert path.read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_failure_on_a_new_path_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "sub" / "new.csv") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list((tmp_path / "sub").iterdir()) == []


def test_the_umask_without_proc(monkeypatch):
    """Where ``/proc`` cannot be read, the umask is set and restored at once."""

    def no_proc(*args, **kwargs):
        raise OSError("no /proc")

    monkeypatch.setattr(pathlib.Path, "read_text", no_proc)
    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027 and current_umask() == 0o027
    finally:
        os.umask(old)


def test_a_folder_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(InputError, match=r"x\.tif: cannot write in .*file"):
        atomic_write_text(blocker / "x.tif", "never")
    assert blocker.read_text() == "a file, not a folder"
