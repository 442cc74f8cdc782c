"""Checkpoints: one safetensors file whose header carries bioscope's JSON metadata.

Tensors go in the safetensors body (no pickle: loading never runs code). The metadata (model name
and arguments, optimiser hyper-parameters, epoch, RNG state, config, version) is JSON stored under
the header key ``"bioscope"``, together with a SHA-256 of every tensor's bytes, so a truncated or
altered file, or a safetensors file that is not bioscope's, is refused with a clear message. One
file means one atomic ``os.replace``: a crash mid-write never leaves a half checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from bioscope import __version__
from bioscope.errors import InputError
from bioscope.io.atomic import atomic_path

FORMAT = "bioscope-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"


def save_checkpoint(
    path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    """Write ``tensors`` and JSON-serialisable ``meta`` to ``path`` atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.safetensors"
        >>> _ = save_checkpoint(p, {"w": torch.ones(2)}, {"epoch": 3})
        >>> tensors, meta = load_checkpoint(p)
        >>> meta["epoch"], tensors["w"].tolist()
        (3, [1.0, 1.0])
    """
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    header = {  # meta read from another checkpoint cannot carry its old digest or format here
        **meta,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bioscope_version": __version__,
        "sha256": tensor_digest(tensors),
    }
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise InputError(f"{path}: checkpoint metadata is not JSON-serialisable ({exc})") from exc
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"bioscope": text})
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`; return ``(tensors, meta)``.

    Raises:
        InputError: the file is missing, not safetensors, not bioscope's, of a newer format, or
            its tensors do not match the recorded checksum.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: a folder; give a checkpoint in it, e.g. {path}/best.safetensors")
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file")
    meta = read_checkpoint_meta(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"{path}: corrupt checkpoint ({exc})") from exc
    if tensor_digest(tensors) != meta.get("sha256"):
        raise InputError(f"{path}: corrupt checkpoint (tensor checksum mismatch)")
    return tensors, meta


def read_checkpoint_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check only the JSON metadata of a checkpoint (cheap: the header alone)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 2 <= size <= 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(handle.read(size))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a safetensors checkpoint ({exc})") from exc
    if not isinstance(header, dict):
        raise InputError(f"{path}: not a safetensors checkpoint (its header is not a JSON object)")
    metadata = header.get("__metadata__") or {}
    text = metadata.get("bioscope") if isinstance(metadata, dict) else None
    if text is None:
        raise InputError(
            f"{path}: a safetensors file without bioscope metadata (a foreign checkpoint); "
            "bioscope loads only checkpoints it wrote"
        )
    try:
        meta = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: corrupt checkpoint metadata ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise InputError(f"{path}: not a bioscope checkpoint (format {found!r})")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"{path}: corrupt checkpoint metadata (format_version {version!r})")
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path}: checkpoint format {meta['format_version']} is newer than this bioscope "
            f"({__version__}) reads; upgrade bioscope"
        )
    return meta


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``tensors`` in sorted order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
