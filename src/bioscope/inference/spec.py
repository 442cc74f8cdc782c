"""The inference spec: what a checkpoint tells its predictor about how to see images.

Training and export write it at the top level of the checkpoint's metadata (key ``"inference"``);
:func:`read_spec` is the one place that reads it. Checkpoints written before the spec existed get
one derived from their training configuration, by the same function.

* :class:`CellSpec`: mask threshold, prediction mode (``native`` or the paper's ``resize`` to a
  training square), nucleus diameter the model was trained at, percentile normalisation, input
  channels and the default counting method.
* :class:`SRSpec`: the trained scale range, MRI normalisation percentiles and input channels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from bioscope.counting import METHODS
from bioscope.data.intensity import PercentileNorm
from bioscope.errors import InputError

Mode = Literal["resize", "native"]
#: The smallest training square of a resize-mode model (a U-Net halves it four times).
MIN_SIZE = 16


@dataclass(frozen=True)
class CellSpec:
    """How a cell model sees images and turns its output into objects.

    Attributes:
        threshold: probability above which a pixel is cell.
        mode: ``native`` (full resolution, tiles for large images) or ``resize`` (the paper's
            resize to ``size`` x ``size``).
        size: the training square of a ``resize`` model; ``None`` for a native one.
        diameter: typical nucleus diameter (pixels) of the training images; images are rescaled so
            their nuclei appear at this size. ``None``: the model sees images as they are.
        estimate_diameter: when the caller gives no diameter, estimate it per image and rescale
            (a model trained on images brought to ``diameter``); ``False``: take images as they
            are unless a diameter is given.
        normalization: per-image percentiles.
        channels: input channels of the network.
        method: default counting method (see :data:`bioscope.counting.METHODS`).
    """

    threshold: float = 0.5
    mode: Mode = "native"
    size: int | None = None
    diameter: float | None = None
    estimate_diameter: bool = False
    normalization: PercentileNorm = field(default_factory=PercentileNorm)
    channels: int = 1
    method: str = "watershed"

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise InputError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.mode not in ("native", "resize"):
            raise InputError(f"unknown prediction mode {self.mode!r}; use native or resize")
        if self.mode == "resize" and not self.size:
            raise InputError(
                "mode 'resize' runs the network on its training square, and this model records "
                "none (it was trained at native resolution): leave the mode as it is"
            )
        if self.size is not None and not (isinstance(self.size, int) and self.size >= MIN_SIZE):
            raise InputError(f"size must be a whole number of pixels, >= {MIN_SIZE}: {self.size}")
        if self.diameter is not None and not (math.isfinite(self.diameter) and self.diameter > 0):
            raise InputError(f"diameter must be a positive number of pixels, got {self.diameter}")
        if self.estimate_diameter and self.diameter is None:
            raise InputError("estimate_diameter needs the model's training diameter")
        if self.method not in METHODS:
            raise InputError(
                f"unknown counting method {self.method!r}; known: {', '.join(METHODS)}"
            )


@dataclass(frozen=True)
class SRSpec:
    """How an SR model sees images.

    Attributes:
        scales: ``(low, high)`` of the scales it was trained on (``(2, 2)`` for an x2 model).
        normalization: ``(low, high)`` percentiles of :func:`~bioscope.data.intensity.mri_window`.
        channels: input channels.
    """

    scales: tuple[float, float] = (1.1, 4.0)
    normalization: tuple[float, float] = (0.5, 99.5)
    channels: int = 1

    def __post_init__(self) -> None:
        low, high = self.scales
        if not 1 <= low <= high:
            raise InputError(f"a trained scale range needs 1 <= low <= high, got {self.scales}")


Spec = CellSpec | SRSpec
SPECS: dict[str, type[CellSpec] | type[SRSpec]] = {"segmentation": CellSpec, "superres": SRSpec}


def with_overrides(spec: Spec, **overrides: Any) -> Spec:
    """``spec`` with fields replaced (``None`` values are ignored): how export records, and
    inference applies, a threshold, counting method or diameter choice.

    Raises:
        InputError: an override for a model that has no such choices (an SR model), a field the
            spec does not have, or an invalid value.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if not overrides:
        return spec
    if not isinstance(spec, CellSpec):
        raise InputError("an SR model has no mask threshold, counting method or diameter")
    try:
        return dataclasses.replace(spec, **overrides)
    except TypeError as exc:
        raise InputError(f"a cell model's spec has no such field ({exc})") from exc


def spec_to_dict(spec: Spec) -> dict[str, Any]:
    """The JSON form stored in a checkpoint (tuples as lists)."""
    out = dataclasses.asdict(spec)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def read_spec(meta: dict[str, Any], task: str) -> Spec:
    """The inference spec of a checkpoint's metadata: the stored one, or for a checkpoint from
    before specs, one derived from its training configuration.

    Raises:
        InputError: the stored spec does not fit its task's fields.
    """
    if task not in SPECS:
        raise InputError(f"no inference spec for task {task!r}")
    raw = meta.get("inference")
    if raw is None:
        return _legacy_spec(meta.get("config") or {}, task)
    if not isinstance(raw, dict):
        raise InputError(f"checkpoint inference spec must be a mapping, got {raw!r}")
    try:
        if task == "segmentation":
            norm = PercentileNorm(**(raw.get("normalization") or {}))
            return CellSpec(**{**raw, "normalization": norm})
        return SRSpec(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()},
        )
    except TypeError as exc:
        raise InputError(f"checkpoint inference spec does not fit {task} ({exc})") from exc


def _legacy_spec(config: dict[str, Any], task: str) -> Spec:
    data = config.get("data") or {}
    if task == "superres":
        low, high, _ = data.get("scales", (1.1, 4.0, 0.1))
        return SRSpec(scales=(float(low), float(high)))
    size = data.get("size", 256)
    optim = config.get("optim") or {}
    return CellSpec(
        threshold=float(optim.get("threshold", 0.5)),
        mode="native" if size is None else "resize",
        size=size,
    )
