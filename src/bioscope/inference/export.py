"""Shipping a trained model: its networks and the inference spec, without training state."""

from __future__ import annotations

import os
from pathlib import Path

from bioscope.errors import InputError
from bioscope.inference.spec import read_spec, spec_to_dict, with_overrides
from bioscope.io import load_checkpoint, save_checkpoint
from bioscope.models.checkpoint import network_entry


def export_weights(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    task: str,
    threshold: float | None = None,
    method: str | None = None,
    estimate_diameter: bool | None = None,
) -> Path:
    """Write the network of a ``task`` training checkpoint without optimiser and RNG state (and
    without a GAN's discriminator).

    The metadata keeps what inference needs: task, network specs, training configuration, epoch,
    and the inference spec (the stored one, or one derived from the configuration of an older
    checkpoint), with ``threshold`` replacing a cell model's mask threshold (choose it on
    validation data, not test), ``method`` its default counting method and ``estimate_diameter``
    whether it estimates nucleus size when the caller gives none.

    Raises:
        InputError: ``source`` is not a ``task`` checkpoint, or ``threshold`` is given for a
            model without one or lies outside (0, 1), or ``method`` is unknown.
    """
    tensors, meta = load_checkpoint(source)
    if meta.get("task") != task:
        raise InputError(f"{source}: a {meta.get('task')!r} checkpoint, not a {task!r} one")
    spec = with_overrides(
        read_spec(meta, task),
        threshold=threshold,
        method=method,
        estimate_diameter=estimate_diameter,
    )
    weights = {k: v for k, v in tensors.items() if k.startswith("nets.model.")}
    keep = {k: meta[k] for k in ("task", "config", "epoch", "step", "best", "monitor") if k in meta}
    # a GAN's discriminator is not for inference
    keep["nets"] = {"model": network_entry(meta, source)}
    keep["exported_from"] = Path(source).name
    keep["inference"] = spec_to_dict(spec)
    return save_checkpoint(dest, weights, keep)
