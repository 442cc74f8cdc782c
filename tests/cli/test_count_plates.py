"""``bioscope cells count`` on a plate: on Dask the same CSV as the plain command, and a
half-written or killed run resumed without recounting what it had."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bioscope.cli.main import main
from bioscope.inference.cells import CellPredictor
from bioscope.io import write_image
from bioscope.samples import nuclei_field

NOTE = "bioscope: note: resuming"


def _plate(folder: Path, n: int, side: int) -> Path:
    """``n`` simulated fields cropped to ``side`` x ``side + 32``, and one unreadable .tif."""
    for index in range(n):
        image, _ = nuclei_field(count=60, blur=1 + 6 * (index % 3), seed=index)
        write_image(folder / f"site{index:02d}.tif", image[:side, : side + 32])
    (folder / "site99.tif").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def plate(tmp_path_factory) -> Path:
    return _plate(tmp_path_factory.mktemp("plate"), 6, 128)


@pytest.fixture(scope="module")
def plain(plate, tmp_path_factory) -> str:
    """The plain command's CSV of the plate."""
    out = tmp_path_factory.mktemp("plain") / "counts.csv"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = main(["cells", "count", str(plate), "--device", "cpu", "-o", str(out)])
    assert code == 1 and "site99.tif" in errors.getvalue()  # reported and skipped
    return out.read_text()


@pytest.fixture
def counted(monkeypatch) -> list:
    """The images that go through the network in this process, as they do."""
    images: list = []
    segment_batch = CellPredictor.segment_batch

    def counting(self, batch, diameter=None):
        images.extend(batch)
        return segment_batch(self, batch, diameter)

    monkeypatch.setattr(CellPredictor, "segment_batch", counting)
    return images


def test_the_plain_csv_has_a_row_per_readable_image(plate, plain):
    lines = plain.splitlines()
    assert lines[0] == "file,count,method" and len(lines) == 7
    assert [line.split(",")[0] for line in lines[1:]] == [
        str(plate / f"site0{i}.tif") for i in range(6)
    ]
    assert sum(int(line.split(",")[1]) for line in lines[1:]) > 0


def test_dask_local_cluster_gives_the_plain_csv(cli, plate, plain, tmp_path, counted):
    pytest.importorskip("distributed", reason="--dask needs the dask extra")
    out = tmp_path / "counts.csv"
    result = cli(
        "cells", "count", str(plate), "--device", "cpu", "-o", str(out), "--dask", "--workers", "2"
    )
    assert result.returncode == 1 and "site99.tif" in result.stderr
    assert all(line.startswith("bioscope: error: ") for line in result.stderr.splitlines())
    assert out.read_text() == plain
    assert not counted  # all of it on the two worker processes


def test_dask_address_resumes_a_half_written_csv(cli, plate, plain, tmp_path):
    distributed = pytest.importorskip("distributed", reason="--dask needs the dask extra")
    out = tmp_path / "counts.csv"
    out.write_text(plain[: plain.index("site02")])  # two rows and a line cut short
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        args = ("cells", "count", str(plate), "--device", "cpu", "-o", str(out), "--resume")
        result = cli(*args, "--dask", address)
        tasks = cluster.scheduler.task_prefixes["count_chunk"].state_counts["memory"]
    assert f"{NOTE} {out}: 2 of 7 images are counted there already" in result.stderr
    assert tasks == 2  # sites 02-05 and the unreadable one: two batches of up to 4
    assert out.read_text() == plain


def test_resume_counts_only_the_images_the_csv_lacks(cli, plate, plain, tmp_path, counted):
    out = tmp_path / "counts.csv"
    out.write_text(plain[: plain.index("site03") + 5])  # three rows and a line cut short
    args = ("cells", "count", str(plate), "--device", "cpu", "-o", str(out))
    refused = cli(*args)
    assert refused.returncode == 1 and "--resume" in refused.stderr and not counted
    result = cli(*args, "--resume")
    assert "3 of 7 images are counted there already; counting the other 4" in result.stderr
    assert len(counted) == 3  # sites 03-05; the unreadable one never reaches the network
    assert out.read_text() == plain


def test_a_killed_run_resumes_to_the_full_csv(cli, tmp_path_factory):
    plate = _plate(tmp_path_factory.mktemp("big-plate"), 8, 256)
    out = plate.parent / "counts.csv"
    args = ("cells", "count", str(plate), "--device", "cpu", "--batch-size", "1", "-o", str(out))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen([sys.executable, "-m", "bioscope.cli.main", *args], env=env)
    deadline = time.monotonic() + 120
    while not (out.exists() and out.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before its first row"
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait()
    kept = out.read_text().count("\n") - 1
    assert 1 <= kept < 8  # killed part way, with its first rows on disk
    resumed = cli(*args, "--resume")
    assert f"{kept} of 9 images are counted there already" in resumed.stderr
    full = plate.parent / "full.csv"
    cli(*args[:-1], str(full))
    assert out.read_text() == full.read_text()


def test_without_dask_the_error_names_the_extra(cli, plate, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    out = tmp_path / "counts.csv"
    result = cli("cells", "count", str(plate), "--device", "cpu", "-o", str(out), "--dask")
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.strip() == (
        "bioscope: error: --dask needs Dask's distributed scheduler: pip install 'bioscope[dask]'"
    )


def test_on_dask_the_parent_loads_the_model_on_the_cpu(cli, plate, tmp_path, monkeypatch):
    """Workers build their own predictors; the parent needs only the spec, so holds no GPU copy
    (and needs no GPU when the workers are elsewhere)."""
    devices = []
    load = CellPredictor.from_checkpoint.__func__

    def recording(cls, path=None, device="auto", **kwargs):
        devices.append(device)
        return load(cls, path, device, **kwargs)

    monkeypatch.setattr(CellPredictor, "from_checkpoint", classmethod(recording))
    monkeypatch.setitem(sys.modules, "distributed", None)
    out = tmp_path / "counts.csv"
    cli("cells", "count", str(plate), "--device", "auto", "-o", str(out), "--dask", "tcp://x:1")
    assert devices == ["cpu"]
    if not torch.cuda.is_available():  # a local cluster's workers are here: checked up front
        result = cli("cells", "count", str(plate), "--device", "cuda", "-o", str(out), "--dask")
        assert "no CUDA GPU is available here" in result.stderr and not out.exists()
