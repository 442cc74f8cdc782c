"""Segment and count the nuclei of a 2-D image as napari layer data: labels and centroids.

The plain function behind the cells widget. It segments through :func:`bioscope.api.segmentation`
with the API's shared predictor (loaded once per model and device), so its count equals
``bioscope.count`` and ``bioscope cells count`` on the same image.
"""

from __future__ import annotations

import os

import numpy as np

from bioscope.api import segmentation, shared_cell_model
from bioscope.inference.cells import Diameter
from bioscope.napari import LayerData
from bioscope.napari.placement import Placement, placement_for


def segment_cells(
    image: np.ndarray,
    placement: Placement | None = None,
    *,
    name: str = "image",
    method: str | None = None,
    diameter: Diameter = None,
    threshold: float | None = None,
    device: str = "auto",
    model: str | os.PathLike[str] | None = None,
) -> list[LayerData]:
    """A labels layer and a points layer at the centroids of the nuclei in ``image``.

    Args:
        image: grey ``(H, W)`` or RGB ``(H, W, 3)``, any dtype.
        placement: where the image layer sits in the world; both new layers get it.
        name: the image layer's name (the new layers are ``"<name> labels"`` and
            ``"<name> centroids"``).
        method: counting method (``None``: the model's; see :data:`bioscope.counting.METHODS`).
        diameter: nucleus diameter in pixels, ``"auto"``, or ``None``/``0`` (as the model says).
        threshold: mask threshold (``None``: the model's).
        device: ``auto``, ``cpu`` or ``cuda``.
        model: a cell checkpoint (``None``: the shipped model).

    Returns:
        ``[labels, points]``; the labels layer's metadata holds ``count``, ``method``,
        ``threshold``, ``model`` and ``empty`` (nothing stands above the noise).

    Raises:
        InputError: not a 2-D image, or a bad method, diameter, threshold, device or model.
    """
    image = np.asarray(image)
    placement = placement_for(placement, 2, name)
    predictor = shared_cell_model(model, device)
    result = segmentation(
        image,
        model=predictor,
        diameter=None if diameter in (0, "0", "") else diameter,
        threshold=threshold,
        method=method,
    )
    summary = {
        "count": result.count,
        "method": result.method,
        "threshold": result.threshold,
        "model": predictor.source,
        "empty": result.empty,
    }
    labels = {"name": f"{name} labels", "metadata": summary, **placement.kwargs()}
    points = {
        "name": f"{name} centroids",
        "features": {"cell": np.arange(1, result.count + 1)},
        "size": 6,
        "face_color": "yellow",
        **placement.kwargs(),
    }
    centres = np.asarray(result.centres, float).reshape(-1, 2)
    return [(result.labels, labels, "labels"), (centres, points, "points")]
