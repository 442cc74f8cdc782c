"""napari sample data: a simulated BBBC005 nuclei field and the built-in T1 MRI template."""

from __future__ import annotations

from bioscope.napari import LayerData
from bioscope.napari.reader import volume_layer
from bioscope.samples import mri_slice, mri_volume, nuclei_field


def nuclei_sample() -> list[LayerData]:
    """A simulated 520 x 696 BBBC005 field of 60 nuclei and its true labels."""
    image, labels = nuclei_field(count=60, seed=0)
    return [
        (image, {"name": "nuclei (simulated)", "colormap": "gray"}, "image"),
        (labels, {"name": "nuclei truth", "opacity": 0.4, "visible": False}, "labels"),
    ]


def mri_slice_sample() -> list[LayerData]:
    """Axial slice 100 of the ICBM152 T1 template (1 mm pixels)."""
    return [(mri_slice(), {"name": "T1 template slice", "colormap": "gray"}, "image")]


def mri_volume_sample() -> list[LayerData]:
    """The ICBM152 T1 template volume in world space (RAS, 1 mm voxels)."""
    return [volume_layer(mri_volume(), name="T1 template")]
