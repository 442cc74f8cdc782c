"""Shared fixtures: small simulated BBBC005-layout folders."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from bioscope.data.simcep import SimcepParams
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005

torch.set_num_threads(1)  # 2-core CI: keep one core free for subprocess tests

#: A field of 96 x 128 pixels with proportionally smaller cells: fast, same code paths.
SMALL = SimcepParams(height=96, width=128, nucleus_radius=5.0)


@pytest.fixture(scope="session")
def small_plan() -> SimulationPlan:
    return SimulationPlan(counts=(1, 5, 10), blurs=(1, 7, 23), sites=3, seed=7, params=SMALL)


@pytest.fixture(scope="session")
def sim_folder(tmp_path_factory: pytest.TempPathFactory, small_plan: SimulationPlan) -> Path:
    root = tmp_path_factory.mktemp("sim")
    simulate_bbbc005(root, small_plan, workers=1)
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, sim_folder: Path) -> Path:
    """A 2-output unet-tiny trained for one epoch at native resolution (a real checkpoint)."""
    from bioscope.train.loop import TrainConfig
    from bioscope.train.segmentation import (
        CellDataConfig,
        CellTrainConfig,
        ModelSpec,
        train_cells,
    )

    out = tmp_path_factory.mktemp("tiny-run")
    config = CellTrainConfig(
        model=ModelSpec("unet-tiny", {"out_channels": 2}),
        data=CellDataConfig(size=None, crop=32, distance=True, blurs=(1, 23)),
        train=TrainConfig(epochs=1, batch_size=4, monitor="val_loss", progress=False),
    )
    train_cells(sim_folder, out, config)
    return out / "best.safetensors"


@pytest.fixture(scope="session")
def untrained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write the checkpoint of an untrained registered model, as training writes one:
    ``untrained_checkpoint(name, task, args=None, inference=None)``."""
    from bioscope.io import save_checkpoint
    from bioscope.models import create_model

    def write(
        name: str, task: str, args: dict | None = None, inference: dict | None = None
    ) -> Path:
        args = args or {}
        net = create_model(name, **args)
        meta = {"task": task, "nets": {"model": {"name": name, "args": args}}}
        if inference is not None:
            meta["inference"] = inference
        return save_checkpoint(
            tmp_path_factory.mktemp(name) / "m.safetensors",
            {f"nets.model.{k}": v for k, v in net.state_dict().items()},
            meta,
        )

    return write


@pytest.fixture(scope="session")
def sr_checkpoint(untrained_checkpoint: Callable[..., Path]) -> Path:
    """An untrained meta-srgan-tiny checkpoint: the SR command paths without a long load."""
    return untrained_checkpoint("meta-srgan-tiny", "superres")


@pytest.fixture(scope="session")
def sr_anisotropic_checkpoint(untrained_checkpoint: Callable[..., Path]) -> Path:
    """An untrained anisotropic meta-srgan-tiny checkpoint: the through-plane paths."""
    return untrained_checkpoint("meta-srgan-tiny", "superres", {"anisotropic": True})


#: The affine of :func:`stored_las` files: stored LAS, 2 x 2 x 4 mm.
LAS_AFFINE = np.array([[-2.0, 0, 0, 30], [0, 2.0, 0, -20], [0, 0, 4.0, 5], [0, 0, 0, 1]])


def _stored_las(path: Path, data: np.ndarray, slope=None, inter=None) -> Path:
    """A file as scanners write them: stored LAS, qform code 1, sform code 2, units, a note."""
    image = nib.Nifti1Image(data, LAS_AFFINE)
    image.set_qform(LAS_AFFINE, code=1)
    image.set_sform(LAS_AFFINE, code=2)
    image.header["descrip"] = b"subject 7 T1"
    image.header.set_xyzt_units("mm", "sec")
    if slope is not None:
        image.header.set_slope_inter(slope, inter)
    nib.save(image, str(path))
    return path


def _header_kept(written: nib.Nifti1Image) -> None:
    """The :func:`_stored_las` header fields are all in ``written``."""
    header = written.header
    assert (int(header["qform_code"]), int(header["sform_code"])) == (1, 2)
    assert header["descrip"].tobytes().rstrip(b"\0") == b"subject 7 T1"
    assert header.get_xyzt_units() == ("mm", "sec")
    assert "".join(nib.aff2axcodes(written.affine)) == "LAS"


@pytest.fixture
def stored_las():
    """Write a :func:`_stored_las` NIfTI file: ``stored_las(path, data, slope=, inter=)``."""
    return _stored_las


@pytest.fixture
def header_kept():
    """Assert a written NIfTI kept the :func:`_stored_las` header: ``header_kept(image)``."""
    return _header_kept


def run_bioscope(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "bioscope.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``bioscope.cli.main.main(args)`` in this process, capturing output and exit status
    (several times faster than a subprocess: torch is imported once)."""
    import contextlib
    import io

    from bioscope.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["bioscope", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    """The command line, in-process."""
    return run_in_process


@pytest.fixture
def cli_subprocess():
    """The command line as a user runs it: a separate process."""
    return run_bioscope
