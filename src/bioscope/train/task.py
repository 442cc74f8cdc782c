"""What a task gives the trainer: networks, optimisers, one training step, one validation pass."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn


class Task:
    """Base class of a training task.

    A task owns its networks (``nets``, saved in checkpoints under their keys), optimisers and
    learning-rate schedulers, and knows how to take one training step and how to validate. The
    :class:`~bioscope.train.loop.Trainer` owns everything else: epochs, data order, devices,
    distribution, logging, checkpoints, resume and early stopping.

    Subclasses set ``nets``, ``optimizers`` and ``schedulers`` in ``__init__`` and implement
    :meth:`train_step` and :meth:`validate`. Steps use ``self.trained[name]``: the network as
    wrapped for training (by DDP in a distributed run), or the network itself.
    """

    name = "task"

    def __init__(self) -> None:
        self.nets: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, Any] = {}
        self.trained: dict[str, nn.Module] = {}
        self.device = torch.device("cpu")
        #: The inference spec the trainer writes into checkpoints (see bioscope.inference.spec).
        self.inference: dict[str, Any] = {}

    def setup(self, device: torch.device, wrap: Callable[[nn.Module], nn.Module]) -> None:
        """Move the networks to ``device`` and wrap the trainable ones for training."""
        self.device = device
        for key, net in self.nets.items():
            net.to(device)
            trainable = any(p.requires_grad for p in net.parameters())
            self.trained[key] = wrap(net) if trainable else net

    def train_step(self, batch: Any) -> dict[str, float]:
        """One update on ``batch``; returns logged values, at least ``"loss"``."""
        raise NotImplementedError

    def validate(self, batches: Iterable[Any]) -> dict[str, float]:
        """Score the networks on validation batches; keys start with ``val_``."""
        raise NotImplementedError

    def end_epoch(self) -> None:
        """Called after every epoch; by default steps every epoch-based scheduler."""
        for scheduler in self.schedulers.values():
            scheduler.step()

    @property
    def lr(self) -> float:
        """The learning rate of the first optimiser's first group."""
        optimizer = next(iter(self.optimizers.values()))
        return float(optimizer.param_groups[0]["lr"])

    def to_device(self, batch: Any) -> Any:
        """Move a batch (tensor, or dict/list/tuple of tensors) to the task's device."""
        if isinstance(batch, torch.Tensor):
            return batch.to(self.device, non_blocking=True)
        if isinstance(batch, dict):
            return {k: self.to_device(v) for k, v in batch.items()}
        if isinstance(batch, list | tuple):
            return type(batch)(self.to_device(v) for v in batch)
        return batch
