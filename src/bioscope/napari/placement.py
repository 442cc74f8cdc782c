"""Where a layer sits in napari's world, and where its enlarged copy must sit to overlay it.

napari puts data index ``i`` (a pixel centre) at world ``affine @ (translate + scale * i)``.
bioscope resamples with pixel centres aligned: output pixel ``j`` of an enlargement by ``s`` sits
at input coordinate ``(j + 1/2) / s - 1/2`` along each enlarged axis. So an enlarged axis takes
``scale / s`` and ``translate + scale * (1/(2s) - 1/2)``; the other axes and the affine stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bioscope.errors import InputError


@dataclass(frozen=True)
class Placement:
    """A layer's ``scale`` and ``translate`` (one per axis) and its ``affine`` (``None``: none).

    Example:
        >>> Placement((2.0, 2.0), (10.0, 0.0)).enlarged(4, axes=(0,)).kwargs()
        {'scale': (0.5, 2.0), 'translate': (9.25, 0.0)}
    """

    scale: tuple[float, ...]
    translate: tuple[float, ...]
    affine: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.translate) != len(self.scale):
            raise InputError(f"scale {self.scale} and translate {self.translate} differ in length")

    @classmethod
    def unit(cls, ndim: int) -> Placement:
        """Data coordinates as world coordinates: unit scale, no translation."""
        return cls((1.0,) * ndim, (0.0,) * ndim)

    @classmethod
    def of(cls, layer: Any) -> Placement:
        """The placement of a napari layer (rotation and shear are refused: fold them into the
        layer's affine).

        Raises:
            InputError: the layer is rotated or sheared.
        """
        if not np.allclose(layer.rotate, np.eye(layer.ndim)) or np.any(layer.shear):
            raise InputError(
                f"layer {layer.name!r} is rotated or sheared; bioscope places results by scale, "
                "translate and affine only: set the rotation or shear through its affine"
            )
        affine = np.asarray(layer.affine.affine_matrix, float)
        return cls(
            tuple(float(v) for v in layer.scale),
            tuple(float(v) for v in layer.translate),
            None if np.allclose(affine, np.eye(len(affine))) else affine,
        )

    @property
    def ndim(self) -> int:
        """Number of world axes."""
        return len(self.scale)

    def enlarged(self, factor: float, axes: Sequence[int]) -> Placement:
        """The placement of this layer's data enlarged by ``factor`` along ``axes``."""
        scale, translate = list(self.scale), list(self.translate)
        for axis in axes:
            translate[axis] += scale[axis] * (0.5 / factor - 0.5)
            scale[axis] /= factor
        return Placement(tuple(scale), tuple(translate), self.affine)

    def kwargs(self) -> dict[str, Any]:
        """The layer keyword arguments that place a layer here."""
        placed: dict[str, Any] = {"scale": self.scale, "translate": self.translate}
        if self.affine is not None:
            placed["affine"] = self.affine
        return placed


def placement_for(placement: Placement | None, ndim: int, name: str) -> Placement:
    """``placement`` (default: unit) of layer ``name``, checked to have ``ndim`` axes.

    Raises:
        InputError: the layer has another number of dimensions.
    """
    placement = placement or Placement.unit(ndim)
    if placement.ndim != ndim:
        raise InputError(f"layer {name!r} has {placement.ndim} dimensions; expected {ndim} here")
    return placement
