"""``bioscope cells export`` and ``bioscope sr export`` with ``--format bioimageio``."""

from __future__ import annotations

import zipfile

import pytest
import torch
import yaml

from bioscope.inference.spec import CellSpec, spec_to_dict

bioimageio_spec = pytest.importorskip(
    "bioimageio.spec", reason="bioimage.io packages need pip install 'bioscope[bioimageio]'"
)
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated")


@pytest.fixture(scope="module")
def fft_checkpoint(untrained_checkpoint):
    """A tiny one-output FFT U-Net with a random Fourier block."""
    torch.manual_seed(0)
    args, inference = {"init": "random"}, spec_to_dict(CellSpec())
    return untrained_checkpoint("fft-unet-tiny", "segmentation", args, inference)


def valid_rdf(path) -> dict:
    """The package's rdf.yaml, after checking bioimage.io reads the package as a valid model."""
    descr = bioimageio_spec.load_description(path, perform_io_checks=True)
    assert descr.validation_summary.status == "valid-format", descr.validation_summary.format()
    return yaml.safe_load(zipfile.ZipFile(path).read("rdf.yaml"))


def test_cells_export_bioimageio(cli, fft_checkpoint, tmp_path):
    out = tmp_path / "cells.zip"
    args = ["cells", "export", str(fft_checkpoint), "--format", "bioimageio", "-o", str(out)]
    result = cli(*args, "--threshold", "0.6", "--method", "watershed")
    assert result.returncode == 0, result.stderr
    assert f"test it with: bioimageio test {out}" in result.stdout
    rdf = valid_rdf(out)
    assert rdf["config"]["bioscope"]["inference"]["threshold"] == 0.6
    assert rdf["outputs"][0]["axes"][1]["channel_names"] == ["nuclei"]  # one-output network
    readme = zipfile.ZipFile(out).read("README.md").decode()
    assert "`nuclei > 0.6`" in readme and "counting method `watershed`" in readme


def test_sr_export_bioimageio(cli, sr_checkpoint, tmp_path):
    out = tmp_path / "sr.zip"
    args = ["sr", "export", str(sr_checkpoint), "--format", "bioimageio", "-o", str(out)]
    result = cli(*args, "--scale", "2")
    assert result.returncode == 0, result.stderr
    rdf = valid_rdf(out)
    assert rdf["config"]["bioscope"]["scale"] == "2"
    assert rdf["name"] == "bioscope meta-srgan-tiny MRI x2"


@pytest.mark.parametrize(
    "command, out, message",
    [
        (["sr", "export", "{sr}", "--format", "bioimageio"], "sr.zip", "give --scale"),
        (["cells", "export", "{cells}", "--format", "bioimageio"], "cells.pt", "writes a .zip"),
        (["cells", "export", "{cells}", "--format", "onnx"], "cells.zip", "writes a .onnx"),
    ],
    ids=["sr-without-scale", "package-not-zip", "zip-not-package"],
)
def test_export_bioimageio_refuses(
    cli, fft_checkpoint, sr_checkpoint, tmp_path, command, out, message
):
    args = [a.format(sr=sr_checkpoint, cells=fft_checkpoint) for a in command]
    result = cli(*args, "-o", str(tmp_path / out))
    assert result.returncode != 0
    assert message in result.stderr
    assert not list(tmp_path.iterdir())
