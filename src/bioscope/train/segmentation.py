"""Cell segmentation training: the task, its configuration, and a run on a BBBC005-layout folder."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.data import DataLoader

from bioscope.data.bbbc005 import index_bbbc005, split_by_field
from bioscope.data.cells import CellDataset, pairs_from_bbbc005
from bioscope.errors import InputError
from bioscope.io import atomic_write_text, load_checkpoint
from bioscope.losses import SEGMENTATION_LOSSES
from bioscope.metrics.segmentation import dice, foreground_iou, paper_mean_iou
from bioscope.models import create_model
from bioscope.train.config import to_dict
from bioscope.train.loop import BEST, FitResult, TrainConfig, Trainer
from bioscope.train.state import load_nets, seed_everything
from bioscope.train.task import Task

TEST_METRICS = "test_metrics.json"


@dataclass
class ModelSpec:
    """A registered model name and its constructor arguments."""

    name: str = "fft-unet"
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class CellDataConfig:
    """Which images to train on and how to present them.

    Attributes:
        stain: 1 (cell body) or 2 (nuclei).
        blurs: blur levels to train on; each image is paired with its field's F1 mask.
        size: side of the square the images are resized to (the paper: 256).
        split: train/val/test fractions of the fields.
        split_seed: seed of the field split.
        augment: random flips and 90-degree rotations.
    """

    stain: int = 2
    blurs: tuple[int, ...] = (1,)
    size: int = 256
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    augment: bool = True


@dataclass
class OptimConfig:
    """Loss, optimiser (Adam) and learning-rate schedule."""

    loss: str = "dice"
    lr: float = 1e-3
    weight_decay: float = 0.0
    scheduler: Literal["none", "step", "cosine"] = "none"
    step_size: int = 30
    gamma: float = 0.5
    threshold: float = 0.5


@dataclass
class CellTrainConfig:
    """Everything a cell training run needs; YAML files map onto it one to one."""

    model: ModelSpec = field(default_factory=ModelSpec)
    data: CellDataConfig = field(default_factory=CellDataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(monitor="val_iou", mode="max"))


class SegmentationTask(Task):
    """Binary segmentation: logits out, a loss from :data:`SEGMENTATION_LOSSES`, Adam."""

    name = "segmentation"

    def __init__(self, model: nn.Module, optim: OptimConfig, epochs: int):
        super().__init__()
        if optim.loss not in SEGMENTATION_LOSSES:
            raise InputError(
                f"unknown loss {optim.loss!r}; known: {', '.join(SEGMENTATION_LOSSES)}"
            )
        self.loss = SEGMENTATION_LOSSES[optim.loss]
        self.threshold = optim.threshold
        self.nets = {"model": model}
        optimizer = torch.optim.Adam(
            model.parameters(), lr=optim.lr, weight_decay=optim.weight_decay
        )
        self.optimizers = {"model": optimizer}
        if optim.scheduler == "step":
            self.schedulers = {
                "model": torch.optim.lr_scheduler.StepLR(optimizer, optim.step_size, optim.gamma)
            }
        elif optim.scheduler == "cosine":
            self.schedulers = {
                "model": torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
            }
        elif optim.scheduler != "none":
            raise InputError(f"unknown scheduler {optim.scheduler!r}; use none, step or cosine")

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        model = self.trained["model"]
        model.train()
        loss = self.loss(model(batch["image"]), batch["mask"])
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach())}

    @torch.no_grad()
    def validate(self, batches: Iterable[dict[str, torch.Tensor]]) -> dict[str, float]:
        model = self.nets["model"]
        model.eval()
        losses, ious, dices, probs, masks = [], [], [], [], []
        for batch in batches:
            logits = model(batch["image"])
            losses.append(float(self.loss(logits, batch["mask"])) * len(logits))
            prob = torch.sigmoid(logits)
            pred, truth = prob > self.threshold, batch["mask"] > 0.5
            ious.append(foreground_iou(pred, truth))
            dices.append(dice(pred, truth))
            probs.append(prob.cpu())
            masks.append(truth.cpu())
        count = sum(len(i) for i in ious)
        return {
            "val_loss": sum(losses) / count,
            "val_iou": float(torch.cat(ious).mean()),
            "val_dice": float(torch.cat(dices).mean()),
            "val_paper_mean_iou": paper_mean_iou(torch.cat(probs), torch.cat(masks)),
        }


def cell_datasets(root: str | Path, config: CellDataConfig) -> dict[str, CellDataset]:
    """Index ``root``, split by field, and make ``train``/``val``/``test`` datasets."""
    records = index_bbbc005(root, stains=[config.stain])
    split = split_by_field(records, tuple(config.split), seed=config.split_seed)
    datasets = {}
    for side, side_records in split.items():
        pairs = pairs_from_bbbc005(side_records, config.blurs)
        if not pairs and side != "test":
            raise InputError(
                f"{root}: no {side} images with masks for stain {config.stain} at blur levels "
                f"{list(config.blurs)} (masks exist for F1 only; does the folder hold F1 images?)"
            )
        if pairs:
            datasets[side] = CellDataset(
                pairs, config.size, augment=config.augment and side == "train"
            )
    return datasets


def train_cells(
    root: str | Path, out: str | Path, config: CellTrainConfig, resume: bool = False
) -> FitResult:
    """Train a cell segmentation model on a BBBC005-layout folder; write the run to ``out``."""
    datasets = cell_datasets(root, config.data)
    seed_everything(config.train.seed)
    model = create_model(config.model.name, **config.model.args)
    task = SegmentationTask(model, config.optim, config.train.epochs)
    run_config = {"data_root": str(root), **to_dict(config)}
    trainer = Trainer(task, datasets["train"], datasets["val"], config.train, out, run_config)
    result = trainer.fit(resume=resume)
    if "test" in datasets and trainer.is_main:
        tensors, _ = load_checkpoint(Path(out) / BEST)
        load_nets(task.nets, tensors, str(Path(out) / BEST))
        loader = DataLoader(datasets["test"], batch_size=config.train.batch_size)
        scores = task.validate(task.to_device(b) for b in loader)
        test = {k.replace("val_", "test_"): v for k, v in scores.items()}
        test.update(best_epoch=result.best_epoch, test_images=len(datasets["test"]))
        atomic_write_text(Path(out) / TEST_METRICS, json.dumps(test, indent=2))
        result.test = test
    return result
