"""Choosing where networks run: ``auto`` (CUDA when available), ``cpu`` or ``cuda[:N]``."""

from __future__ import annotations

import torch

from bioscope.errors import InputError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """The device ``name`` stands for; ``None`` and ``"auto"`` mean CUDA when available.

    Raises:
        InputError: an unknown name, or CUDA asked for where there is none.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(name, torch.device):
        name = str(name)
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise InputError(f"unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"unsupported device {name!r}; use auto, cpu or cuda")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {name!r} asked for, but no CUDA GPU is available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(
                f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) here"
            )
    return device
