"""Training state <-> checkpoint: networks, optimisers, schedulers and every RNG, without pickle.

Tensors (weights, optimiser moments, RNG states) become safetensors entries; everything else
(hyper-parameters, scheduler counters, Python's RNG state) becomes JSON metadata.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def optimizer_state(
    optimizers: dict[str, torch.optim.Optimizer],
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split optimiser state dicts into tensors and JSON."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for key, optimizer in optimizers.items():
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, values in state["state"].items():
            for name, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{key}.{index}.{name}"] = value
                else:
                    scalars.setdefault(str(index), {})[name] = value
        meta[key] = {"param_groups": state["param_groups"], "scalars": scalars}
    return tensors, meta


def load_optimizers(
    optimizers: dict[str, torch.optim.Optimizer],
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any],
) -> None:
    """Restore optimisers from :func:`optimizer_state` output."""
    for key, optimizer in optimizers.items():
        state: dict[int, dict[str, Any]] = {}
        prefix = f"optim.{key}."
        for name, value in tensors.items():
            if name.startswith(prefix):
                index, field = name[len(prefix) :].split(".", 1)
                state.setdefault(int(index), {})[field] = value
        for index, values in meta[key]["scalars"].items():
            state.setdefault(int(index), {}).update(values)
        optimizer.load_state_dict({"state": state, "param_groups": meta[key]["param_groups"]})


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The torch (CPU and CUDA), NumPy and Python RNG states."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (global state)
    tensors["rng.numpy"] = torch.from_numpy(keys.astype(np.int64))
    version, internal, gauss_next = random.getstate()
    meta = {
        "numpy": [kind, int(pos), int(has_gauss), float(gauss)],
        "python": [version, list(internal), gauss_next],
    }
    return tensors, meta


def load_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Restore the RNG states saved by :func:`rng_state`."""
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state(  # noqa: NPY002 (the global state, for code that still uses it)
        (kind, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, gauss)
    )
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global state, for code that uses it)
    torch.manual_seed(seed)
