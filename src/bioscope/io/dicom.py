"""DICOM to (voxels, affine): one file, a multi-frame file, or a folder holding one series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from bioscope.errors import InputError

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: How far (mm) a slice position may stray from an even grid: scanners round positions.
POSITION_ROUNDING = 0.11


def read_dicom(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Read DICOM pixels as float32 ``(columns, rows, slices)`` with a RAS affine and the pixel
    type the values keep (the stored one, or ``float32`` after a rescale); each slice's rescale
    slope and intercept are applied, and the affine starts at the first slice in space (not in
    file order).

    Raises:
        InputError: unreadable files, several series, slices of different sizes, or slice
            positions that repeat or are unevenly spaced (gaps, mixed acquisitions).
    """
    datasets = _series(path) if path.is_dir() else [_read(path)]
    if len(datasets) == 1:
        first = datasets[0]
        pixels = _pixels(first, path)
        frames = int(getattr(first, "NumberOfFrames", 1) or 1)
        volume = _rescaled(pixels if frames > 1 else pixels[None], first)
        spacing = _tag_spacing(first)
    else:
        datasets = _sort_by_position(datasets)
        first = datasets[0]
        slices = [_pixels(ds, path) for ds in datasets]
        if any(plane.ndim != 2 for plane in slices):
            raise InputError(f"{path}: a folder of multi-frame files; give one file at a time")
        sizes = {plane.shape for plane in slices}
        if len(sizes) > 1:
            shown = ", ".join(" x ".join(map(str, size)) for size in sorted(sizes))
            raise InputError(f"{path}: the slices differ in size ({shown}): not one series")
        pairs = zip(slices, datasets, strict=True)
        volume = np.stack([_rescaled(plane, ds) for plane, ds in pairs])
        spacing = _slice_spacing(datasets, path)
    affine = _affine(first, spacing)  # (slices, rows, cols) -> (cols, rows, slices) below
    return np.ascontiguousarray(volume.transpose(2, 1, 0)), affine, _stored_dtype(datasets)


def _rescaled(pixels: np.ndarray, ds: pydicom.Dataset) -> np.ndarray:
    """Stored values to real ones by ``ds``'s rescale slope and intercept, float32."""
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    return pixels.astype(np.float32) * slope + intercept


def _read(path: Path) -> pydicom.Dataset:
    try:
        return pydicom.dcmread(str(path))
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable DICOM file ({exc})") from exc


def _series(folder: Path) -> list[pydicom.Dataset]:
    datasets = []
    for file in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            ds = pydicom.dcmread(str(file), stop_before_pixels=False)
        except (InvalidDicomError, OSError, ValueError):
            continue  # not DICOM: ignored in a series folder
        if "PixelData" in ds:
            datasets.append(ds)
    if not datasets:
        raise InputError(f"{folder}: no DICOM images in this folder")
    series = {str(getattr(ds, "SeriesInstanceUID", "")) for ds in datasets}
    if len(series) > 1:
        raise InputError(f"{folder}: holds {len(series)} DICOM series; put each in its own folder")
    return datasets


def _pixels(ds: pydicom.Dataset, path: Path) -> np.ndarray:
    if "PixelData" not in ds:
        raise InputError(f"{path}: DICOM file without pixel data")
    try:
        return np.asarray(ds.pixel_array)
    except Exception as exc:  # pydicom: missing handler for a compressed transfer syntax
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", str(syntax))
        raise InputError(
            f"{path}: cannot decode DICOM pixel data (transfer syntax {name}): {exc}"
        ) from exc


def _stored_dtype(datasets: list[pydicom.Dataset]) -> str:
    """The pixel type the values keep: the stored integers', or ``float32`` where a rescale
    slope or intercept makes them other numbers (CT's -1000 HU from unsigned storage)."""
    if any(_rescaled(np.array([0, 1]), ds).tolist() != [0, 1] for ds in datasets):
        return "float32"
    first = datasets[0]
    bits = int(getattr(first, "BitsAllocated", 16))
    signed = int(getattr(first, "PixelRepresentation", 0)) == 1
    return f"{'int' if signed else 'uint'}{bits}"


def _normal(ds: pydicom.Dataset) -> np.ndarray:
    orientation = np.asarray(getattr(ds, "ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), float)
    return np.cross(orientation[:3], orientation[3:])


def _sort_by_position(datasets: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    if all(hasattr(ds, "ImagePositionPatient") for ds in datasets):
        normal = _normal(datasets[0])
        return sorted(
            datasets,
            key=lambda ds: float(np.dot(normal, np.asarray(ds.ImagePositionPatient, float))),
        )
    return sorted(datasets, key=lambda ds: int(getattr(ds, "InstanceNumber", 0)))


def _slice_spacing(datasets: list[pydicom.Dataset], path: Path) -> float:
    """The step between slices sorted by position, checked to be one step; from the tags
    without positions.

    Raises:
        InputError: two slices at one position, or uneven steps.
    """
    if not all(hasattr(ds, "ImagePositionPatient") for ds in datasets):
        return _tag_spacing(datasets[0])
    normal = _normal(datasets[0])
    positions = np.array(
        [float(np.dot(normal, np.asarray(ds.ImagePositionPatient, float))) for ds in datasets]
    )
    steps = np.diff(positions)
    if steps.min() < 1e-3:
        at = positions[1:][steps < 1e-3][0]
        raise InputError(
            f"{path}: two slices lie at one position ({at:g} mm along the slice normal): "
            "several echoes, time points or stacks in one series; put each in its own folder"
        )
    mean = (positions[-1] - positions[0]) / (len(positions) - 1)
    # positions rounded to 0.1 mm make a 0.625 mm step read 0.6 / 0.7: tolerated; a gap is not
    if np.abs(steps - mean).max() > max(0.1 * mean, POSITION_ROUNDING):
        raise InputError(
            f"{path}: the slices are not evenly spaced (steps of {steps.min():g} to "
            f"{steps.max():g} mm): a gap or a mixed series, which one volume grid cannot hold"
        )
    return float(mean)


def _tag_spacing(ds: pydicom.Dataset) -> float:
    """Slice spacing from the tags: SpacingBetweenSlices, else SliceThickness, else 1."""
    return float(getattr(ds, "SpacingBetweenSlices", 0) or getattr(ds, "SliceThickness", 1) or 1)


def _affine(ds: pydicom.Dataset, spacing: float) -> np.ndarray:
    """Voxel (column, row, slice) to RAS world, from the patient-space (LPS) geometry."""
    orientation = np.asarray(getattr(ds, "ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), float)
    row_step, col_step = (float(v) for v in getattr(ds, "PixelSpacing", [1, 1]))
    position = np.asarray(getattr(ds, "ImagePositionPatient", [0, 0, 0]), float)
    lps = np.eye(4)
    lps[:3, 0] = orientation[:3] * col_step  # along a row: next column
    lps[:3, 1] = orientation[3:] * row_step  # along a column: next row
    lps[:3, 2] = np.cross(orientation[:3], orientation[3:]) * spacing
    lps[:3, 3] = position
    return _LPS_TO_RAS @ lps
