"""The public Python API: segment, count and upscale in one call each.

Each function builds (or takes) a predictor, the same one the command line uses, so a count from
Python equals the count of ``bioscope cells count`` on the same file. Given a checkpoint path (or
none), they share one predictor per path and device (:func:`shared_cell_model`,
:func:`shared_sr_model`); for a predictor of your own, load it with :func:`load_cell_model` /
:func:`load_sr_model` and pass it as ``model``. :func:`segmentation` gives labels, count,
centres and probability maps from one pass.
"""

from __future__ import annotations

import os
import warnings
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from bioscope.device import resolve_device
from bioscope.errors import BioscopeWarning, InputError, naming
from bioscope.inference.cells import CellPredictor, Segmentation
from bioscope.inference.superres import SRPredictor
from bioscope.io.images import pick_channel, read_image
from bioscope.io.volumes import Volume, read_volume

PathLike = str | os.PathLike[str]
Device = str | torch.device | None
AnyPredictor = TypeVar("AnyPredictor", CellPredictor, SRPredictor)


def load_cell_model(path: PathLike | None = None, device: Device = "auto") -> CellPredictor:
    """The cell predictor of checkpoint ``path`` (default: the shipped model) on ``device``
    (``auto``: CUDA when available)."""
    return CellPredictor.from_checkpoint(path, device)


def load_sr_model(path: PathLike | None = None, device: Device = "auto") -> SRPredictor:
    """The SR predictor of checkpoint ``path`` (default: the shipped Meta-SRGAN) on ``device``."""
    return SRPredictor.from_checkpoint(path, device)


def segmentation(
    image: np.ndarray | PathLike,
    *,
    model: CellPredictor | PathLike | None = None,
    diameter: float | str | None = None,
    threshold: float | None = None,
    method: str | None = None,
    channel: int | None = None,
    device: Device = "auto",
) -> Segmentation:
    """Everything one pass over a 2-D image finds: labels, count, centres, the network's maps,
    and whether the image looks empty (arguments as :func:`segment`)."""
    predictor = (
        model if isinstance(model, CellPredictor) else shared_cell_model(_path(model), device)
    )
    predictor = predictor.with_overrides(threshold, method)
    if not isinstance(image, (str, os.PathLike)):
        pixels = np.asarray(image)
        if channel is not None:  # channels on the shorter of the first and last axes
            last = pixels.ndim == 3 and pixels.shape[-1] < pixels.shape[0]
            pixels = pick_channel(pixels, channel, channels_last=last)
        return predictor.segment(pixels, diameter)
    predictor.check_diameter(diameter)  # an argument's error, not the file's
    pixels = read_image(image, channel=channel)
    try:
        return predictor.segment(pixels, diameter)
    except InputError as exc:  # what is wrong with the pixels, led by the file they came from
        raise naming(image, exc) from exc


def segment(
    image: np.ndarray | PathLike,
    *,
    model: CellPredictor | PathLike | None = None,
    diameter: float | str | None = None,
    threshold: float | None = None,
    method: str | None = None,
    channel: int | None = None,
    device: Device = "auto",
) -> np.ndarray:
    """Instance labels ``(H, W)`` (int32, 0 background) of the cells in a 2-D image; a
    :class:`~bioscope.errors.BioscopeWarning` when nothing in it stands above its noise.

    Args:
        image: grey ``(H, W)`` or RGB ``(H, W, 3)``, any dtype (a 12-bit camera's uint16 is
            fine), or a TIFF/PNG file (read as ``bioscope cells count`` reads it).
        model: a predictor from :func:`load_cell_model`, a checkpoint path, or the shipped model.
        diameter: typical nucleus diameter in pixels, or ``"auto"`` (estimated from the image);
            with none, as the model's spec says (the shipped model takes images as they are).
        threshold: mask threshold (default: the model's).
        method: counting method (default: the model's; see ``bioscope cells count --help``).
        channel: the nuclear stain's channel (0-based) of a multi-channel image: of an array
            ``(H, W, C)`` or ``(C, H, W)`` (the shorter of the first and last axes; 2 is blue
            in RGB), or as ``bioscope cells count --channel`` reads a file; default: grey as
            is, RGB as its luminance.
        device: ``auto``, ``cpu`` or ``cuda`` (ignored when ``model`` is a predictor).
    """
    result = segmentation(
        image,
        model=model,
        diameter=diameter,
        threshold=threshold,
        method=method,
        channel=channel,
        device=device,
    )
    return _warned(result).labels


def count(
    image: np.ndarray | PathLike,
    *,
    model: CellPredictor | PathLike | None = None,
    diameter: float | str | None = None,
    threshold: float | None = None,
    method: str | None = None,
    channel: int | None = None,
    device: Device = "auto",
) -> int:
    """Number of cells in a 2-D image (arguments and warning as :func:`segment`)."""
    result = segmentation(
        image,
        model=model,
        diameter=diameter,
        threshold=threshold,
        method=method,
        channel=channel,
        device=device,
    )
    return _warned(result).count


def upscale(
    image: np.ndarray | Volume | PathLike,
    scale: float | str | Fraction,
    *,
    model: SRPredictor | PathLike | None = None,
    axis: int = 2,
    through_plane: bool = False,
    clip: bool | None = None,
    device: Device = "auto",
) -> np.ndarray | Volume:
    """Enlarge a 2-D image or a 3-D volume (in-plane, slices along ``axis``; or with
    ``through_plane`` across the slices: along ``axis`` only) by ``scale``.

    Args:
        image: an array, a :class:`~bioscope.io.volumes.Volume`, or a NIfTI/DICOM/PNG/TIFF/NPY
            path (read as a canonical volume; a :class:`Volume` with its new affine comes back).
        scale: ``2``, ``2.5``, ``"2.7"`` or ``Fraction(27, 10)``; floats and strings become
            fractions with denominator <= 100 (``2.7`` -> ``27/10``), as on the command line.
        model: a predictor from :func:`load_sr_model`, a checkpoint path, ``"meta-srgan-gan"``
            (the shipped GAN variant), or the shipped model.
        axis: slice axis of a volume.
        through_plane: enlarge a volume's ``axis`` only (thick slices to thin ones); its voxel
            sizes and affine follow (a plain 3-D array is taken as 1 mm voxels).
        clip: clip to the input's range (default: for integer inputs).
        device: ``auto``, ``cpu`` or ``cuda`` (ignored when ``model`` is a predictor).

    Returns:
        float32, ``floor(s H) x floor(s W)`` per plane, in the input's units.
    """
    predictor = model if isinstance(model, SRPredictor) else shared_sr_model(_path(model), device)
    if isinstance(image, (str, os.PathLike)):
        image = read_volume(Path(image))
    if through_plane:
        volume = image if isinstance(image, Volume) else _as_volume(np.asarray(image))
        result = predictor.upscale_through_plane(volume, scale, axis=axis, clip=clip)
        return result if isinstance(image, Volume) else result.data
    return predictor.upscale(image, scale, axis=axis, clip=clip)


def _as_volume(data: np.ndarray) -> Volume:
    """A bare array as a volume of 1 mm voxels at the origin."""
    return Volume(data, (1.0,) * data.ndim, np.eye(4), "RAS", "array", str(data.dtype))


def shared_cell_model(path: PathLike | None = None, device: Device = "auto") -> CellPredictor:
    """The cell predictor of checkpoint ``path`` on ``device``, loaded once and shared by every
    caller that names the same file and device (the API's functions, the napari plugin):
    ``"auto"`` and the device it resolves to, a ``str`` and a ``Path``, are one key."""
    return _shared(CellPredictor, *_key(path, device))


def shared_sr_model(path: PathLike | None = None, device: Device = "auto") -> SRPredictor:
    """The SR predictor of checkpoint (or model name) ``path`` on ``device``, loaded once and
    shared (as :func:`shared_cell_model`)."""
    return _shared(SRPredictor, *_key(path, device))


def _key(path: PathLike | None, device: Device) -> tuple[str | None, str]:
    """``path`` and ``device`` as the cache knows them (a bad device is refused here)."""
    return None if path is None else os.fspath(path), str(resolve_device(device))


@lru_cache(maxsize=8)
def _shared(kind: type[AnyPredictor], path: str | None, device: str) -> AnyPredictor:
    return kind.from_checkpoint(path, device)


def _path(model: object) -> PathLike | None:
    """``model`` when it names a checkpoint (or is ``None``).

    Raises:
        InputError: a predictor of the other task, or something else that is not a path.
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        return model
    if isinstance(model, (CellPredictor, SRPredictor)):
        wanted = "load_sr_model" if isinstance(model, CellPredictor) else "load_cell_model"
        raise InputError(f"model is a {type(model).__name__}; this call takes one from {wanted}")
    raise InputError(f"model must be a predictor or a checkpoint path, got {type(model).__name__}")


def _warned(result: Segmentation) -> Segmentation:
    if result.empty:
        warnings.warn(
            "the image looks empty: nothing in it stands above its noise", BioscopeWarning, 3
        )
    return result
