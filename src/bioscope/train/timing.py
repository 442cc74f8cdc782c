"""Train-step timing of several models, A/B interleaved so drift and load hit all alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from bioscope.losses import bce_dice_loss

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def interleaved_step_times(
    models: dict[str, nn.Module],
    size: int,
    batch: int,
    repeats: int = 7,
    loss: Loss = bce_dice_loss,
) -> dict[str, list[float]]:
    """Milliseconds of one Adam training step of each model, taken in turns.

    Each model gets one warm-up step, then ``repeats`` rounds in which every model takes one step
    on the same random batch of ``batch`` images of ``size`` x ``size``.
    """
    steps = {name: step_function(model, size, batch, loss) for name, model in models.items()}
    return time_in_turns(steps, repeats)


def time_in_turns(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Milliseconds of each call over ``repeats`` rounds, every call once per round (after one
    untimed warm-up round), so drift and load hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(repeats + 1):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if round_:
                times[name].append(1000 * (time.perf_counter() - start))
    return times


def median_ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """Median time of ``numerator`` over median time of ``denominator``."""
    return statistics.median(times[numerator]) / statistics.median(times[denominator])


def step_function(
    model: nn.Module, size: int, batch: int, loss: Loss = bce_dice_loss
) -> Callable[[], None]:
    """A function that takes one Adam training step of ``model`` on a fixed random batch of
    ``batch`` ``size`` x ``size`` one-channel images."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 1, size, size, generator=generator)
    y = (torch.rand(batch, 1, size, size, generator=generator) > 0.7).float()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()

    def step() -> None:
        value = loss(model(x)[:, :1], y)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()

    return step
