"""The magicgui widgets (offscreen Qt): their fields, and that they run the plain functions on a
layer's data and placement."""

from __future__ import annotations

import numpy as np
import pytest

from bioscope.device import DEVICES
from bioscope.errors import InputError
from bioscope.napari.cells import segment_cells
from bioscope.napari.placement import Placement


@pytest.fixture
def layers(monkeypatch: pytest.MonkeyPatch):
    """napari's layer classes, with Qt set to draw offscreen."""
    pytest.importorskip("napari", reason="the widgets need the napari extra")
    pytest.importorskip(
        "qtpy.QtWidgets", reason="the widgets need a Qt binding (e.g. PyQt5)", exc_type=ImportError
    )
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    from napari import layers

    return layers


def test_cells_widget(layers, field: np.ndarray) -> None:
    from bioscope.napari.widgets import cells_widget

    widget = cells_widget()
    names = [w.name for w in widget]
    assert names == [
        "image",
        "method",
        "diameter",
        "threshold",
        "device",
        "checkpoint",
        "call_button",
    ]
    assert widget.method.value is None and widget.checkpoint.value is None
    assert tuple(widget.device.choices) == DEVICES
    image = layers.Image(field, name="nuclei", scale=(0.65, 0.5), translate=(3.0, 4.0))
    labels, points = widget(image=image, device="cpu")
    [expected, _] = segment_cells(field, Placement.of(image), device="cpu")
    np.testing.assert_array_equal(labels[0], expected[0])
    assert labels[1]["name"] == "nuclei labels" and points[1]["scale"] == (0.65, 0.5)
    with pytest.raises(InputError, match="rotated or sheared"):
        widget(image=layers.Image(field, rotate=30), device="cpu")


def test_superres_widget(layers) -> None:
    from bioscope.napari.widgets import superres_widget

    widget = superres_widget()
    assert (widget.scale.min, widget.scale.max, widget.axis.value) == (1.1, 4.0, 2)
    assert widget.through_plane.value is False
    volume = np.random.default_rng(0).random((24, 20, 3)).astype(np.float32)
    image = layers.Image(volume, name="mri", scale=(1.0, 2.0, 3.0), translate=(5.0, 6.0, 7.0))
    [(out, meta, _)] = widget(image=image, scale=2.0, device="cpu")
    assert out.shape == (48, 40, 3)
    assert meta["scale"] == (0.5, 1.0, 3.0) and meta["translate"] == (4.75, 5.5, 7.0)
    with pytest.raises(InputError, match="is RGB"):
        widget(image=layers.Image(np.zeros((8, 8, 3), np.uint8), rgb=True), device="cpu")
