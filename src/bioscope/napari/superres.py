"""Super-resolve a 2-D image or a 3-D volume (in-plane, or across its slices) as napari layer
data, placed in the world.

The plain function behind the super-resolution widget. It upscales through
:func:`bioscope.api.upscale` with the API's shared predictor (loaded once per model and device),
and places the result with :meth:`~bioscope.napari.placement.Placement.enlarged`, so it
overlays the input.
"""

from __future__ import annotations

import os

import numpy as np

from bioscope.api import shared_sr_model, upscale
from bioscope.errors import InputError
from bioscope.geometry import Scale, parse_scale
from bioscope.io.volumes import check_axis
from bioscope.napari import LayerData
from bioscope.napari.placement import Placement, placement_for


def upscale_layer(
    data: np.ndarray,
    scale: Scale,
    placement: Placement | None = None,
    *,
    name: str = "image",
    axis: int = 2,
    through_plane: bool = False,
    device: str = "auto",
    model: str | os.PathLike[str] | None = None,
) -> list[LayerData]:
    """An image layer of ``data`` enlarged by ``scale``, placed over the input in the world.

    Args:
        data: a 2-D image, or a 3-D volume enlarged in the planes across ``axis``.
        scale: e.g. ``2``, ``2.5``, ``"27/10"`` (read as :func:`~bioscope.geometry.parse_scale`
            reads it; outside the model's trained range a warning).
        placement: where the input layer sits in the world.
        name: the input layer's name (the new layer is ``"<name> x<scale>"``).
        axis: the slice axis of a volume (2: axial slices of a NIfTI read by bioscope).
        through_plane: enlarge a volume along ``axis`` only (thick slices to thin ones),
            instead of in the planes across it.
        device: ``auto``, ``cpu`` or ``cuda``.
        model: an SR checkpoint (``None``: the shipped Meta-SRGAN).

    Returns:
        ``[image]``: float32 in the input's units, ``floor(s n)`` pixels along each enlarged axis.

    Raises:
        InputError: not 2-D or 3-D, a bad axis, scale, device or model.
    """
    data = np.asarray(data)
    if data.ndim not in (2, 3):
        raise InputError(f"expected a 2-D image or a 3-D volume, got shape {data.shape}")
    placement = placement_for(placement, data.ndim, name)
    if data.ndim == 3:
        axis = check_axis(axis)
    factor = parse_scale(scale)
    if through_plane and data.ndim != 3:
        raise InputError("across slices (through-plane) needs a 3-D volume")
    predictor = shared_sr_model(model, device)
    result = upscale(data, factor, model=predictor, axis=axis, through_plane=through_plane)
    if through_plane:
        enlarged = [axis]
    else:
        enlarged = (0, 1) if data.ndim == 2 else [i for i in range(3) if i != axis]
    metadata = {"scale": str(factor), "model": predictor.name, "source": name}
    kwargs = {
        "name": f"{name} x{float(factor):g}",
        "metadata": metadata,
        **placement.enlarged(float(factor), enlarged).kwargs(),
    }
    return [(result, kwargs, "image")]
