"""The export formats: the file each writes, what each needs installed, and the check of both
that runs before anything is built."""

from __future__ import annotations

import os
from pathlib import Path

from bioscope.errors import InputError

#: The format of a bioimage.io model package (:mod:`~bioscope.inference.formats.bioimageio`).
BIOIMAGEIO = "bioimageio"
#: Export formats and the file ending each writes.
FORMATS = {
    "safetensors": ".safetensors",
    "torchscript": ".pt",
    "onnx": ".onnx",
    BIOIMAGEIO: ".zip",
}
#: What ``pip`` installs for ONNX export and checks.
ONNX_HINT = "pip install 'bioscope[export]'"
#: What ``pip`` installs for bioimage.io packaging and testing.
BIOIMAGEIO_HINT = "pip install 'bioscope[bioimageio]'"


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where the JSON sidecar of exported file ``path`` goes: ``<path>.json``."""
    return Path(f"{os.fspath(path)}.json")


def require_onnx() -> None:
    """Raise :class:`InputError` unless the packages ONNX export needs are importable."""
    for package in ("onnx", "onnxscript"):
        try:
            __import__(package)
        except ImportError as exc:
            raise InputError(
                f"ONNX export needs the {package!r} package, which is not installed: {ONNX_HINT}"
            ) from exc


def require_bioimageio() -> None:
    """Raise :class:`InputError` unless bioimageio.core is importable."""
    try:
        import bioimageio.core  # noqa: F401
    except ImportError as exc:
        raise InputError(
            f"bioimage.io packages need the 'bioimageio.core' package: {BIOIMAGEIO_HINT}"
        ) from exc


def check_format(fmt: str, out: str | os.PathLike[str]) -> None:
    """Raise :class:`InputError` for an unknown format, an ``out`` with the wrong ending, or a
    format without the packages it needs (ONNX, bioimage.io)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not os.fspath(out).lower().endswith(FORMATS[fmt]):
        raise InputError(f"{out}: --format {fmt} writes a {FORMATS[fmt]} file")
    if fmt == "onnx":
        require_onnx()
    if fmt == BIOIMAGEIO:
        require_bioimageio()
