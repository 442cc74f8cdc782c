"""``bioscope cells export`` and ``bioscope sr export`` in TorchScript and ONNX."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.data.cells import pad_to_multiple
from bioscope.inference.spec import CellSpec, spec_to_dict
from bioscope.models.checkpoint import load_model

pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated")


@pytest.fixture(scope="module")
def fft_checkpoint(untrained_checkpoint):
    """A tiny FFT U-Net with a random Fourier block, as ``cells export`` writes weights."""
    torch.manual_seed(0)
    args, inference = {"init": "random"}, spec_to_dict(CellSpec(threshold=0.7))
    return untrained_checkpoint("fft-unet-tiny", "segmentation", args, inference)


def run_onnx(path, x: torch.Tensor) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


# ONNX through the command line: sr export below (the cell model's ONNX export takes ~10 s, and
# tests/inference/test_formats.py runs it on the shipped model)
@pytest.mark.parametrize("fmt, suffix", [("torchscript", ".pt")])
def test_cells_export(cli, fft_checkpoint, tmp_path, fmt, suffix):
    out = tmp_path / f"cells{suffix}"
    args = ["cells", "export", str(fft_checkpoint), "--format", fmt, "-o", str(out)]
    result = cli(*args, "--threshold", "0.6")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout and f"{out}.json" in result.stdout
    sidecar = json.loads((tmp_path / f"cells{suffix}.json").read_text())
    assert sidecar["inference"]["threshold"] == 0.6  # the override, not the checkpoint's 0.7
    assert sidecar["model"] == "fft-unet-tiny" and sidecar["format"] == fmt
    net, _ = load_model(fft_checkpoint, "segmentation")
    x = torch.rand(1, 1, 37, 45, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = net(pad_to_multiple(x, 16))[..., :37, :45].numpy()
        got = torch.jit.load(str(out))(x).numpy()
    assert got.shape == want.shape == (1, 1, 37, 45)
    assert np.abs(got - want).max() < 1e-4


@pytest.mark.parametrize("fmt, suffix", [("torchscript", ".pt"), ("onnx", ".onnx")])
def test_sr_export(cli, sr_checkpoint, tmp_path, fmt, suffix):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    out = tmp_path / f"sr-x1.5{suffix}"
    args = ["sr", "export", str(sr_checkpoint), "--format", fmt, "--scale", "1.5"]
    result = cli(*args, "-o", str(out))
    assert result.returncode == 0, result.stderr
    sidecar = json.loads((tmp_path / f"sr-x1.5{suffix}.json").read_text())
    assert sidecar["scale"] == "3/2" and sidecar["input"]["name"] == "lr"
    net, _ = load_model(sr_checkpoint, "superres")
    x = torch.rand(2, 1, 15, 22, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = net(x, Fraction(3, 2)).numpy()
        got = torch.jit.load(str(out))(x).numpy() if fmt == "torchscript" else run_onnx(out, x)
    assert got.shape == want.shape == (2, 1, 22, 33)
    assert np.abs(got - want).max() < 1e-4


def test_weights_stay_the_default(cli, fft_checkpoint, sr_checkpoint, tmp_path):
    result = cli("cells", "export", str(fft_checkpoint), "-o", str(tmp_path / "w.safetensors"))
    assert result.returncode == 0, result.stderr
    result = cli("sr", "export", str(sr_checkpoint), "-o", str(tmp_path / "s.safetensors"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.safetensors", "w.safetensors"]


def test_export_bad_input(cli, fft_checkpoint, sr_checkpoint, tmp_path):
    """Refused before anything is written; none of these needs the ONNX packages."""
    cells, sr = str(fft_checkpoint), str(sr_checkpoint)
    torchscript = ["--format", "torchscript"]
    cases = [
        (["cells", "export", cells, "--format", "tflite"], "m.onnx", 2, "invalid choice: 'tflite'"),
        (["cells", "export", cells, "--format", "onnx"], "m.pt", 1, "writes a .onnx file"),
        (["cells", "export", cells, *torchscript], "m.json", 1, "--out must end with"),
        (["sr", "export", sr, *torchscript], "m.pt", 1, "exports one scale per file"),
        (["sr", "export", sr, *torchscript, "--scale", "5"], "m.pt", 1, "outside the range"),
        (["sr", "export", sr, *torchscript, "--scale", "0.5"], "m.pt", 1, "greater than 1"),
        (["sr", "export", sr, "--scale", "2"], "m.safetensors", 1, "--scale is for --format"),
        (["sr", "export", cells, *torchscript, "--scale", "2"], "m.pt", 1, "'segmentation' che"),
    ]
    for args, out, code, message in cases:
        result = cli(*args, "-o", str(tmp_path / out))
        assert result.returncode == code and message in result.stderr, (args, result.stderr)
    assert list(tmp_path.iterdir()) == []
