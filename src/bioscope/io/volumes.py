"""Read MRI volumes and 2-D images into one form: a float32 array with voxel sizes and an affine.

* NIfTI (``.nii``, ``.nii.gz``) through nibabel, reoriented to the closest canonical orientation
  (RAS+: axis 0 left->right, 1 posterior->anterior, 2 inferior->superior), so that "axial",
  "coronal" and "sagittal" mean the same for every file. A 4-D file needs a volume index.
* DICOM through pydicom: one file, a multi-frame file, or a folder holding one series (sorted by
  position along the slice normal); rescale slope and intercept applied; the affine is built from
  the patient-space geometry (LPS) and converted to RAS, then made canonical like NIfTI.
* PNG, TIFF and NPY 2-D images: one slice, voxel size 1 x 1, orientation ``"image"``.

Every failure raises :class:`~bioscope.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import nibabel as nib
import numpy as np

from bioscope.errors import BioscopeWarning, InputError
from bioscope.io.atomic import atomic_path
from bioscope.io.images import (
    IMAGE_SUFFIXES,
    cast_to,
    check_finite,
    check_real,
    read_image,
    to_grey,
)

NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True)
class Volume:
    """An image with its geometry.

    Attributes:
        data: float32, ``(X, Y, Z)`` in canonical RAS order for volumes, ``(H, W)`` for 2-D images.
        voxel_sizes: size of a voxel along each axis of ``data`` (mm for MRI).
        affine: 4 x 4 voxel-to-world (RAS, mm) matrix; identity for 2-D images.
        orientation: axis codes such as ``"RAS"``, or ``"image"`` for 2-D images.
        source: where it came from, for messages.
        dtype: the pixel type stored in the file.
        header: the NIfTI header as read, its stored scaling (slope, intercept) included (``None``
            for other formats): what :func:`write_nifti` keeps (sform/qform codes, units,
            description, on-disk axis order, and with ``dtype="keep"`` the stored type).
    """

    data: np.ndarray
    voxel_sizes: tuple[float, ...]
    affine: np.ndarray
    orientation: str
    source: str
    dtype: str
    header: nib.Nifti1Header | None = None

    @property
    def disk_orientation(self) -> str:
        """Axis codes of the file as stored (``LAS``, ...); :attr:`orientation` for others."""
        if self.header is None:
            return self.orientation
        return "".join(nib.aff2axcodes(self.header.get_best_affine()))

    @property
    def is_volume(self) -> bool:
        return self.data.ndim == 3


def read_volume(path: str | os.PathLike[str], volume: int | None = None) -> Volume:
    """Read a NIfTI file, a DICOM file or series folder, or a 2-D PNG/TIFF/NPY image.

    Args:
        path: the file, or a folder holding one DICOM series.
        volume: which volume of a 4-D NIfTI file to read (required for 4-D files).

    Raises:
        InputError: missing, unreadable, empty, not finite, 4-D without ``volume`` (or a
            ``volume`` other than 0 for a file that holds one), unsupported DICOM transfer
            syntax, or not a 2-D/3-D image.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    name = path.name.lower()
    if volume not in (None, 0) and not name.endswith(NIFTI_SUFFIXES):
        raise InputError(f"{path}: --volume {volume} is for 4-D NIfTI files; this holds one")
    if path.is_dir() or name.endswith(".dcm") or _looks_like_dicom(path):
        from bioscope.io.dicom import read_dicom

        data, affine, dtype = read_dicom(path)
        result = _canonical(data, affine, path, dtype)
    elif name.endswith(NIFTI_SUFFIXES):
        result = _read_nifti(path, volume)
    elif name.endswith(".npy"):
        result = _flat(_read_npy(path), path)
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        result = _flat(read_image(path), path)
    else:
        raise InputError(
            f"{path}: unsupported format (expected .nii, .nii.gz, DICOM, .png, .tif or .npy)"
        )
    _check_values(result.data, path)
    return result


def write_nifti(
    path: str | os.PathLike[str],
    data: np.ndarray,
    affine: np.ndarray,
    like: nib.Nifti1Header | None = None,
    dtype: str | None = None,
) -> Path:
    """Write ``data`` with ``affine`` as NIfTI (``.nii`` or ``.nii.gz``), atomically.

    Args:
        path: the file to write.
        data: a 3-D volume (or a 2-D plane, written as one slice), canonical as
            :func:`read_volume` gives it when ``like`` is given.
        affine: its voxel-to-world matrix.
        like: the header of the file the data came from (:attr:`Volume.header`): the result then
            keeps that file's description, units, intent, sform/qform codes and on-disk axis
            order (``data`` and ``affine`` are reoriented back); voxel sizes follow the affine.
        dtype: ``None``: ``data``'s own type (float64 as float32); ``"float32"``; ``"keep"``:
            ``like``'s stored type and scaling (slope, intercept), integer types rounded and
            clipped to their range.

    Raises:
        InputError: the name does not end in ``.nii`` or ``.nii.gz``.
        ValueError: an unknown ``dtype``, or ``"keep"`` without ``like``.
    """
    path = Path(path)
    if not path.name.lower().endswith(NIFTI_SUFFIXES):
        raise InputError(f"{path}: a NIfTI file name ends in .nii or .nii.gz")
    data = np.asarray(data)
    data = data[:, :, None] if data.ndim == 2 else data
    slope, inter = 1.0, 0.0
    if dtype == "keep":
        if like is None:
            raise ValueError("dtype='keep' needs the source header (like=...)")
        slope, inter = (1.0 if v is None else v for v in like.get_slope_inter())
        data = cast_to((data - inter) / slope, like.get_data_dtype())
    elif dtype == "float32" or (dtype is None and data.dtype == np.float64):
        data = data.astype(np.float32)
    elif dtype is not None:
        raise ValueError(f"dtype must be None, 'float32' or 'keep', not {dtype!r}")
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm")
    if like is not None:
        image = _like(image, like, slope, inter)
    suffix = ".nii.gz" if path.name.lower().endswith(".gz") else ".nii"
    with atomic_path(path) as tmp:
        nib.save(image, str(tmp.with_name(tmp.name + suffix)))
        tmp.with_name(tmp.name + suffix).replace(tmp)
    return path


def describe_nifti(path: str | os.PathLike[str]) -> dict[str, object]:
    """What a NIfTI file holds, 4-D included: shape and voxel sizes (mm, to 4 decimals) in
    the canonical order bioscope processes in, with the number of volumes and the repetition time
    of a 4-D file; that orientation (RAS) and the one stored on disk; the stored pixel type; the
    intensity range over all volumes.

    Raises:
        InputError: unreadable, not 3-D/4-D, singular affine, or data that cannot be read.
    """
    path = Path(path)
    try:
        image = nib.load(str(path))
        shape = tuple(int(n) for n in image.shape)
        zooms = [float(z) for z in image.header.get_zooms()]
    except Exception as exc:  # nibabel raises many types for a bad file
        raise InputError(f"{path}: not a readable NIfTI file ({exc})") from exc
    if len(shape) not in (3, 4):
        raise InputError(f"{path}: expected a 3-D or 4-D volume, got shape {shape}")
    check_affine(image.affine, path)
    try:
        data = np.asarray(image.dataobj, np.float32)
    except Exception as exc:
        raise InputError(f"{path}: cannot read the voxel data ({exc})") from exc
    _check_values(data, path)
    axes = nib.io_orientation(image.affine)[:, 0].astype(int)  # disk axis i -> canonical axis
    canonical = np.argsort(axes)  # canonical axis j <- disk axis canonical[j]
    sizes = nib.affines.voxel_sizes(image.affine)  # as read_volume has them
    info: dict[str, object] = {
        "file": str(path),
        "shape": [shape[i] for i in canonical] + list(shape[3:]),
        "voxel_sizes": [round(float(sizes[i]), 4) for i in canonical],
        "orientation": "RAS",
        "disk_orientation": "".join(nib.aff2axcodes(image.affine)),
        "dtype": str(image.get_data_dtype()),
        "min": float(data.min()),
        "max": float(data.max()),
    }
    if len(shape) == 4:
        info["volumes"] = shape[3]
        info["repetition_time"] = round(zooms[3], 4) if zooms[3:] and zooms[3] > 0 else None
        info["time_unit"] = image.header.get_xyzt_units()[1]
    return info


def _like(
    image: nib.Nifti1Image, like: nib.Nifti1Header, slope: float = 1.0, inter: float = 0.0
) -> nib.Nifti1Image:
    """``image`` in ``like``'s axis order, with ``like``'s header fields and codes, and the given
    scaling (its data already stored as ``(value - inter) / slope``)."""
    disk = nib.io_orientation(like.get_best_affine())
    image = image.as_reoriented(
        nib.orientations.ornt_transform(nib.io_orientation(image.affine), disk)
    )
    header = like.copy()
    header.set_data_shape(image.shape)
    header.set_data_dtype(image.get_data_dtype())
    out = nib.Nifti1Image(np.asarray(image.dataobj), image.affine, header)
    out.header.set_slope_inter(slope, inter)
    out.set_sform(image.affine, code=int(like["sform_code"]))
    out.set_qform(image.affine, code=int(like["qform_code"]))
    return out


def _read_nifti(path: Path, volume: int | None) -> Volume:
    try:
        image = nib.load(str(path))
        dtype = str(image.get_data_dtype())
        shape = image.shape
    except Exception as exc:  # nibabel raises many types for a bad file
        raise InputError(f"{path}: not a readable NIfTI file ({exc})") from exc
    if image.get_data_dtype().kind not in "uif":
        raise InputError(
            f"{path}: {dtype} voxels; bioscope reads one real grey value per voxel (not RGB or "
            "complex: save the grey image or the magnitude)"
        )
    # nibabel moves the stored scaling from the header to the data proxy: put it back
    header = image.header.copy()
    header.set_slope_inter(
        getattr(image.dataobj, "slope", 1.0), getattr(image.dataobj, "inter", 0.0)
    )
    if len(shape) == 4 and shape[3] == 1:
        volume = 0 if volume is None else volume
    if len(shape) == 4:
        if volume is None:
            raise InputError(
                f"{path}: a 4-D file with {shape[3]} volumes; choose one (--volume N, 0-based)"
            )
        if not 0 <= volume < shape[3]:
            raise InputError(f"{path}: volume {volume} out of range 0..{shape[3] - 1}")
        image = image.slicer[..., volume]
    elif len(shape) != 3:
        raise InputError(f"{path}: expected a 3-D (or 4-D) volume, got shape {shape}")
    elif volume not in (None, 0):
        raise InputError(f"{path}: --volume {volume} is for 4-D files; this holds one volume")
    try:
        data = np.asarray(image.get_fdata(dtype=np.float32))
    except Exception as exc:
        raise InputError(f"{path}: cannot read the voxel data ({exc})") from exc
    return _canonical(data, image.affine, path, dtype, header)


def check_affine(affine: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Refuse a voxel-to-world matrix that places no volume: not finite, or singular.

    Raises:
        InputError: naming the file and what to fix.
    """
    linear = np.asarray(affine, float)[:3, :3]
    singular = not np.isfinite(affine).all() or np.linalg.matrix_rank(linear) < 3
    if singular:
        raise InputError(
            f"{path}: singular affine (its voxel axes do not span 3-D space, e.g. a zero voxel "
            "size); fix the header's sform/qform"
        )


def _canonical(
    data: np.ndarray,
    affine: np.ndarray,
    path: Path,
    dtype: str,
    header: nib.Nifti1Header | None = None,
) -> Volume:
    """Reorder and flip axes to the closest canonical (RAS+) orientation."""
    if data.ndim != 3 or 0 in data.shape:
        raise InputError(f"{path}: expected a non-empty 3-D volume, got shape {data.shape}")
    check_affine(affine, path)
    canonical = nib.as_closest_canonical(nib.Nifti1Image(data, affine))
    return Volume(
        data=np.ascontiguousarray(canonical.get_fdata(dtype=np.float32)),
        voxel_sizes=tuple(float(z) for z in canonical.header.get_zooms()[:3]),
        affine=canonical.affine,
        orientation="".join(nib.aff2axcodes(canonical.affine)),
        source=str(path),
        dtype=dtype,
        header=header,
    )


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy array ({exc})") from exc
    if array.ndim != 2:
        raise InputError(f"{path}: expected a 2-D array, got shape {array.shape}")
    check_real(array, str(path))
    return array


def _flat(image: np.ndarray, path: Path) -> Volume:
    dtype = str(image.dtype)
    if image.ndim == 3 and not (image == image[..., :1]).all():  # grey stored as RGB is fine
        warnings.warn(
            f"{path}: an RGB image, read as its luminance (BT.601): the result is grey",
            BioscopeWarning,
            stacklevel=3,
        )
        image = to_grey(image)
    if image.size == 0:
        raise InputError(f"{path}: the image is empty")
    return Volume(image.astype(np.float32), (1.0, 1.0), np.eye(4), "image", str(path), dtype)


def _check_values(data: np.ndarray, path: Path) -> None:
    if data.size == 0:
        raise InputError(f"{path}: the image is empty")
    check_finite(data, f"{path}: the image")


def _looks_like_dicom(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size < 132:
        return False
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def check_axis(axis: int) -> int:
    """A volume's slice axis as 0, 1 or 2 (``-1`` is 2).

    Raises:
        InputError: not an axis of a 3-D volume.
    """
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -3 <= axis < 3:
        raise InputError(f"axis must be 0, 1 or 2 for a volume, got {axis!r}")
    return int(axis) % 3


def resampled(volume: Volume, data: np.ndarray, factors: Sequence[float]) -> Volume:
    """``volume`` holding ``data``, its grid resampled by voxel-size ``factors`` per axis (``s``
    where shrunk by ``s``, ``1/s`` where enlarged): affine with pixel centres aligned
    (:func:`rescaled_affine`) and voxel sizes."""
    sizes = tuple(v * f for v, f in zip(volume.voxel_sizes, factors, strict=True))
    return replace(
        volume, data=data, affine=rescaled_affine(volume.affine, factors), voxel_sizes=sizes
    )


def rescaled_affine(affine: np.ndarray, factors: Sequence[float]) -> np.ndarray:
    """The affine after resampling each axis ``i`` by voxel-size factor ``factors[i]``, pixel
    centres aligned: new voxel ``j`` sits at old voxel coordinate ``(j + 1/2) f - 1/2``.

    Example:
        >>> rescaled_affine(np.diag([1.0, 1.0, 4.0, 1.0]), [1, 1, 0.5])[2].tolist()
        [0.0, 0.0, 2.0, -1.0]
    """
    factors = np.asarray(factors, np.float64)
    step = np.diag([*factors, 1.0])
    step[:3, 3] = (factors - 1.0) / 2.0
    return affine @ step
