"""bioimage.io packages of the shipped cell and SR models: valid, test-run by bioimageio.core
with both weight formats, offline, and giving bioscope's own results."""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor
from bioscope.inference.formats.bioimageio import (
    package_cell_model,
    package_sr_model,
    scale_range,
)
from bioscope.inference.spec import CellSpec, spec_to_dict
from bioscope.inference.superres import SRPredictor
from bioscope.models.checkpoint import shipped_weights

bioimageio_core = pytest.importorskip(
    "bioimageio.core", reason="bioimage.io packages need pip install 'bioscope[bioimageio]'"
)
#: PyTorch 2.13 marks torch.jit deprecated; TorchScript is what deepImageJ reads.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated")
WEIGHT_FORMATS = ("pytorch_state_dict", "torchscript")


@pytest.fixture(scope="module", autouse=True)
def offline():
    """No network in this module: every connection or name lookup is refused and recorded
    (bioimageio.spec turns a failed URL check into a warning, so refusing is not enough)."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError(f"network access in an offline test: {args}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        yield attempts
    assert not attempts, f"bioimage.io tried the network: {attempts}"


@pytest.fixture(scope="module")
def cell_package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bioimageio") / "cells.zip"
    return package_cell_model(shipped_weights("cells"), out, test_size=64)


@pytest.fixture(scope="module")
def sr_package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bioimageio") / "sr.zip"
    return package_sr_model(shipped_weights("superres"), out, 2, test_size=32)


def member(package: Path, name: str):
    """A file of ``package``: ``rdf.yaml`` parsed, ``.npy`` as an array, else bytes."""
    data = zipfile.ZipFile(package).read(name)
    if name.endswith(".yaml"):
        return yaml.safe_load(data)
    return np.load(io.BytesIO(data)) if name.endswith(".npy") else data


def package_output(package: Path, weight_format: str, raw: np.ndarray) -> np.ndarray:
    """What bioimageio.core computes from ``raw`` with the package's ``weight_format``:
    preprocessing, network, postprocessing."""
    descr = bioimageio_core.load_model_description(package)
    pipeline = bioimageio_core.create_prediction_pipeline(
        bioimageio_model=descr, weight_format=weight_format, devices=["cpu"]
    )
    sample = bioimageio_core.predict(model=pipeline, inputs={descr.inputs[0].id: raw})
    return sample.members[descr.outputs[0].id].data.values


@pytest.mark.parametrize("package", ["cell_package", "sr_package"])
def test_package_passes_bioimageio_test(package, request):
    summary = bioimageio_core.test_model(request.getfixturevalue(package), devices=["cpu"])
    assert summary.status == "passed", summary.format()
    names = " ".join(detail.name for detail in summary.details)
    for weight_format in WEIGHT_FORMATS:  # test outputs reproduced, odd sizes and batch 2 run
        assert f"Reproduce test outputs from test inputs ({weight_format})" in names
        assert f"Run {weight_format} inference for inputs with batch_size: 2" in names


def test_cell_package_describes_bioscope_model(cell_package):
    rdf = member(cell_package, "rdf.yaml")
    (raw,), (out,) = rdf["inputs"], rdf["outputs"]
    assert [a.get("id", a["type"]) for a in raw["axes"]] == ["batch", "channel", "y", "x"]
    assert raw["axes"][2]["size"] == {"min": 16, "step": 1}
    scaling = [p for p in raw["preprocessing"] if p["id"] == "scale_range"]
    assert scaling[0]["kwargs"] == {
        "axes": ["y", "x"],
        "min_percentile": 1.0,
        "max_percentile": 99.8,
    }
    assert out["postprocessing"][0]["id"] == "sigmoid"
    assert out["axes"][1]["channel_names"] == ["nuclei", "centre_distance"]
    assert set(rdf["weights"]) == set(WEIGHT_FORMATS)
    assert rdf["cite"][0]["doi"] == "10.48550/arXiv.2010.04257"
    assert (rdf["license"], rdf["authors"]) == ("MIT", [{"name": "bioscope developers"}])
    readme = member(cell_package, "README.md").decode()
    assert "MAX_STRETCH" in readme and "# Model card: cells-default" in readme
    assert member(cell_package, "cover.png")[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("weight_format", WEIGHT_FORMATS)
def test_cell_package_gives_bioscope_probabilities(cell_package, weight_format):
    raw = member(cell_package, "test_input.npy")
    predictor = CellPredictor.from_checkpoint(shipped_weights("cells"), "cpu")
    # on this field (13 nuclei) bioscope's noise and stretch floors do not bind: its
    # normalisation is the package's scale_range
    ours = predictor.spec.normalization(raw[0, 0])
    np.testing.assert_allclose(ours, scale_range(raw, 1.0, 99.8)[0, 0], atol=1e-6)
    got = package_output(cell_package, weight_format, raw)
    np.testing.assert_allclose(got[0], predictor.segment(raw[0, 0]).maps, atol=1e-4)


@pytest.mark.parametrize("weight_format", WEIGHT_FORMATS)
def test_sr_package_gives_bioscope_upscale(sr_package, weight_format):
    raw = member(sr_package, "test_input.npy")
    assert raw.min() == 0  # air in the crop: the package's lower bound is bioscope's (0)
    got = package_output(sr_package, weight_format, raw)
    assert got.shape == (1, 1, 64, 64)
    predictor = SRPredictor.from_checkpoint(shipped_weights("superres"), "cpu")
    want = predictor.upscale_unit(torch.from_numpy(scale_range(raw, 0.0, 99.5)), 2).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_sr_package_at_a_fractional_scale(tmp_path):
    # axis scales 5 (input) and 2 (output): the spec's size rule floor(n * 5 / 2) is the
    # network's for every size (bioimageio.core runs 2, 3 and 4 px: 5, 7 and 10 out)
    path = package_sr_model(shipped_weights("superres"), tmp_path / "sr.zip", "2.5", 33)
    rdf = member(path, "rdf.yaml")
    assert [a["scale"] for a in rdf["inputs"][0]["axes"][2:]] == [5.0, 5.0]
    assert [a["scale"] for a in rdf["outputs"][0]["axes"][2:]] == [2.0, 2.0]
    assert member(path, "test_output.npy").shape == (1, 1, 80, 80)  # 33 -> 32 in: whole
    assert rdf["weights"]["pytorch_state_dict"]["architecture"]["kwargs"]["scale"] == "5/2"
    summary = bioimageio_core.test_model(path, "torchscript", devices=["cpu"])
    assert summary.status == "passed", summary.format()


def test_package_refuses_bad_requests(tmp_path, sr_checkpoint):
    cells = shipped_weights("cells")
    with pytest.raises(InputError, match=r"\.zip"):
        package_cell_model(cells, tmp_path / "cells.pt")
    with pytest.raises(InputError, match="superres"):
        package_cell_model(sr_checkpoint, tmp_path / "x.zip")
    with pytest.raises(InputError, match="outside the range"):
        package_sr_model(shipped_weights("superres"), tmp_path / "x.zip", 5)
    with pytest.raises(InputError, match="does not fit"):
        package_sr_model(sr_checkpoint, tmp_path / "x.zip", 2, test_size=1)
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_resize_mode_model_is_refused(tmp_path, untrained_checkpoint):
    inference = spec_to_dict(CellSpec(mode="resize", size=64))
    checkpoint = untrained_checkpoint("unet-tiny", "segmentation", inference=inference)
    with pytest.raises(InputError, match="resize-mode"):
        package_cell_model(checkpoint, tmp_path / "cells.zip")
