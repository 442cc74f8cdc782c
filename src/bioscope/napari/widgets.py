"""The magicgui widgets of the plugin: thin forms around the plain functions.

Each factory imports napari and magicgui when called (napari calls it when the widget is opened),
reads the chosen layer's data and :class:`~bioscope.napari.placement.Placement`, runs
:func:`~bioscope.napari.cells.segment_cells` or :func:`~bioscope.napari.superres.upscale_layer`
and returns their layer data, which napari adds to the viewer (or updates, by layer name).
"""

# no `from __future__ import annotations`: magicgui reads the inner functions' annotations, which
# name napari types imported inside the factories
from pathlib import Path
from typing import Any

import numpy as np

from bioscope.counting import METHODS
from bioscope.device import DEVICES
from bioscope.errors import InputError
from bioscope.napari.placement import Placement

_CHECKPOINT = {"mode": "r", "filter": "*.safetensors", "nullable": True}


def cells_widget() -> Any:
    """A widget that segments and counts the nuclei of a 2-D image layer."""
    from magicgui import magicgui
    from napari.layers import Image
    from napari.types import LayerDataTuple
    from napari.utils.notifications import show_info, show_warning

    from bioscope.napari.cells import segment_cells

    def segment(
        image: Image,
        method: str | None = None,
        diameter: str = "0",
        threshold: float = 0.0,
        device: str = "auto",
        checkpoint: Path | None = None,
    ) -> list[LayerDataTuple]:
        data, placement = _layer_input(image)
        layers = segment_cells(
            data,
            placement,
            name=image.name,
            method=method,
            diameter=diameter.strip(),
            threshold=threshold or None,
            device=device,
            model=checkpoint,
        )
        summary = layers[0][1]["metadata"]
        show_info(f"{image.name}: {summary['count']} cells ({summary['method']})")
        if summary["empty"]:
            show_warning(f"{image.name} looks empty: nothing stands above its noise")
        return layers

    return magicgui(
        segment,
        call_button="Segment and count",
        method={"choices": [("model's", None), *((m, m) for m in METHODS)]},
        diameter={"label": "diameter (px, auto; 0: model's)"},
        threshold={"min": 0.0, "max": 0.99, "step": 0.05, "label": "threshold (0: model's)"},
        device={"choices": DEVICES},
        checkpoint=_CHECKPOINT,
    )


def superres_widget() -> Any:
    """A widget that enlarges a 2-D image or 3-D volume layer by any scale (1.1 to 4)."""
    from magicgui import magicgui
    from napari.layers import Image
    from napari.types import LayerDataTuple

    from bioscope.napari.superres import upscale_layer

    def upscale(
        image: Image,
        scale: float = 2.0,
        axis: int = 2,
        through_plane: bool = False,
        device: str = "auto",
        checkpoint: Path | None = None,
    ) -> list[LayerDataTuple]:
        if image.rgb:
            raise InputError(f"layer {image.name!r} is RGB; super-resolution takes grey images")
        data, placement = _layer_input(image)
        return upscale_layer(
            data,
            scale,
            placement,
            name=image.name,
            axis=axis,
            through_plane=through_plane,
            device=device,
            model=checkpoint,
        )

    return magicgui(
        upscale,
        call_button="Super-resolve",
        scale={"min": 1.1, "max": 4.0, "step": 0.1},
        axis={"choices": [0, 1, 2], "label": "slice axis (volumes)"},
        through_plane={"label": "across slices (volume's slice axis only)"},
        device={"choices": DEVICES},
        checkpoint=_CHECKPOINT,
    )


def _layer_input(layer: Any) -> tuple[np.ndarray, Placement]:
    """The data of an image layer (one resolution level) and its placement."""
    if layer.multiscale:
        raise InputError(f"layer {layer.name!r} is multiscale; bioscope takes one resolution")
    return np.asarray(layer.data), Placement.of(layer)
