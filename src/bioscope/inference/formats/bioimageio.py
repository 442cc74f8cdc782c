"""bioimage.io model packages (``cells export`` / ``sr export --format bioimageio``).

A package is one zip that bioimage.io tools run (bioimageio.core, deepImageJ, ilastik, QuPath's
and napari's bioimage.io plugins): ``rdf.yaml`` in the bioimage.io model spec 0.5, the network as
TorchScript and as a PyTorch state dict (its architecture is :func:`cell_network` or
:func:`sr_network`, so loading it needs bioscope), a test input and the output the package
computes from it, a cover image and a README
(:mod:`~bioscope.inference.formats.bioimageio_docs`).

* Cells: input ``raw`` ``(batch, 1, y, x)``, any y and x of at least 16; preprocessing
  ``scale_range`` at the spec's percentiles; output ``probabilities`` after ``sigmoid``, one
  channel per network output (bioscope's ``Segmentation.maps``).
* SR, at one fixed scale ``p/q`` (the spec has no scale input): input ``lr``, preprocessing
  ``scale_range`` from the minimum to the spec's upper percentile, output ``sr`` of
  ``floor(p/q * size)`` per axis in the same units. Axis scales ``p`` (input) and ``q``
  (output) make the spec's size rule ``size * p / q`` exact for every size.

Building needs the optional ``bioimageio.core`` (``pip install 'bioscope[bioimageio]'``) and
reads local files only: nothing is downloaded. The written zip is validated by
``bioimageio.spec`` on the way out; ``bioimageio test OUT.zip`` also runs it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import parse_scale
from bioscope.inference.cells import CellPredictor
from bioscope.inference.formats.bioimageio_docs import (
    CELL_CITATION,
    SR_CITATION,
    cell_readme,
    model_card,
    sr_readme,
    write_cover,
)
from bioscope.inference.formats.choices import BIOIMAGEIO, check_format
from bioscope.inference.formats.graphs import PaddedCellNet, ScaledSR, cell_graph, sr_graph
from bioscope.inference.formats.writers import write_torchscript
from bioscope.inference.spec import spec_to_dict, with_overrides
from bioscope.inference.superres import SRPredictor
from bioscope.io.atomic import atomic_path
from bioscope.models import create_model
from bioscope.samples import mri_slice, nuclei_field

#: ``scale_range``'s epsilon in ``(x - lo) / (hi - lo + eps)``: the spec's default, so not
#: written (YAML 1.1 readers take ``1e-06`` for a string).
EPS = 1e-6
#: Smallest height and width a package takes: cells by the padding, SR by its test-run.
MIN_SIDE = {"segmentation": 16, "superres": 2}
#: Where the package's files go inside the zip.
FILES = {
    "torchscript": "weights_torchscript.pt",
    "state_dict": "weights_state_dict.pt",
    "input": "test_input.npy",
    "output": "test_output.npy",
    "sample_input": "sample_input.tif",
    "sample_output": "sample_output.tif",
    "cover": "cover.png",
    "readme": "README.md",
}
AUTHORS = [{"name": "bioscope developers"}]
#: The outputs of a cell network, in channel order (one-output networks have the first).
CELL_CHANNELS = ("nuclei", "centre_distance")
#: bioimage.io tags: modality, dimensions, content, framework, network and task, then free ones.
CELL_TAGS = ("fluorescence-light-microscopy", "2d", "nuclei", "pytorch", "unet")
CELL_TAGS += ("semantic-segmentation", "fourier", "cell-counting", "bioscope")
SR_TAGS = ("other", "2d", "brain", "pytorch", "resnet", "image-restoration")
SR_TAGS += ("super-resolution", "mri", "meta-sr", "bioscope")


def cell_network(name: str, args: dict[str, Any]) -> nn.Module:
    """The architecture of a cell package's state-dict weights: registry model ``name`` built
    with ``args`` behind the predictor's padding (:class:`PaddedCellNet`), untrained."""
    return PaddedCellNet(create_model(name, **args))


def sr_network(name: str, args: dict[str, Any], scale: str) -> nn.Module:
    """The architecture of an SR package's state-dict weights: registry model ``name`` built
    with ``args`` at ``scale`` (e.g. ``"2"``, ``"5/2"``), untrained."""
    return ScaledSR(create_model(name, **args), parse_scale(scale))


def scale_range(raw: np.ndarray, low: float, high: float) -> np.ndarray:
    """bioimage.io's ``scale_range`` over the last two axes of each image: the ``low`` and
    ``high`` percentiles (linear interpolation) to 0 and 1 (less its epsilon), not clipped;
    float32.

    Example:
        >>> scale_range(np.arange(101.0).reshape(1, 1, 1, 101), 10, 90)[0, 0, 0, [10, 90]]
        array([0., 1.], dtype=float32)
    """
    lo, hi = np.percentile(raw, [low, high], axis=(-2, -1), keepdims=True)
    return ((raw - lo) / (hi - lo + EPS)).astype(np.float32)


@dataclass
class _Contents:
    """What goes into a package besides its fixed files: ``rdf`` lacks the file entries."""

    rdf: dict[str, Any]
    graph: nn.Module
    state: dict[str, torch.Tensor]
    raw: np.ndarray
    prepared: np.ndarray
    output: np.ndarray
    readme: str


def package_cell_model(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    test_size: int = 256,
    **overrides: Any,
) -> Path:
    """Write cell model ``checkpoint`` as a bioimage.io package at ``out`` (``.zip``).

    Args:
        checkpoint: a cell checkpoint (its model card, ``<name>.md`` beside it, goes in the
            README).
        out: the zip to write (atomically).
        test_size: side of the test input, the top-left corner of
            :func:`~bioscope.samples.nuclei_field`.
        overrides: inference spec fields to record (``threshold``, ``method``; ``None`` values
            are ignored).

    Raises:
        InputError: ``out`` is not a ``.zip``, bioimageio.core is missing, not a cell
            checkpoint, a resize-mode model (the package runs at native resolution), an invalid
            override, or the package fails bioimage.io's validation.
    """
    check_format(BIOIMAGEIO, out)
    predictor = CellPredictor.from_checkpoint(checkpoint, "cpu")
    spec = with_overrides(predictor.spec, **overrides)
    if spec.mode == "resize":
        raise InputError(
            f"{checkpoint}: a resize-mode model sees every image resized to {spec.size} px, "
            "which a bioimage.io package cannot describe; export a native-mode model"
        )
    net = predictor.net
    info = _info(net, checkpoint, "segmentation", spec)
    channels = list(CELL_CHANNELS[: info["args"].get("out_channels", 1)])
    norm = spec.normalization
    raw = _crop(nuclei_field()[0], test_size, 0, 0, "segmentation")
    prepared = scale_range(raw, norm.low, norm.high)
    graph = cell_graph(net)
    with torch.no_grad():
        output = torch.sigmoid(graph(torch.from_numpy(prepared))).numpy()
    rdf = {
        "name": f"bioscope {info['model']} nuclei",
        "description": "Fluorescent nuclei in 2-D grey images: per-pixel nucleus probability"
        + (" and a centre-distance map" if len(channels) > 1 else "")
        + f", by bioscope's {info['model']} network.",
        "cite": [CELL_CITATION],
        "tags": list(CELL_TAGS),
        "inputs": [_input("raw", "grey nuclei image", "segmentation", norm.low, norm.high)],
        "outputs": [
            {
                "id": "probabilities",
                "description": "sigmoid of the network's logits: " + ", ".join(channels),
                "axes": _axes(channels, "raw"),
                "data": {"type": "float32", "range": [0.0, 1.0]},
                "postprocessing": [{"id": "sigmoid"}],
            }
        ],
        "weights": _weights("cell_network", {"name": info["model"], "args": info["args"]}),
        "config": {"bioscope": info},
    }
    readme = cell_readme(rdf["name"], spec, channels, info, model_card(checkpoint))
    state = graph.state_dict()
    return _write(_Contents(rdf, graph, state, raw, prepared, output, readme), out)


def package_sr_model(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    scale: float | str | Fraction,
    test_size: int = 64,
) -> Path:
    """Write SR model ``checkpoint`` at ``scale`` as a bioimage.io package at ``out`` (``.zip``).

    Args:
        checkpoint: an SR checkpoint (its model card, ``<name>.md`` beside it, goes in the
            README).
        out: the zip to write (atomically).
        scale: the one scale of the package, within the model's trained range.
        test_size: side of the test input, a crop of :func:`~bioscope.samples.mri_slice`
            across the top of the head (air, scalp and brain); rounded down to a multiple of
            the scale's denominator, as bioimage.io wants whole test output sizes.

    Raises:
        InputError: ``out`` is not a ``.zip``, bioimageio.core is missing, not an SR
            checkpoint, a scale the model cannot export, or the package fails bioimage.io's
            validation.
    """
    check_format(BIOIMAGEIO, out)
    predictor = SRPredictor.from_checkpoint(checkpoint, "cpu")
    exact = predictor.check_scale(scale, strict=True)
    graph = sr_graph(predictor.net, exact)
    info = {**_info(predictor.net, checkpoint, "superres", predictor.spec), "scale": str(exact)}
    high = predictor.spec.normalization[1]
    image = mri_slice()
    side = test_size - test_size % exact.denominator
    raw = _crop(image, side, 20, image.shape[1] // 2 - side // 2, "superres")
    prepared = scale_range(raw, 0.0, high)
    with torch.no_grad():
        output = graph(torch.from_numpy(prepared)).numpy()
    rdf = {
        "name": f"bioscope {info['model']} MRI x{float(exact):g}".replace(".", "_"),
        "description": f"Super-resolution of 2-D MRI slices by x{float(exact):g}, by "
        f"bioscope's {info['model']} network held at that one scale.",
        "cite": [SR_CITATION],
        "tags": list(SR_TAGS),
        "inputs": [_input("lr", "low-resolution grey image", "superres", 0.0, high, exact)],
        "outputs": [
            {
                "id": "sr",
                "description": f"the input upscaled by {float(exact):g}, in its normalised units",
                "axes": _axes(["grey"], "lr", exact.denominator),
                "data": {"type": "float32"},
            }
        ],
        "weights": _weights(
            "sr_network", {"name": info["model"], "args": info["args"], "scale": str(exact)}
        ),
        "config": {"bioscope": info},
    }
    readme = sr_readme(rdf["name"], predictor.spec, exact, info, model_card(checkpoint))
    state = ScaledSR(predictor.net, exact).state_dict()
    return _write(_Contents(rdf, graph, state, raw, prepared, output, readme), out)


def _info(net: nn.Module, checkpoint: str | os.PathLike[str], task: str, spec: Any) -> dict:
    """What the package's ``config.bioscope`` records about where it came from."""
    return {
        "task": task,
        "model": getattr(net, "bioscope_name", type(net).__name__),
        "args": dict(getattr(net, "bioscope_args", {})),
        "checkpoint": Path(checkpoint).name,
        "inference": spec_to_dict(spec),
    }


def _crop(image: np.ndarray, size: int, top: int, left: int, kind: str) -> np.ndarray:
    """The ``size`` square of ``image`` at ``(top, left)`` as a ``(1, 1, size, size)`` float32
    test input.

    Raises:
        InputError: the square is smaller than :data:`MIN_SIDE` or does not fit.
    """
    crop = image[top : top + size, max(left, 0) : max(left, 0) + size]
    if size < MIN_SIDE[kind] or crop.shape != (size, size):
        raise InputError(
            f"a test input of {size} px does not fit the {image.shape} sample image "
            f"(a side from {MIN_SIDE[kind]} px)"
        )
    return crop.astype(np.float32)[None, None]


def _input(
    name: str, what: str, kind: str, low: float, high: float, scale: Fraction = Fraction(1)
) -> dict[str, Any]:
    """An input ``(batch, channel, y, x)`` of any size from :data:`MIN_SIDE`, normalised by
    ``scale_range`` between the ``low`` and ``high`` percentiles of each image."""
    side = {"min": MIN_SIDE[kind], "step": 1}
    space = [{"type": "space", "id": a, "size": side, "scale": scale.numerator} for a in "yx"]
    kwargs = {"axes": ["y", "x"], "min_percentile": low, "max_percentile": high}
    return {
        "id": name,
        "description": f"{what}, one channel, any size of at least {side['min']} px a side",
        "axes": [{"type": "batch"}, {"type": "channel", "channel_names": ["grey"]}, *space],
        "data": {"type": "float32"},
        "preprocessing": [{"id": "scale_range", "kwargs": kwargs}],
    }


def _axes(channels: list[str], source: str, scale: int = 1) -> list[dict[str, Any]]:
    """Output axes ``(batch, channel, y, x)``, y and x sized by the input's (times its axis
    scale over ``scale``)."""
    space = [
        {"type": "space", "id": a, "scale": scale, "size": {"tensor_id": source, "axis_id": a}}
        for a in "yx"
    ]
    return [{"type": "batch"}, {"type": "channel", "channel_names": channels}, *space]


def _weights(builder: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    version = torch.__version__.split("+")[0]
    return {
        "pytorch_state_dict": {
            "source": FILES["state_dict"],
            "architecture": {
                "callable": builder,
                "import_from": __name__,
                "kwargs": kwargs,
            },
            "pytorch_version": version,
        },
        "torchscript": {
            "source": FILES["torchscript"],
            "pytorch_version": version,
            "parent": "pytorch_state_dict",
        },
    }


def _write(contents: _Contents, out: str | os.PathLike[str]) -> Path:
    """Write the package's files into a temporary folder, validate the description, and zip
    it to ``out`` atomically."""
    from bioimageio.spec import (
        InvalidDescr,
        ValidationContext,
        build_description,
        save_bioimageio_package,
    )
    from bioimageio.spec.model.v0_5 import ModelDescr

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        example = torch.from_numpy(contents.prepared)
        write_torchscript(contents.graph, example, folder / FILES["torchscript"])
        torch.save(
            {k: v.contiguous() for k, v in contents.state.items()}, folder / FILES["state_dict"]
        )
        np.save(folder / FILES["input"], contents.raw)
        np.save(folder / FILES["output"], contents.output)
        tifffile.imwrite(folder / FILES["sample_input"], contents.raw[0])
        tifffile.imwrite(folder / FILES["sample_output"], contents.output[0])
        write_cover(folder / FILES["cover"], contents.prepared[0, 0], contents.output[0, 0])
        (folder / FILES["readme"]).write_text(contents.readme, encoding="utf-8")
        rdf = _with_files(contents.rdf, ModelDescr.implemented_format_version)
        context = ValidationContext(root=folder, perform_io_checks=True, log_warnings=False)
        descr = build_description(rdf, context=context)
        if isinstance(descr, InvalidDescr):
            raise InputError(f"the package is not valid bioimage.io:\n{descr.get_reason()}")
        with atomic_path(out) as tmp_zip, context:
            save_bioimageio_package(descr, output_path=tmp_zip)
    return Path(out)


def _with_files(rdf: dict[str, Any], format_version: str) -> dict[str, Any]:
    """``rdf`` completed with the fixed fields and the package's file names."""
    inputs = [{**rdf["inputs"][0], **_tensors("input")}]
    outputs = [{**rdf["outputs"][0], **_tensors("output")}]
    return {
        "type": "model",
        "format_version": format_version,
        **rdf,
        "authors": AUTHORS,
        "license": "MIT",
        "documentation": {"source": FILES["readme"]},
        "covers": [{"source": FILES["cover"]}],
        "inputs": inputs,
        "outputs": outputs,
    }


def _tensors(kind: str) -> dict[str, Any]:
    """The test tensor (``.npy``) and sample tensor (TIFF) entries of the ``kind`` tensor."""
    return {
        "test_tensor": {"source": FILES[kind]},
        "sample_tensor": {"source": FILES[f"sample_{kind}"]},
    }
