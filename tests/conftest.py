"""Shared fixtures: small simulated BBBC005-layout folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
