"""Read NIfTI files (``.nii``, ``.nii.gz``) as napari image layers in world space (RAS, mm).

Volumes are read by :func:`~bioscope.io.volumes.read_volume`, so napari shows the same canonical
voxels the command line processes (axis 0 left->right, 1 posterior->anterior, 2
inferior->superior). An axis-aligned affine becomes the layer's ``scale`` (voxel sizes) and
``translate`` (the world position of voxel 0); an oblique one is passed as the layer's ``affine``
(with unit scale): a :class:`~bioscope.napari.placement.Placement` either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bioscope.io.volumes import NIFTI_SUFFIXES, Volume, read_volume
from bioscope.napari import LayerData
from bioscope.napari.placement import Placement

PathOrPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], list[LayerData]] | None:
    """:func:`read_nifti` when every path is a NIfTI file, else ``None`` (napari's convention)."""
    paths = _paths(path)
    if paths and all(str(p).lower().endswith(NIFTI_SUFFIXES) for p in paths):
        return read_nifti
    return None


def read_nifti(path: PathOrPaths) -> list[LayerData]:
    """One image layer per NIfTI file.

    Raises:
        InputError: a file that is missing, unreadable, 4-D, singular or not finite (naming it).
    """
    return [volume_layer(read_volume(p)) for p in _paths(path)]


def volume_layer(volume: Volume, name: str | None = None) -> LayerData:
    """An image layer of ``volume`` placed at its affine (``name``: the file's stem)."""
    affine = np.asarray(volume.affine, float)
    linear = affine[:3, :3]
    if np.allclose(linear, np.diag(np.diag(linear))):
        scale, translate = np.diag(linear), affine[:3, 3]
        placement = Placement(tuple(map(float, scale)), tuple(map(float, translate)))
    else:
        placement = replace(Placement.unit(3), affine=affine)
    metadata = {
        "source": volume.source,
        "orientation": volume.orientation,
        "voxel_sizes": volume.voxel_sizes,
        "affine": affine,
    }
    kwargs = {
        "name": name or _stem(volume.source),
        "colormap": "gray",
        "metadata": metadata,
        **placement.kwargs(),
    }
    return volume.data, kwargs, "image"


def _paths(path: PathOrPaths) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


def _stem(source: str) -> str:
    name = Path(source).name
    return next((name[: -len(s)] for s in NIFTI_SUFFIXES if name.lower().endswith(s)), name)
