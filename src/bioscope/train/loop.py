"""One small trainer for both tasks: epochs, data order, validation, logging, checkpoints, resume,
early stopping and torchrun/DDP. What a step does is the :class:`~bioscope.train.task.Task`'s.

A run folder holds ``config.yaml`` (the resolved configuration), ``metrics.csv`` (one row per
epoch: epoch, step, train loss, validation metrics, learning rate, ms/step),
``last.safetensors`` (everything needed to resume) and ``best.safetensors`` (the best epoch by the
monitored metric). Only rank 0 writes; every write is atomic.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import yaml
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm import tqdm

from bioscope.errors import BioscopeError, InputError
from bioscope.io import atomic_write_text, load_checkpoint, save_checkpoint
from bioscope.io.checkpoint import tensor_digest
from bioscope.io.tables import csv_text
from bioscope.models.checkpoint import load_nets, net_specs, net_tensors
from bioscope.train.distributed import (
    DistContext,
    close_distributed,
    gather_strings,
    init_distributed,
)
from bioscope.train.state import (
    load_optimizers,
    load_rng,
    optimizer_state,
    rng_state,
    seed_everything,
)
from bioscope.train.task import Task

LAST, BEST = "last.safetensors", "best.safetensors"
METRICS, CONFIG, REPLICAS = "metrics.csv", "config.yaml", "replicas.json"


@dataclass
class TrainConfig:
    """Loop settings (what a step does is the task's).

    Attributes:
        epochs: total epochs of the run (a resumed run continues up to this).
        batch_size: images per step and process.
        seed: seeds weights, data order and augmentation; rank r uses ``seed + r`` for
            augmentation.
        patience: stop after this many epochs without improvement (``None``: never).
        monitor: the validation value that decides ``best`` and early stopping.
        mode: ``"min"`` or ``"max"``: which direction of ``monitor`` is better.
        num_workers: data-loader worker processes.
        device: ``"cpu"``, ``"cuda"``, or ``None`` for CUDA when present.
        progress: show a progress bar (on a terminal, on rank 0).
    """

    epochs: int = 100
    batch_size: int = 8
    seed: int = 0
    patience: int | None = None
    monitor: str = "val_loss"
    mode: Literal["min", "max"] = "min"
    num_workers: int = 0
    device: str | None = None
    progress: bool = True


@dataclass
class FitResult:
    """What a run ended with."""

    epochs_run: int
    best: float | None
    best_epoch: int
    stopped_early: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    test: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Progress:
    epoch: int = 0
    step: int = 0
    best: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0


class Trainer:
    """Runs a :class:`Task` over epochs.

    Args:
        task: networks, optimisers and the step logic.
        train_set: training dataset (items are whatever ``task.train_step`` takes, batched).
        val_set: validation dataset.
        config: loop settings.
        out: run folder (``None``: write nothing).
        run_config: the resolved configuration, saved as ``config.yaml`` and in checkpoints.
        on_epoch_end: called with the epoch number after each epoch's checkpoint is written.
        collate: ``collate_fn`` of the training loader (default: stack).
        val_batch_size: validation batch size (default: the training one); 1 for validation
            items of differing sizes (whole images of a mixed folder), which cannot be stacked.
    """

    def __init__(
        self,
        task: Task,
        train_set: Dataset,
        val_set: Dataset,
        config: TrainConfig,
        out: str | Path | None = None,
        run_config: dict[str, Any] | None = None,
        on_epoch_end: Callable[[int], None] | None = None,
        collate: Callable[[list[Any]], Any] | None = None,
        val_batch_size: int | None = None,
    ):
        if config.mode not in ("min", "max"):
            raise InputError(f"mode must be 'min' or 'max', got {config.mode!r}")
        if config.epochs < 1 or config.batch_size < 1:
            raise InputError("epochs and batch_size must be >= 1")
        self.task = task
        self.train_set = train_set
        self.val_set = val_set
        self.config = config
        self.out = Path(out) if out is not None else None
        self.run_config = run_config or {}
        self.on_epoch_end = on_epoch_end
        self.collate = collate
        self.val_batch_size = val_batch_size or config.batch_size
        self.rows: list[dict[str, Any]] = []
        self.is_main = True

    def fit(self, resume: bool = False) -> FitResult:
        """Train until ``config.epochs`` or early stopping; resume from ``last`` if asked."""
        context = init_distributed(self.config.device)
        try:
            return self._fit(context, resume)
        finally:
            close_distributed(context)

    def _fit(self, context: DistContext, resume: bool) -> FitResult:
        config = self.config
        self.is_main = context.is_main
        seed_everything(config.seed + context.rank)
        self.task.setup(context.device, context.wrap)
        progress = self._resume() if resume else _Progress()
        if context.is_main and self.out is not None:
            atomic_write_text(self.out / CONFIG, yaml.safe_dump(self.run_config, sort_keys=False))
        loader, sampler = self._train_loader(context)
        val_loader = DataLoader(self.val_set, batch_size=self.val_batch_size, shuffle=False)
        stopped = False
        for epoch in range(progress.epoch + 1, config.epochs + 1):
            self._order_epoch(sampler, epoch)
            train_logs, times = self._train_epoch(loader, epoch, progress, context)
            val_logs = self.task.validate(self.task.to_device(b) for b in val_loader)
            self.task.end_epoch()
            row = self._row(epoch, progress.step, train_logs, val_logs, times)
            stopped = self._update_best(progress, row, epoch)
            progress.epoch = epoch
            if context.is_main and self.out is not None:
                self._write(progress, row)
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch)
            if stopped:
                break
        self._check_replicas(context)
        return FitResult(progress.epoch, progress.best, progress.best_epoch, stopped, self.rows)

    def _train_loader(self, context: DistContext) -> tuple[DataLoader, Any]:
        if context.distributed:
            sampler: Any = DistributedSampler(
                self.train_set,
                context.world_size,
                context.rank,
                shuffle=True,
                seed=self.config.seed,
            )
        else:
            sampler = RandomSampler(self.train_set, generator=torch.Generator())
        loader = DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            sampler=sampler,
            num_workers=self.config.num_workers,
            pin_memory=context.device.type == "cuda",
            collate_fn=self.collate,
        )
        return loader, sampler

    def _order_epoch(self, sampler: Any, epoch: int) -> None:
        """Data order depends only on (seed, epoch), so a resumed run sees the same batches."""
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        else:
            sampler.generator.manual_seed(self.config.seed * 100_003 + epoch)

    def _train_epoch(
        self, loader: DataLoader, epoch: int, progress: _Progress, context: DistContext
    ) -> tuple[dict[str, float], list[float]]:
        sums: dict[str, float] = {}
        times: list[float] = []
        show = context.is_main and self.config.progress
        bar = tqdm(
            loader,
            desc=f"epoch {epoch}/{self.config.epochs}",
            leave=False,
            disable=None if show else True,
        )
        for batch in bar:
            batch = self.task.to_device(batch)
            start = time.perf_counter()
            logs = self.task.train_step(batch)
            if context.device.type == "cuda":
                torch.cuda.synchronize(context.device)
            times.append(1000 * (time.perf_counter() - start))
            progress.step += 1
            if not math.isfinite(logs["loss"]):
                raise BioscopeError(
                    f"training diverged: loss is {logs['loss']} at step {progress.step}"
                )
            for key, value in logs.items():
                sums[key] = sums.get(key, 0.0) + value
            bar.set_postfix(loss=f"{logs['loss']:.4f}")
        return {k: v / max(len(times), 1) for k, v in sums.items()}, times

    def _row(self, epoch, step, train_logs, val_logs, times) -> dict[str, Any]:
        row: dict[str, Any] = {"epoch": epoch, "step": step}
        row.update({f"train_{k}": v for k, v in train_logs.items()})
        row.update(val_logs)
        row["lr"] = self.task.lr
        row["ms_per_step"] = statistics.median(times) if times else float("nan")
        if self.config.monitor not in row:
            raise InputError(
                f"monitored value {self.config.monitor!r} is not logged; logged: {', '.join(row)}"
            )
        return row

    def _update_best(self, progress: _Progress, row: dict[str, Any], epoch: int) -> bool:
        value = float(row[self.config.monitor])
        better = progress.best is None or (
            value < progress.best if self.config.mode == "min" else value > progress.best
        )
        if better:
            progress.best, progress.best_epoch, progress.bad_epochs = value, epoch, 0
        else:
            progress.bad_epochs += 1
        self.rows.append(row)
        patience = self.config.patience
        return patience is not None and progress.bad_epochs >= patience

    def _write(self, progress: _Progress, row: dict[str, Any]) -> None:
        assert self.out is not None
        atomic_write_text(self.out / METRICS, csv_text(self.rows))
        self._save(self.out / LAST, progress)
        if progress.best_epoch == row["epoch"]:
            self._save(self.out / BEST, progress)

    def _save(self, path: Path, progress: _Progress) -> None:
        optim_tensors, optim_meta = optimizer_state(self.task.optimizers)
        rng_tensors, rng_meta = rng_state()
        tensors = {**net_tensors(self.task.nets), **optim_tensors, **rng_tensors}
        meta = {
            "task": self.task.name,
            "nets": net_specs(self.task.nets),
            "epoch": progress.epoch,
            "step": progress.step,
            "best": progress.best,
            "best_epoch": progress.best_epoch,
            "bad_epochs": progress.bad_epochs,
            "monitor": self.config.monitor,
            "optimizers": optim_meta,
            "schedulers": {k: s.state_dict() for k, s in self.task.schedulers.items()},
            "rng": rng_meta,
            "config": self.run_config,
        }
        if self.task.inference:
            meta["inference"] = self.task.inference
        save_checkpoint(path, tensors, meta)

    def _resume(self) -> _Progress:
        if self.out is None or not (self.out / LAST).is_file():
            raise InputError(f"cannot resume: no {LAST} in {self.out}")
        path = self.out / LAST
        tensors, meta = load_checkpoint(path)
        if meta.get("task") != self.task.name or meta.get("nets") != net_specs(self.task.nets):
            raise InputError(
                f"{path}: checkpoint is for {meta.get('task')} {meta.get('nets')}, not for this "
                f"run's {self.task.name} {net_specs(self.task.nets)}"
            )
        load_nets(self.task.nets, tensors, str(path))
        load_optimizers(self.task.optimizers, tensors, meta["optimizers"])
        for key, scheduler in self.task.schedulers.items():
            scheduler.load_state_dict(meta["schedulers"][key])
        load_rng(tensors, meta["rng"])
        self.rows = [r for r in _read_rows(self.out / METRICS) if int(r["epoch"]) <= meta["epoch"]]
        return _Progress(
            meta["epoch"], meta["step"], meta["best"], meta["best_epoch"], meta["bad_epochs"]
        )

    def _check_replicas(self, context: DistContext) -> None:
        """After a distributed run, check every rank ended with the same parameters."""
        if not context.distributed:
            return
        params = {
            f"{k}.{n}": p for k, net in self.task.nets.items() for n, p in net.named_parameters()
        }
        digests = gather_strings(context, tensor_digest(params))
        if context.is_main and self.out is not None:
            text = json.dumps({"world_size": context.world_size, "parameter_sha256": digests})
            atomic_write_text(self.out / REPLICAS, text)
        if len(set(digests)) != 1:
            raise BioscopeError(f"ranks ended with different weights: {digests}")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text else value
