"""Cell segmentation training: the task, its configuration, and a run on a BBBC005-layout folder."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, default_collate

from bioscope.counting import count_distance
from bioscope.data.augment import QualityAugment
from bioscope.data.bbbc005 import IMAGES_DIR, index_bbbc005, split_by_field
from bioscope.data.cells import (
    CellDataset,
    CellPair,
    load_pair,
    pairs_from_bbbc005,
    pairs_from_folders,
)
from bioscope.data.split import SIDES, split_keys
from bioscope.data.targets import median_diameter
from bioscope.errors import InputError
from bioscope.inference.spec import CellSpec, spec_to_dict
from bioscope.io import atomic_write_text, load_checkpoint
from bioscope.losses import SEGMENTATION_LOSSES
from bioscope.metrics.segmentation import dice, foreground_iou, paper_mean_iou
from bioscope.models import create_model
from bioscope.models.checkpoint import load_nets
from bioscope.models.registry import model_task
from bioscope.train.config import to_dict
from bioscope.train.loop import BEST, FitResult, TrainConfig, Trainer
from bioscope.train.state import seed_everything
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
        val_blurs: blur levels of the validation and test images (default: ``blurs``).
        size: side of the square the images are resized to (the paper: 256); ``None`` keeps the
            native resolution.
        crop: random training crops of this side (native-resolution training); validation and
            test use whole images.
        distance: add the per-cell distance target for a model with a second output.
        split: train/val/test fractions of the fields.
        split_seed: seed of the field split.
        augment: random flips and 90-degree rotations.
        layout: ``bbbc005`` (BBBC005 names, split by field), ``folder`` (any images with their
            masks, Cellpose style: ``<name>_masks.png`` beside each image, or same-named files
            in ``masks``; split by image; ``stain`` and blur levels do not apply) or ``mix``
            (every sub-folder is one source in either layout, split on its own; a training
            epoch draws as many images from each source, repeating the smaller ones).
        masks: the masks' folder of a ``folder`` layout (default: the images' folder).
        diameter: bring every image to this median nucleus diameter on loading (native
            resolution only); recorded in the model's inference spec.
        scale: random training crops at a scale in this range (needs ``crop``).
        quality: random gamma, contrast, blur and noise of training crops.
    """

    stain: int = 2
    blurs: tuple[int, ...] = (1,)
    val_blurs: tuple[int, ...] | None = None
    size: int | None = 256
    crop: int | None = None
    distance: bool = False
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_seed: int = 0
    augment: bool = True
    layout: Literal["bbbc005", "folder", "mix"] = "bbbc005"
    masks: str | None = None
    diameter: float | None = None
    scale: tuple[float, float] | None = None
    quality: bool = False


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
    distance_weight: float = 1.0


@dataclass
class CellTrainConfig:
    """Everything a cell training run needs; YAML files map onto it one to one."""

    model: ModelSpec = field(default_factory=ModelSpec)
    data: CellDataConfig = field(default_factory=CellDataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(monitor="val_iou", mode="max"))


class SegmentationTask(Task):
    """Binary segmentation, optionally with a per-cell distance head (output channel 1).

    The loss is one of :data:`SEGMENTATION_LOSSES` on channel 0, plus ``distance_weight`` x BCE of
    channel 1 against the distance target when the batch has one. Adam, with an optional step or
    cosine schedule.
    """

    name = "segmentation"

    def __init__(self, model: nn.Module, optim: OptimConfig, epochs: int):
        super().__init__()
        if optim.loss not in SEGMENTATION_LOSSES:
            raise InputError(
                f"unknown loss {optim.loss!r}; known: {', '.join(SEGMENTATION_LOSSES)}"
            )
        self.loss = SEGMENTATION_LOSSES[optim.loss]
        self.optim = optim
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

    def objective(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The training loss of ``logits`` against the batch's targets."""
        loss = self.loss(logits[:, :1], batch["mask"])
        if "distance" in batch:
            if logits.shape[1] < 2:
                raise InputError(
                    "the data has a distance target but the model has one output; "
                    "build it with out_channels: 2"
                )
            bce = F.binary_cross_entropy_with_logits(logits[:, 1:2], batch["distance"])
            loss = loss + self.optim.distance_weight * bce
        return loss

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        model = self.trained["model"]
        model.train()
        loss = self.objective(model(batch["image"]), batch)
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach())}

    @torch.no_grad()
    def validate(self, batches: Iterable[dict[str, torch.Tensor]]) -> dict[str, float]:
        model = self.nets["model"]
        model.eval()
        losses, ious, dices, probs, masks, count_errors = [], [], [], [], [], []
        for batch in batches:
            logits = model(batch["image"])  # padded input; scored on the valid region only
            batch = _crop_valid({**batch, "logits": logits})
            logits = batch.pop("logits")
            losses.append(float(self.objective(logits, batch)) * len(logits))
            prob = torch.sigmoid(logits)
            pred, truth = prob[:, :1] > self.optim.threshold, batch["mask"] > 0.5
            ious.append(foreground_iou(pred, truth))
            dices.append(dice(pred, truth))
            probs.append(prob[:, :1].cpu().flatten())  # pooled pixels: sizes may differ
            masks.append(truth.cpu().flatten())
            if "distance" in batch and "labels" in batch:
                count_errors += _count_errors(
                    prob.cpu().numpy(), batch["labels"].cpu().numpy(), self.optim.threshold
                )
        count = sum(len(i) for i in ious)
        scores = {
            "val_loss": sum(losses) / count,
            "val_iou": float(torch.cat(ious).mean()),
            "val_dice": float(torch.cat(dices).mean()),
            "val_paper_mean_iou": paper_mean_iou(torch.cat(probs), torch.cat(masks)),
        }
        if count_errors:
            scores["val_count_mae"] = float(np.mean(count_errors))
        return scores


def _crop_valid(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cut padding off: every tensor to the batch's valid height and width."""
    if "valid" not in batch:
        return batch
    height, width = (int(v) for v in batch["valid"][0])
    return {k: v if k == "valid" else v[..., :height, :width] for k, v in batch.items()}


def _same_size_batch(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack training items into a batch; images of different sizes (whole native images of a
    mixed folder) are an :class:`InputError` that says what to set, not torch's stack error."""
    sizes = sorted({tuple(item["image"].shape[-2:]) for item in items})
    if len(sizes) > 1:
        shown = " and ".join(f"{h} x {w}" for h, w in sizes[:2])
        raise InputError(
            f"training images differ in size ({shown}) and cannot share a batch: set data.crop "
            "(random crops at native resolution), data.size (resize) or train.batch_size: 1"
        )
    return default_collate(items)


def _count_errors(prob: np.ndarray, labels: np.ndarray, threshold: float) -> list[float]:
    errors = []
    for maps, truth in zip(prob, labels, strict=True):
        found = count_distance(maps[0], maps[1], threshold=threshold).count
        errors.append(abs(found - (len(np.unique(truth)) - 1)))
    return errors


def cell_datasets(root: str | Path, config: CellDataConfig) -> dict[str, CellDataset]:
    """Index ``root``, split it (by field, or by image for a folder), make the datasets."""
    if config.diameter is not None and config.size is not None:
        raise InputError("data.diameter needs native-resolution training (data.size: null)")
    if config.scale is not None and config.crop is None:
        raise InputError("data.scale needs random crops (data.crop)")
    readers = {"folder": _folder_pairs, "bbbc005": _bbbc005_pairs, "mix": _mixed_pairs}
    if config.layout not in readers:
        raise InputError(f"unknown layout {config.layout!r}; use {', '.join(readers)}")
    sides = readers[config.layout](root, config)
    datasets = {}
    for side, pairs in sides.items():
        if not pairs and side != "test":
            raise InputError(
                f"{root}: no {side} images with masks"
                + (
                    f" for stain {config.stain} at blur levels {list(config.blurs)} (masks exist "
                    "for F1 only; does the folder hold F1 images?)"
                    if config.layout == "bbbc005"
                    else " (too few images to split: need at least 3)"
                )
            )
        if pairs:
            train = side == "train"
            datasets[side] = CellDataset(
                pairs,
                config.size,
                augment=config.augment and train,
                crop=config.crop if train else None,
                distance=config.distance,
                diameter=config.diameter,
                scale=config.scale if train else None,
                quality=QualityAugment() if config.quality and train else None,
            )
    return datasets


def _bbbc005_pairs(root: str | Path, config: CellDataConfig) -> dict[str, list[CellPair]]:
    records = index_bbbc005(root, stains=[config.stain])
    split = split_by_field(records, tuple(config.split), seed=config.split_seed)
    return {
        side: pairs_from_bbbc005(
            side_records,
            config.blurs if side == "train" or config.val_blurs is None else config.val_blurs,
        )
        for side, side_records in split.items()
    }


def _folder_pairs(root: str | Path, config: CellDataConfig) -> dict[str, list[CellPair]]:
    pairs = pairs_from_folders(root, config.masks)
    side = split_keys([pair.image for pair in pairs], tuple(config.split), config.split_seed)
    return {name: [p for p in pairs if side[p.image] == name] for name in SIDES}


def _mixed_pairs(root: str | Path, config: CellDataConfig) -> dict[str, list[CellPair]]:
    """Every sub-folder of ``root`` is one source (BBBC005 layout when it has BBBC005's images
    folder, else Cellpose layout), split on its own; training pairs repeated so that each source
    gives an epoch as many images as the largest."""
    root = Path(root)
    folders = (
        sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )
    if not folders:
        raise InputError(f"{root}: a mix layout needs one sub-folder per source; found none")
    sources = [
        _bbbc005_pairs(folder, config)
        if (folder / IMAGES_DIR).is_dir()
        else _folder_pairs(folder, config)
        for folder in folders
    ]
    largest = max(len(source["train"]) for source in sources)
    sides: dict[str, list[CellPair]] = {side: [] for side in SIDES}
    for source in sources:
        train = source["train"]
        if train:
            sides["train"] += train * (largest // len(train)) + train[: largest % len(train)]
        sides["val"] += source["val"]
        sides["test"] += source["test"]
    return sides


def cell_spec(config: CellTrainConfig, pairs: list[CellPair], sample: int = 16) -> CellSpec:
    """The inference spec of a cell model trained with ``config``: its threshold and mode, and
    for a native-resolution model the median nucleus diameter of (up to ``sample``) training
    images, so the predictor can bring other images to that size."""
    size = config.data.size
    diameter = config.data.diameter
    if size is None and diameter is None:
        step = max(len(pairs) // sample, 1)
        arrays = [load_pair(pair) for pair in pairs[::step][:sample]]
        diameter = median_diameter(a.labels for a in arrays)
    return CellSpec(
        threshold=config.optim.threshold,
        mode="native" if size is None else "resize",
        size=size,
        diameter=diameter,
        estimate_diameter=config.data.diameter is not None,
    )


def train_cells(
    root: str | Path,
    out: str | Path,
    config: CellTrainConfig,
    init: str | Path | None = None,
    resume: bool = False,
) -> FitResult:
    """Train a cell segmentation model on ``root`` (laid out as ``config.data.layout`` says),
    from ``init``'s weights when given; write the run to ``out``."""
    if model_task(config.model.name) != "segmentation":
        raise InputError(f"{config.model.name!r} is not a segmentation model")
    datasets = cell_datasets(root, config.data)
    seed_everything(config.train.seed)
    model = create_model(config.model.name, **config.model.args)
    if init is not None:
        tensors, meta = load_checkpoint(init)
        if meta.get("task") not in (None, "segmentation"):
            raise InputError(f"{init}: a {meta.get('task')!r} checkpoint, not a cell model")
        load_nets({"model": model}, tensors, str(init))
    task = SegmentationTask(model, config.optim, config.train.epochs)
    task.inference = spec_to_dict(cell_spec(config, datasets["train"].pairs))
    run_config = {"data_root": str(root), **to_dict(config), "init": str(init) if init else None}
    # whole native-size images (validation, test) may differ in size: one per batch
    whole = 1 if config.data.size is None else config.train.batch_size
    trainer = Trainer(
        task,
        datasets["train"],
        datasets["val"],
        config.train,
        out,
        run_config,
        collate=_same_size_batch,
        val_batch_size=whole,
    )
    result = trainer.fit(resume=resume)
    if "test" in datasets and trainer.is_main:
        tensors, _ = load_checkpoint(Path(out) / BEST)
        load_nets(task.nets, tensors, str(Path(out) / BEST))
        loader = DataLoader(datasets["test"], batch_size=whole)
        scores = task.validate(task.to_device(b) for b in loader)
        test = {k.replace("val_", "test_"): v for k, v in scores.items()}
        test.update(best_epoch=result.best_epoch, test_images=len(datasets["test"]))
        atomic_write_text(Path(out) / TEST_METRICS, json.dumps(test, indent=2))
        result.test = test
    return result
