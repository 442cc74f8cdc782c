"""``cells export`` and ``sr export`` in every format: weights (safetensors), a graph
(TorchScript, ONNX) with a JSON sidecar beside it, or a bioimage.io package
(:mod:`~bioscope.inference.formats.bioimageio`).

The sidecar (``<file>.json``) holds the checkpoint's inference spec
(:func:`~bioscope.inference.spec.spec_to_dict`), the input and output names, shapes and what
they mean, the steps that turn an image into the input, and the result of running the written
file once against PyTorch (``check``).
"""

from __future__ import annotations

import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor
from bioscope.inference.export import export_weights
from bioscope.inference.formats.bioimageio import package_cell_model, package_sr_model
from bioscope.inference.formats.choices import BIOIMAGEIO, check_format, sidecar_path
from bioscope.inference.formats.graphs import ScaledSR, cell_graph, sr_graph
from bioscope.inference.formats.writers import OPSET, run_exported, write_onnx, write_torchscript
from bioscope.inference.spec import CellSpec, SRSpec, spec_to_dict, with_overrides
from bioscope.inference.superres import SRPredictor
from bioscope.io.atomic import atomic_write_text

#: Smallest height and width an exported cell graph takes (its reflection padding needs them).
CELL_MIN_SIDE = 16


def export_cell_model(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    fmt: str = "safetensors",
    **overrides: Any,
) -> Path:
    """Export a cell model as weights (``safetensors``), ``torchscript``, ``onnx`` or a
    bioimage.io package (``bioimageio``:
    :func:`~bioscope.inference.formats.bioimageio.package_cell_model`).

    The graph takes ``(N, 1, H, W)`` float32 images, normalised as the sidecar says, any H and W
    of at least 16, and returns the network's logits ``(N, C, H, W)``. ``overrides`` (e.g.
    ``threshold=0.6``; ``None`` values are ignored) replace fields of the checkpoint's
    inference spec in the weights' metadata or the sidecar.

    Raises:
        InputError: unknown format, wrong file ending, not a cell checkpoint, an invalid
            override, ONNX or bioimage.io packages missing, or the written file does not
            reproduce PyTorch.
    """
    check_format(fmt, out)
    if fmt == "safetensors":
        return export_weights(checkpoint, out, "segmentation", **overrides)
    if fmt == BIOIMAGEIO:
        return package_cell_model(checkpoint, out, **overrides)
    predictor = CellPredictor.from_checkpoint(checkpoint, "cpu")
    spec = with_overrides(predictor.spec, **overrides)
    example = torch.rand(2, spec.channels, 64, 96, generator=torch.Generator().manual_seed(0))
    info = {
        "task": "segmentation",
        "inference": spec_to_dict(spec),
        "input": _cell_input(spec),
        "output": _cell_output(predictor.net, spec),
    }
    graph = cell_graph(predictor.net, matmul_dft=fmt == "onnx")
    return _write(graph, cell_graph(predictor.net), example, out, fmt, checkpoint, info)


def export_sr_model(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    fmt: str = "safetensors",
    scale: float | str | Fraction | None = None,
) -> Path:
    """Export an SR model as weights (``safetensors``), or at one fixed ``scale`` as
    ``torchscript``, ``onnx`` (the Meta-Upscale weights for that scale are stored in the file)
    or a bioimage.io package (``bioimageio``:
    :func:`~bioscope.inference.formats.bioimageio.package_sr_model`).

    Raises:
        InputError: unknown format, wrong file ending, a scale missing, given for weights, or
            outside the model's trained range, not an SR checkpoint, ONNX or bioimage.io
            packages missing, or the written file does not reproduce PyTorch's output.
    """
    if fmt == "safetensors" and scale is not None:
        raise InputError(
            "--scale is for --format torchscript, onnx or bioimageio (weights take any)"
        )
    if fmt != "safetensors" and scale is None:
        raise InputError(f"--format {fmt} exports one scale per file: give --scale, e.g. 2")
    check_format(fmt, out)
    if fmt == "safetensors":
        return export_weights(checkpoint, out, "superres")
    if fmt == BIOIMAGEIO:
        return package_sr_model(checkpoint, out, scale)
    predictor = SRPredictor.from_checkpoint(checkpoint, "cpu")
    exact = predictor.check_scale(scale, strict=True)
    example = torch.rand(
        2, predictor.spec.channels, 24, 28, generator=torch.Generator().manual_seed(0)
    )
    graph = sr_graph(predictor.net, exact)
    info = {
        "task": "superres",
        "scale": str(exact),
        "inference": spec_to_dict(predictor.spec),
        "input": _sr_input(predictor.spec),
        "output": _sr_output(predictor.spec, exact),
    }
    reference = ScaledSR(predictor.net, exact)
    return _write(graph, reference, example, out, fmt, checkpoint, info)


def _write(
    graph: nn.Module,
    reference: nn.Module,
    example: torch.Tensor,
    out: str | os.PathLike[str],
    fmt: str,
    checkpoint: str | os.PathLike[str],
    info: dict[str, Any],
) -> Path:
    """Write ``graph`` in ``fmt``, run the file once against ``reference`` and write the
    sidecar; an export that does not reproduce PyTorch is removed and refused."""
    names = (info["input"]["name"], info["output"]["name"])
    min_side = CELL_MIN_SIDE if info["task"] == "segmentation" else 2
    if fmt == "onnx":
        path = write_onnx(graph, example, out, names, min_side)
    else:
        path = write_torchscript(graph, example, out)
    check = _check(path, fmt, reference, example)
    net = getattr(reference, "net", reference)
    sidecar = {
        "format": fmt,
        **({"opset": OPSET} if fmt == "onnx" else {}),
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "model": getattr(net, "bioscope_name", type(net).__name__),
        "checkpoint": Path(checkpoint).name,
        "torch": torch.__version__,
        **info,
        "check": check,
    }
    atomic_write_text(sidecar_path(path), json.dumps(sidecar, indent=2) + "\n")
    return path


#: Largest difference from PyTorch an exported file may show on its check input.
TOLERANCE = 1e-3


def _check(path: Path, fmt: str, reference: nn.Module, example: torch.Tensor) -> dict[str, Any]:
    """Run the written file on ``example`` (batch 1, another size) and compare with PyTorch."""
    x = example[:1, :, : example.shape[-2] - 3, : example.shape[-1] - 5].contiguous()
    got = run_exported(path, fmt, x)
    if got is None:
        return {"input_shape": list(x.shape), "max_abs_diff": None, "note": "onnxruntime absent"}
    with torch.no_grad():
        want = reference(x).numpy()
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    if not diff <= TOLERANCE:
        path.unlink()
        raise InputError(
            f"the exported {fmt} file gave outputs {got.shape} differing from PyTorch's "
            f"{want.shape} by {diff:.3g} (more than {TOLERANCE:g}); nothing was written"
        )
    return {"input_shape": list(x.shape), "max_abs_diff": diff}


def _cell_input(spec: CellSpec) -> dict[str, Any]:
    norm = spec.normalization
    steps = [
        "grey image as float32 (RGB: 0.299 R + 0.587 G + 0.114 B)",
        f"x = (image - P{norm.low:g}) / max(P{norm.high:g} - P{norm.low:g}, 8 * noise, 1e-12), "
        f"with P the image's own percentiles and noise = 1.4826 * MAD of its horizontal and "
        "vertical pixel differences / sqrt(2); not clipped",
    ]
    if spec.diameter is not None:
        estimated = " (bioscope estimates d per image)" if spec.estimate_diameter else ""
        steps.append(
            f"rescale (bilinear, no antialiasing) by {spec.diameter:g} / d for nuclei d pixels "
            f"across, so they appear at the training diameter{estimated}"
        )
    if spec.mode == "resize":
        steps.append(f"resize to {spec.size} x {spec.size} (bilinear, antialiased)")
    return {
        "name": "image",
        "dtype": "float32",
        "shape": ["batch", spec.channels, "height", "width"],
        "min_side": CELL_MIN_SIDE,
        "prepare": steps,
        "note": "any height and width of at least 16: the graph pads the bottom and right by "
        "reflection to a multiple of 16 and crops its output back. bioscope runs images up to "
        "1024 px a side in one pass and larger ones by 512 px tiles overlapping by 64 px, "
        "blended with a Gaussian weight (sigma = tile / 8)",
    }


def _cell_output(net: nn.Module, spec: CellSpec) -> dict[str, Any]:
    channels = getattr(net, "bioscope_args", {}).get("out_channels", 1)
    meaning = [f"cell logit: sigmoid(logit) > {spec.threshold:g} is cell"]
    if channels > 1:
        meaning.append("per-cell distance logit (counting method 'distance')")
    return {
        "name": "logits",
        "dtype": "float32",
        "shape": ["batch", channels, "height", "width"],
        "channels": meaning,
        "note": f"bioscope counts objects in the mask with method {spec.method!r}",
    }


def _sr_input(spec: SRSpec) -> dict[str, Any]:
    low, high = spec.normalization
    return {
        "name": "lr",
        "dtype": "float32",
        "shape": ["batch", spec.channels, "height", "width"],
        "prepare": [
            f"lo = min(P{low:g}, 0) and hi = P{high:g} of the voxels above zero of the whole "
            "image or volume",
            "x = (image - lo) / (hi - lo), not clipped; in-plane slices of a volume as a batch",
        ],
    }


def _sr_output(spec: SRSpec, scale: Fraction) -> dict[str, Any]:
    p, q = scale.numerator, scale.denominator
    size = "floor(height * {p} / {q})" if q > 1 else "height * {p}"
    return {
        "name": "sr",
        "dtype": "float32",
        "shape": [
            "batch",
            spec.channels,
            size.format(p=p, q=q),
            size.format(p=p, q=q).replace("height", "width"),
        ],
        "restore": "image = sr * (hi - lo) + lo (clip to the input's range for integer data)",
        "note": f"output pixel i sits at input coordinate (i + 1/2) / {float(scale):g} - 1/2",
        "trained_scales": list(spec.scales),
    }
