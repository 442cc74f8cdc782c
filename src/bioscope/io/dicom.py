"""DICOM to (voxels, affine): one file, a multi-frame file, or a folder holding one series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from bioscope.errors import InputError

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read_dicom(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Read DICOM pixels as float32 ``(columns, rows, slices)`` with a RAS affine and the stored
    pixel type; rescale slope and intercept are applied."""
    datasets = _series(path) if path.is_dir() else [_read(path)]
    first = datasets[0]
    frames = int(getattr(first, "NumberOfFrames", 1) or 1)
    if len(datasets) == 1 and frames > 1:
        pixels = _pixels(first, path)  # (frames, rows, cols)
        spacing = float(
            getattr(first, "SpacingBetweenSlices", 0) or getattr(first, "SliceThickness", 1) or 1
        )
        stack = pixels
    else:
        datasets = _sort_by_position(datasets)
        stack = np.stack([_pixels(ds, path) for ds in datasets])
        spacing = _slice_spacing(datasets)
    dtype = _stored_dtype(first)
    slope = float(getattr(first, "RescaleSlope", 1) or 1)
    intercept = float(getattr(first, "RescaleIntercept", 0) or 0)
    volume = stack.astype(np.float32) * slope + intercept  # (slices, rows, cols)
    affine = _affine(first, spacing)
    return np.ascontiguousarray(volume.transpose(2, 1, 0)), affine, dtype


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


def _stored_dtype(ds: pydicom.Dataset) -> str:
    bits = int(getattr(ds, "BitsAllocated", 16))
    signed = int(getattr(ds, "PixelRepresentation", 0)) == 1
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


def _slice_spacing(datasets: list[pydicom.Dataset]) -> float:
    if len(datasets) > 1 and all(hasattr(ds, "ImagePositionPatient") for ds in datasets):
        normal = _normal(datasets[0])
        positions = [
            float(np.dot(normal, np.asarray(ds.ImagePositionPatient, float))) for ds in datasets
        ]
        steps = np.diff(positions)
        if np.allclose(steps, steps[0], rtol=1e-3, atol=1e-3) and steps[0] > 0:
            return float(steps[0])
    first = datasets[0]
    return float(
        getattr(first, "SpacingBetweenSlices", 0) or getattr(first, "SliceThickness", 1) or 1
    )


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
