"""Read and write 2-D microscopy and medical images as TIFF or PNG.

Arrays are ``(H, W)`` for grayscale and ``(H, W, 3)`` for RGB, in the file's own dtype
(``uint8`` or ``uint16``; TIFF may also hold ``int8``/``int16``/``int32``, ``uint32`` and
``float32``/``float64`` data such as CT slices, label images or probability maps). Every failure
raises :class:`~bioscope.errors.InputError` naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import png
import tifffile
from PIL import Image, UnidentifiedImageError
from tifffile import EXTRASAMPLE, PHOTOMETRIC

from bioscope.errors import InputError
from bioscope.io.atomic import atomic_path

TIFF_SUFFIXES = (".tif", ".tiff")
PNG_SUFFIXES = (".png",)
IMAGE_SUFFIXES = TIFF_SUFFIXES + PNG_SUFFIXES

_ALPHA_SAMPLES = (EXTRASAMPLE.ASSOCALPHA, EXTRASAMPLE.UNASSALPHA)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DTYPES = (np.uint8, np.uint16)
TIFF_DTYPES = (
    np.uint8,
    np.uint16,
    np.uint32,
    np.int8,
    np.int16,
    np.int32,
    np.float32,
    np.float64,
)


def read_image(
    path: str | os.PathLike[str], *, allow_stack: bool = False, channel: int | None = None
) -> np.ndarray:
    """Read a TIFF or PNG image.

    Args:
        path: file to read (``.tif``, ``.tiff`` or ``.png``, any case).
        allow_stack: accept a multi-page TIFF and return it as ``(Z, H, W)``; by default a
            stack is an error, since most callers expect one 2-D image.
        channel: keep only this channel (0-based) of a multi-channel image: of an RGB(A)
            image, or of a TIFF's channel axis (the one its ImageJ or OME metadata names ``C``,
            or its samples within each pixel when the file does not call them RGB; without
            either, its one axis before the plane); 0 of a grey image is the image. A channel of
            a Z-stack or time series is refused, as is a TIFF whose metadata or samples hold
            several channels when none is given.

    Returns:
        ``(H, W)`` grayscale or ``(H, W, 3)`` RGB (an alpha channel is dropped), or ``(Z, H, W)``
        when ``allow_stack`` is set and the file holds several planes.

    Raises:
        InputError: the file is missing, unreadable, empty, not finite, or of an unexpected shape.
    """
    path = Path(path)
    if not path.is_file():
        what = "a folder, not an image" if path.is_dir() else "no such file"
        raise InputError(f"{path}: {what}")
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES:
        array, axes = _read_tiff(path)
        has_channels = axes.endswith("S")
        _check_tiff_axes(path, array, axes, channel)
        if channel is not None and "C" in axes and not has_channels:
            array, channel = _take(array, channel, axes.index("C"), path), None
    elif suffix in PNG_SUFFIXES:
        array = _read_png(path)
        has_channels = array.ndim == 3
    else:
        raise InputError(
            f"{path}: unsupported image format {path.suffix!r} (expected .tif, .tiff or .png)"
        )
    if channel is not None:
        array = pick_channel(array, channel, channels_last=has_channels, what=str(path))
        has_channels = False
    return _check_image(path, array, has_channels=has_channels, allow_stack=allow_stack)


def pick_channel(
    array: np.ndarray, channel: int, *, channels_last: bool, what: str = "the image"
) -> np.ndarray:
    """Channel ``channel`` (0-based) of ``array``: along its last axis when ``channels_last``
    (RGB, a TIFF's samples), else along its one axis before the plane, if it has one; 0 of a
    2-D image is the image.

    Example:
        >>> pick_channel(np.arange(12).reshape(2, 2, 3), 2, channels_last=True).tolist()
        [[2, 5], [8, 11]]
    """
    planes = [n for n in array.shape[:-2] if n != 1]
    if channels_last and array.ndim > 2:
        axis = array.ndim - 1
    elif array.ndim == 2 or not planes:
        axis = None
    elif len(planes) == 1:
        axis = next(i for i, n in enumerate(array.shape) if n != 1)
    else:
        raise InputError(
            f"{what}: cannot tell which axis of shape {array.shape} holds the channels; "
            "save the channel or plane you want as its own file"
        )
    return _take(array, channel, axis, what)


def _take(array: np.ndarray, channel: int, axis: int | None, what: object) -> np.ndarray:
    """Channel ``channel`` along ``axis`` (``None``: the image is its only channel)."""
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)):
        raise InputError(f"{what}: channel must be a whole number, got {channel!r}")
    count = 1 if axis is None else array.shape[axis]
    if not 0 <= channel < count:
        raise InputError(f"{what}: no channel {channel}; the image has {count} (0 to {count - 1})")
    return array if axis is None else np.take(array, channel, axis=axis)


def write_image(path: str | os.PathLike[str], image: np.ndarray, *, compress: bool = False) -> Path:
    """Write ``image`` to ``path`` atomically as TIFF or PNG (chosen by the suffix).

    Args:
        path: destination; its folder is created if needed.
        image: ``(H, W)`` or ``(H, W, 3|4)``; ``uint8``/``uint16`` for PNG, and also
            ``uint32``, ``int8``/``int16``/``int32`` and ``float32``/``float64`` for TIFF.
        compress: zlib-compress a TIFF (lossless; labels and masks shrink ~50x).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
        >>> _ = write_image(p, np.full((4, 5), 7, np.uint16))
        >>> read_image(p).dtype, read_image(p).shape
        (dtype('uint16'), (4, 5))
    """
    path = Path(path)
    image = np.asarray(image)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise InputError(f"{path}: cannot write format {path.suffix!r} (use .tif, .tiff or .png)")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        raise InputError(
            f"{path}: expected an (H, W) or (H, W, 3|4) image, got shape {image.shape}"
        )
    if image.size == 0:
        raise InputError(f"{path}: refusing to write an empty image of shape {image.shape}")
    check_writable(path, image.dtype)
    with atomic_path(path) as tmp:
        if suffix in TIFF_SUFFIXES:
            photometric = "rgb" if image.ndim == 3 else "minisblack"
            tifffile.imwrite(
                tmp, image, photometric=photometric, compression="zlib" if compress else None
            )
        elif image.dtype == np.uint16 and image.ndim == 3:
            _write_png16_color(tmp, image)
        else:
            Image.fromarray(image).save(tmp, format="PNG")
    return path


def check_writable(path: str | os.PathLike[str], dtype: str | np.dtype) -> None:
    """Raise :class:`InputError` unless :func:`write_image` writes ``dtype`` in ``path``'s
    format (checked before computing what goes there)."""
    suffix = Path(path).suffix.lower()
    allowed = TIFF_DTYPES if suffix in TIFF_SUFFIXES else _PNG_DTYPES
    if np.dtype(dtype).type not in allowed:
        names = ", ".join(np.dtype(d).name for d in allowed)
        raise InputError(f"{path}: cannot write dtype {dtype} as {suffix} (allowed: {names})")


def check_real(image: np.ndarray, source: str = "") -> None:
    """Raise :class:`InputError` (led by file ``source``, when given) unless ``image`` holds real
    numbers (integers or floats: not booleans, complex values or objects)."""
    if image.dtype.kind not in "uif":
        raise InputError(
            f"{source}{': ' if source else ''}expected an image of real grey values (integers "
            f"or floats), got dtype {image.dtype}"
        )


def check_finite(data: np.ndarray, what: str = "the image") -> None:
    """Raise :class:`InputError` unless every value of ``data`` is a number float32 holds
    (bioscope computes in float32), saying what is wrong: NaN, infinite, or too large.

    Example:
        >>> check_finite(np.array([1.0, 1e300]))
        Traceback (most recent call last):
        bioscope.errors.InputError: the image holds values up to 1e+300, beyond the float32 range \
(3.4e+38) bioscope computes in: rescale it
    """
    if data.dtype.kind != "f":
        return
    if not np.isfinite(data).all():
        raise InputError(f"{what} holds NaN or infinite values")
    wide = data.size and data.dtype.itemsize > 4
    largest = max(float(data.max()), -float(data.min())) if wide else 0.0
    if largest > np.finfo(np.float32).max:
        raise InputError(
            f"{what} holds values up to {largest:.3g}, beyond the float32 range (3.4e+38) "
            "bioscope computes in: rescale it"
        )


#: ITU-R BT.601 luma weights, as SR papers use for the "Y channel".
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def cast_to(data: np.ndarray, dtype: str | np.dtype) -> np.ndarray:
    """``data`` as ``dtype``: integer types rounded and clipped to their range, floats cast.

    Example:
        >>> cast_to(np.array([-3.6, 0.4, 300.2]), "uint8").tolist()
        [0, 0, 255]
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.round(data), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return np.asarray(data) > 0.5
    return np.asarray(data).astype(dtype)


def to_grey(image: np.ndarray) -> np.ndarray:
    """Return a float32 ``(H, W)`` image: grey as is, RGB as BT.601 luminance (values float32
    cannot hold are refused by :func:`check_finite`).

    Example:
        >>> to_grey(np.ones((2, 3, 3), np.uint8) * 10)[0, 0]
        np.float32(10.0)
    """
    check_finite(image)
    if image.ndim == 2:
        return image.astype(np.float32)
    if image.ndim == 3 and image.shape[-1] == 3:
        return (image.astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32)).astype(np.float32)
    raise InputError(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")


def _read_tiff(path: Path) -> tuple[np.ndarray, str]:
    """Return the first series and its axes in tifffile's letters (``S`` samples, ``C``
    channels, ``Z``/``T`` planes, ``Q``/``I`` pages of unknown meaning).

    Samples interleaved in each pixel are RGB (``S``, moved last) only when the file says so
    (photometric RGB or YCbCr, three colour samples); samples its ExtraSamples tag marks as
    alpha are dropped; other samples (grey images with several samples a pixel, RGB with an
    extra sample that is not alpha) are channels, ``C``, placed before the plane.
    """
    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            array = series.asarray()
            axes = series.axes
            page = series.keyframe
            colour = page.photometric in (PHOTOMETRIC.RGB, PHOTOMETRIC.YCBCR)
            extras = tuple(page.extrasamples)
    except (tifffile.TiffFileError, OSError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a readable TIFF file ({exc})") from exc
    if "S" not in axes:
        return array, axes
    array, axes = np.moveaxis(array, axes.index("S"), -1), axes.replace("S", "") + "S"
    first_extra = array.shape[-1] - len(extras)
    keep = [
        i
        for i in range(array.shape[-1])
        if i < first_extra or extras[i - first_extra] not in _ALPHA_SAMPLES
    ]
    array = array[..., keep]
    if colour and len(keep) == 3:
        return array, axes
    if "C" in axes:
        raise InputError(
            f"{path}: holds channels both as planes and within each pixel (axes {axes}); save "
            "the channel you want as its own file"
        )
    return np.moveaxis(array, -1, -3), axes[:-3] + "C" + axes[-3:-1]


def _check_tiff_axes(path: Path, array: np.ndarray, axes: str, channel: int | None) -> None:
    """Refuse what a TIFF's own axes say is not one image: several channels (``C``) and none
    picked, or a channel asked of a file whose other axes are planes (``Z``, ``T``)."""
    channels = array.shape[axes.index("C")] if "C" in axes else 1
    if channel is None and channels > 1:
        raise InputError(
            f"{path}: holds {channels} channels (axes {axes}, shape {array.shape}); pick one "
            "(cells commands: --channel N; Python: channel=N)"
        )
    planes = {a for a, n in zip(axes, array.shape, strict=True) if a in "ZT" and n != 1}
    if channel is not None and not set(axes) & set("CS") and planes:
        raise InputError(
            f"{path}: its axes {axes} (shape {array.shape}) are planes, not channels; "
            "save the plane you want as its own file"
        )


def _read_png(path: Path) -> np.ndarray:
    with path.open("rb") as handle:
        header = handle.read(26)
    if len(header) < 26 or not header.startswith(_PNG_SIGNATURE):
        raise InputError(f"{path}: not a PNG file (bad signature)")
    bit_depth, colour_type = header[24], header[25]
    if bit_depth == 16 and colour_type in (2, 4, 6):  # 16-bit RGB, LA, RGBA: Pillow reads 8 bits
        return _read_png16(path)
    try:
        with Image.open(path) as im:
            if im.mode in ("P", "1", "LA", "PA"):
                im = im.convert("RGBA" if im.mode in ("P", "PA") else "L")
            array = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable PNG file ({exc})") from exc
    if bit_depth == 16 and array.dtype != np.uint16:
        array = array.astype(np.uint16)
    return array


def _read_png16(path: Path) -> np.ndarray:
    try:
        width, height, rows, info = png.Reader(filename=str(path)).read()  # no sBIT rescale
        flat = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    except (png.Error, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable PNG file ({exc})") from exc
    return flat.reshape(height, width, info["planes"])


def _write_png16_color(path: Path, image: np.ndarray) -> None:
    height, width, planes = image.shape
    writer = png.Writer(width, height, greyscale=False, alpha=planes == 4, bitdepth=16)
    with path.open("wb") as handle:
        writer.write(handle, image.reshape(height, width * planes).tolist())


def _check_image(
    path: Path, array: np.ndarray, *, has_channels: bool, allow_stack: bool
) -> np.ndarray:
    if array.size == 0:
        raise InputError(f"{path}: the image is empty (shape {array.shape})")
    read, ndim = f"{array.shape}" + (", channels moved last" if has_channels else ""), array.ndim
    if has_channels and array.shape[-1] in (2, 4):  # a PNG's alpha (a TIFF's went by its tag)
        array = array[..., :-1]
    if has_channels and array.shape[-1] == 1:
        array, has_channels = array[..., 0], False
    spatial_end = array.ndim - 1 if has_channels else array.ndim
    leading = [n for n in array.shape[: spatial_end - 2] if n != 1]  # drop singleton pages
    array = array.reshape(tuple(leading) + array.shape[spatial_end - 2 :])
    is_plain = array.ndim == 2 or (has_channels and array.ndim == 3 and array.shape[-1] == 3)
    is_stack = array.ndim == 3 and not has_channels
    if not (is_plain or (allow_stack and is_stack)):
        what = "a stack of planes" if is_stack else f"a {ndim}-D array"
        hint = "; pass a single plane" if is_stack else ""
        raise InputError(
            f"{path}: expected a 2-D image (H, W) or RGB (H, W, 3), got {what} (shape {read}){hint}"
        )
    check_real(array, str(path))
    check_finite(array, f"{path}: the image")
    return array
