"""Writing a graph as TorchScript or ONNX (atomically), and reading it back to check it.

TorchScript files are traced (``torch.jit.trace``: the graph has no data-dependent branches, and
traced sizes keep height and width free). ONNX files come from ``torch.onnx.export(...,
dynamo=True)`` at opset :data:`OPSET` with batch, height and width dynamic; that needs the
optional ``onnx`` and ``onnxscript`` packages (``pip install 'bioscope[export]'``), and checking
an ONNX file needs ``onnxruntime``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.inference.formats.choices import require_onnx
from bioscope.io.atomic import atomic_path

#: ONNX opset of exported files (IR version 10: onnxruntime 1.17 and later).
OPSET = 20


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' progress lines, deprecation notices and tracer warnings (the
    graphs are written so that the traced constants are the right ones)."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def write_torchscript(graph: nn.Module, example: torch.Tensor, path: str | os.PathLike) -> Path:
    """Trace ``graph`` on ``example`` and save it as TorchScript at ``path`` (atomically)."""
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(graph.eval(), example, check_trace=False)
    with atomic_path(path) as tmp, _quiet():
        torch.jit.save(traced, str(tmp))
    return Path(path)


def write_onnx(
    graph: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike,
    names: tuple[str, str],
    min_side: int,
) -> Path:
    """Export ``graph`` to ONNX at ``path`` (atomically) with dynamic batch, height and width
    (each at least ``min_side``; batch at least 1), input and output named ``names``.

    Raises:
        InputError: the ONNX packages are missing, or the exporter fails.
    """
    require_onnx()
    side = {"min": min_side, "max": 1 << 16}
    dims = {
        0: torch.export.Dim("batch", min=1, max=1 << 12),
        2: torch.export.Dim("height", **side),
        3: torch.export.Dim("width", **side),
    }
    try:
        with _quiet(), torch.no_grad():
            program = torch.onnx.export(
                graph.eval(),
                (example,),
                dynamo=True,
                opset_version=OPSET,
                input_names=[names[0]],
                output_names=[names[1]],
                dynamic_shapes=(dims,),
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many kinds; say which step failed
        raise InputError(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
    with atomic_path(path) as tmp, _quiet():
        program.save(str(tmp), external_data=False)
    return Path(path)


def run_exported(path: str | os.PathLike, fmt: str, x: torch.Tensor) -> np.ndarray | None:
    """Run the exported file at ``path`` on ``x`` on the CPU, as a user of its format would:
    ``torch.jit.load`` or an onnxruntime session. ``None`` when onnxruntime is not installed."""
    if fmt == "torchscript":
        with torch.no_grad(), _quiet():
            return torch.jit.load(str(path), map_location="cpu")(x).numpy()
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
