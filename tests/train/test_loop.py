from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
import torch
import yaml

from bioscope.errors import InputError
from bioscope.io import load_checkpoint, save_checkpoint
from bioscope.models import create_model
from bioscope.train.loop import TrainConfig, Trainer
from bioscope.train.segmentation import CellDataConfig, OptimConfig, SegmentationTask, cell_datasets

DATA = CellDataConfig(size=32, blurs=(1, 7))


def make_trainer(sim_folder, out, *, seed=0, epochs=3, lr=1e-2, patience=None, on_epoch_end=None):
    torch.manual_seed(seed)
    datasets = cell_datasets(sim_folder, DATA)
    optim = OptimConfig(loss="bce_dice", lr=lr, scheduler="step", step_size=1, gamma=0.5)
    task = SegmentationTask(create_model("unet-tiny"), optim, epochs)
    config = TrainConfig(
        epochs=epochs,
        batch_size=4,
        monitor="val_iou",
        mode="max",
        patience=patience,
        progress=False,
    )
    return Trainer(
        task, datasets["train"], datasets["val"], config, out, {"note": "test"}, on_epoch_end
    )


def weights(trainer):
    return trainer.task.nets["model"].state_dict()


def test_run_folder(sim_folder, tmp_path):
    result = make_trainer(sim_folder, tmp_path, epochs=2).fit()
    assert {p.name for p in tmp_path.iterdir()} == {
        "config.yaml",
        "metrics.csv",
        "last.safetensors",
        "best.safetensors",
    }
    with (tmp_path / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {
        "epoch",
        "step",
        "train_loss",
        "val_loss",
        "val_iou",
        "val_dice",
        "val_paper_mean_iou",
        "lr",
        "ms_per_step",
    } <= set(rows[0])
    assert float(rows[1]["lr"]) == pytest.approx(0.5 * float(rows[0]["lr"]))
    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == {"note": "test"}
    _, meta = load_checkpoint(tmp_path / "last.safetensors")
    assert meta["nets"]["model"] == {"name": "unet-tiny", "args": {}}
    assert meta["epoch"] == 2 and meta["config"] == {"note": "test"}
    assert result.epochs_run == 2


def test_killed_and_resumed_run_equals_uninterrupted_run(sim_folder, tmp_path):
    straight = make_trainer(sim_folder, tmp_path / "straight")
    straight.fit()

    def crash(epoch):
        if epoch == 1:
            raise KeyboardInterrupt  # killed right after the first checkpoint

    with pytest.raises(KeyboardInterrupt):
        make_trainer(sim_folder, tmp_path / "resumed", on_epoch_end=crash).fit()
    resumed = make_trainer(sim_folder, tmp_path / "resumed", seed=123)  # other initial weights
    resumed.fit(resume=True)
    for key, value in weights(straight).items():
        assert torch.equal(value, weights(resumed)[key]), key
    rows = [
        (tmp_path / d / "metrics.csv").read_text().splitlines() for d in ("straight", "resumed")
    ]
    strip = [[",".join(line.split(",")[:-1]) for line in r] for r in rows]  # all but ms/step
    assert strip[0] == strip[1]


def test_early_stopping(sim_folder, tmp_path):
    result = make_trainer(sim_folder, tmp_path, epochs=6, lr=0.0, patience=2).fit()
    assert result.stopped_early and result.epochs_run == 3 and result.best_epoch == 1


def test_resume_refuses_other_checkpoints(sim_folder, tmp_path):
    with pytest.raises(InputError, match=r"cannot resume: no last\.safetensors"):
        make_trainer(sim_folder, tmp_path).fit(resume=True)
    save_checkpoint(
        tmp_path / "last.safetensors", {"w": torch.ones(1)}, {"task": "superres", "nets": {}}
    )
    with pytest.raises(InputError, match="checkpoint is for superres"):
        make_trainer(sim_folder, tmp_path).fit(resume=True)
    (tmp_path / "last.safetensors").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a safetensors checkpoint"):
        make_trainer(sim_folder, tmp_path).fit(resume=True)


def test_two_process_torchrun_keeps_replicas_identical(sim_folder, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes",
        "1",
        "--nproc_per_node",
        "2",
        "-m",
        "bioscope.cli.main",
        "cells",
        "train",
        "--data",
        str(sim_folder),
        "--model",
        "unet-tiny",
        "--out",
        str(tmp_path),
        "--epochs",
        "2",
        "--size",
        "32",
        "--batch-size",
        "2",
        "--device",
        "cpu",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    replicas = json.loads((tmp_path / "replicas.json").read_text())
    assert replicas["world_size"] == 2
    assert len(set(replicas["parameter_sha256"])) == 1
    assert (tmp_path / "test_metrics.json").is_file()


def test_native_validation_on_sizes_that_need_padding(tmp_path):
    """Images of 90 x 110 are padded for the U-Net and scored on their real 90 x 110 pixels."""
    from bioscope.data.simcep import SimcepParams
    from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
    from bioscope.train.segmentation import CellTrainConfig, ModelSpec, train_cells

    params = SimcepParams(height=90, width=110, nucleus_radius=5.0)
    simulate_bbbc005(
        tmp_path / "sim", SimulationPlan(counts=(3, 6), blurs=(1,), sites=3, params=params)
    )
    config = CellTrainConfig(
        model=ModelSpec("unet-tiny", {"out_channels": 2}),
        data=CellDataConfig(size=None, crop=32, distance=True),
        train=TrainConfig(
            epochs=1, batch_size=2, monitor="val_count_mae", mode="min", progress=False
        ),
    )
    result = train_cells(tmp_path / "sim", tmp_path / "run", config)
    assert result.epochs_run == 1 and "val_count_mae" in result.rows[0]
    assert 0 <= result.test["test_iou"] <= 1
