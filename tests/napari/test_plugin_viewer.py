"""The plugin's layers in a real napari viewer model (no display): they overlay the image."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari", reason="the viewer test needs the napari extra")

import npe2  # noqa: E402
from napari.components import ViewerModel  # noqa: E402
from napari.layers import Layer  # noqa: E402

from bioscope.napari.cells import segment_cells  # noqa: E402
from bioscope.napari.placement import Placement  # noqa: E402
from bioscope.napari.superres import upscale_layer  # noqa: E402


def test_layers_overlay_the_image_in_world_space(field: np.ndarray) -> None:
    viewer = ViewerModel()
    image = viewer.add_image(field, name="nuclei", scale=(0.65, 0.5), translate=(100.0, -20.0))
    placed = Placement.of(image)
    for data in [
        *segment_cells(image.data, placed, name=image.name, device="cpu"),
        *upscale_layer(image.data, 2.5, placed, name=image.name, device="cpu"),
    ]:
        viewer.add_layer(Layer.create(*data))
    assert [layer.name for layer in viewer.layers] == [
        "nuclei",
        "nuclei labels",
        "nuclei centroids",
        "nuclei x2.5",
    ]
    labels, points, big = (viewer.layers[i] for i in range(1, 4))
    # a nucleus centre is at the same world position in the image, labels and points layers
    centre = points.data[0]
    world = image.data_to_world(centre)
    np.testing.assert_allclose(labels.data_to_world(centre), world)
    np.testing.assert_allclose(points.data_to_world(centre), world)
    assert labels.data[tuple(np.round(labels.world_to_data(world)).astype(int))] > 0
    # SR pixel j lies over image coordinate (j + 1/2) / 2.5 - 1/2, at both ends of the grid
    assert big.data.shape == (480, 640)
    for j in (np.zeros(2), np.array(big.data.shape) - 1.0):
        np.testing.assert_allclose(big.data_to_world(j), image.data_to_world((j + 0.5) / 2.5 - 0.5))
    # the enlarged image covers the same world box (outer pixel edges) as the input
    for big_edge, edge in [
        (-0.5, -0.5),
        (np.array(big.data.shape) - 0.5, np.array(field.shape) - 0.5),
    ]:
        np.testing.assert_allclose(
            big.data_to_world(np.broadcast_to(big_edge, 2)),
            image.data_to_world(np.broadcast_to(edge, 2)),
        )


def test_napari_finds_the_reader_and_samples(stored_las, tmp_path) -> None:
    """Through napari's plugin manager, which finds the installed entry point as napari's own
    start-up does (a bare ViewerModel does not start plugin discovery)."""
    npe2.PluginManager.instance().discover(include_npe1=False)
    path = stored_las(tmp_path / "head.nii.gz", np.ones((6, 5, 4), np.float32))
    viewer = ViewerModel()
    [volume] = viewer.open(path, plugin="bioscope")
    assert volume.name == "head" and tuple(volume.scale) == (2.0, 2.0, 4.0)
    [plane] = viewer.open_sample("bioscope", "mri_slice")
    assert plane.name == "T1 template slice" and plane.ndim == 2
