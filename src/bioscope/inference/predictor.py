"""What every predictor holds: a network on a device, its inference spec, and one inferer."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from bioscope.device import resolve_device
from bioscope.inference.window import SlidingWindow


class Predictor:
    """A network in eval mode on ``device`` (``auto``: CUDA when available), the spec its
    checkpoint carries, where it came from, and a :class:`SlidingWindow` that runs it there.
    Subclasses set :attr:`WINDOW`, their default tiling."""

    WINDOW = SlidingWindow()

    def __init__(
        self,
        net: nn.Module,
        spec: Any,
        source: str = "network",
        device: str | torch.device | None = "auto",
        window: SlidingWindow | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.net = net.eval().to(self.device)
        self.spec = spec
        self.source = source
        self.window = dataclasses.replace(window or self.WINDOW, device=self.device)
