"""TorchScript and ONNX export of both shipped models: the files give PyTorch's outputs."""

from __future__ import annotations

import hashlib
import json
import sys
from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.data.cells import pad_to_multiple
from bioscope.data.intensity import mri_window
from bioscope.errors import InputError
from bioscope.inference.cells import CellPredictor
from bioscope.inference.formats import export_cell_model, export_sr_model, sidecar_path
from bioscope.inference.formats.dft import irfft2_matmul, rfft2_matmul
from bioscope.inference.formats.graphs import sr_graph, with_matmul_dft
from bioscope.inference.spec import spec_to_dict
from bioscope.inference.superres import SRPredictor
from bioscope.io.images import to_grey
from bioscope.models import create_model
from bioscope.models.checkpoint import shipped_weights
from bioscope.samples import mri_slice, nuclei_field

#: The largest difference from PyTorch an exported file may show.
ATOL = 1e-4
SUFFIX = {"torchscript": ".pt", "onnx": ".onnx"}
#: PyTorch 2.13 marks torch.jit deprecated; TorchScript is still what deepImageJ reads.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated")


def run_file(path, x: torch.Tensor) -> np.ndarray:
    """Run an exported file as its users would: ``torch.jit.load`` or a plain onnxruntime
    session (one thread)."""
    if path.suffix == ".pt":
        with torch.no_grad():
            return torch.jit.load(str(path))(x).numpy()
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def need(fmt: str) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")


# --- the pieces, against independent references ------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 1, 7, 10), (1, 2, 33, 47), (1, 1, 64, 96)])
def test_matmul_dft_equals_torch_fft(shape):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    real, imag = rfft2_matmul(x)
    spectrum = torch.fft.rfft2(x, norm="ortho")
    assert real.shape == imag.shape == spectrum.shape
    assert (real - spectrum.real).abs().max() < 1e-5
    assert (imag - spectrum.imag).abs().max() < 1e-5
    # a spectrum that is not Hermitian (as a convolution's output is not): only irfft2's rule
    real, imag = 1.3 * spectrum.real + 0.1, 0.7 * spectrum.imag - 0.05
    want = torch.fft.irfft2(torch.complex(real, imag), s=shape[-2:], norm="ortho")
    got = irfft2_matmul(real, imag, shape[-2:])
    assert got.shape == want.shape and (got - want).abs().max() < 1e-5


def test_naive_dft_reference():
    """One coefficient by the textbook sum, so the matrices are checked against more than
    another FFT."""
    x = torch.randn(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    real, imag = rfft2_matmul(x)
    row, col = 2, 1
    m, n = torch.meshgrid(torch.arange(5.0), torch.arange(6.0), indexing="ij")
    angle = -2 * torch.pi * (row * m / 5 + col * n / 6)
    want = (x * torch.cos(angle)).sum() / 30**0.5, (x * torch.sin(angle)).sum() / 30**0.5
    assert torch.allclose(real[row, col], want[0]) and torch.allclose(imag[row, col], want[1])


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("fft-unet-tiny", {"init": "random"}),
        ("fft-unet-tiny", {"variant": "real", "init": "random"}),
        ("fft-unet-tiny", {"variant": "magnitude", "init": "random"}),
        ("ffc-unet-tiny", {}),
    ],
)
def test_matmul_fourier_layers_equal_the_originals(name, kwargs):
    torch.manual_seed(0)
    net = create_model(name, **kwargs).eval()
    x = torch.rand(2, 1, 32, 48)
    with torch.no_grad():
        assert (with_matmul_dft(net)(x) - net(x)).abs().max() < 1e-5


@pytest.mark.parametrize("scale", [Fraction(2), Fraction(4), Fraction(5, 2), Fraction(27, 10)])
def test_fixed_scale_meta_sr_equals_the_network(scale):
    torch.manual_seed(0)
    net = create_model("meta-srgan-tiny").eval()
    with torch.no_grad():  # move the head off its zero start, so the test sees it
        for p in net.upscale.parameters():
            p.normal_(0, 0.1)
        x = torch.rand(2, 1, 13, 17)
        got, want = sr_graph(net, scale)(x), net(x, scale)
    assert (
        got.shape
        == want.shape
        == (
            2,
            1,
            13 * scale.numerator // scale.denominator,
            17 * scale.numerator // scale.denominator,
        )
    )
    assert (got - want).abs().max() < 1e-5


def test_sr_graph_refusals():
    with pytest.raises(InputError, match="x2 only"):
        sr_graph(create_model("srgan-tiny"), Fraction(3))
    with pytest.raises(InputError, match="cannot be exported"):
        sr_graph(create_model("bicubic"), Fraction(2))
    with pytest.raises(InputError, match="numerator of at most"):
        sr_graph(create_model("meta-srgan-tiny"), Fraction(399, 100))


# --- the shipped models, exported once per module ----------------------------------------------


@pytest.fixture(scope="module")
def cells() -> CellPredictor:
    return CellPredictor.from_checkpoint(device="cpu")


@pytest.fixture(scope="module")
def sr() -> SRPredictor:
    return SRPredictor.from_checkpoint(device="cpu")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``exported(kind, fmt, scale)``: the shipped model's file, written on first use."""
    folder = tmp_path_factory.mktemp("exported")
    made = {}

    def get(kind: str, fmt: str, scale: str | None = None):
        need(fmt)
        key = (kind, fmt, scale)
        if key not in made:
            name = f"{kind}{'-x' + scale if scale else ''}{SUFFIX[fmt]}"
            if kind == "cells":
                made[key] = export_cell_model(shipped_weights("cells"), folder / name, fmt)
            else:
                made[key] = export_sr_model(shipped_weights("superres"), folder / name, fmt, scale)
        return made[key]

    return get


def cell_reference(predictor: CellPredictor, x: torch.Tensor) -> np.ndarray:
    """What the predictor computes per call: reflect-pad to 16, network, crop."""
    with torch.no_grad():
        return predictor.net(pad_to_multiple(x, 16))[..., : x.shape[-2], : x.shape[-1]].numpy()


def nuclei_input(predictor: CellPredictor) -> torch.Tensor:
    """A crop (112 x 150) of the sample nuclei field, normalised as the predictor normalises."""
    image, _ = nuclei_field(count=60, seed=4)
    unit = predictor.spec.normalization.normalize(to_grey(image)).image
    return torch.from_numpy(np.ascontiguousarray(unit[100:212, 200:350]))[None, None]


def mri_input(predictor: SRPredictor) -> torch.Tensor:
    """A crop (48 x 40) of the sample MRI slice in model units, as the SR predictor maps it."""
    data = mri_slice()
    lo, hi = mri_window(data, *predictor.spec.normalization)
    unit = (data[90:138, 70:110].astype(np.float32) - lo) / (hi - lo)
    return torch.from_numpy(np.ascontiguousarray(unit))[None, None]


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_cell_model_matches_pytorch(fmt, cells, exported):
    path = exported("cells", fmt)
    generator = torch.Generator().manual_seed(0)
    inputs = [
        torch.rand(2, 1, 64, 96, generator=generator),
        torch.rand(1, 1, 50, 70, generator=generator),  # not multiples of 16: padded inside
        nuclei_input(cells),
    ]
    for x in inputs:
        got, want = run_file(path, x), cell_reference(cells, x)
        assert got.shape == want.shape == (x.shape[0], 2, *x.shape[-2:])
        assert np.abs(got - want).max() < ATOL, (fmt, tuple(x.shape))
    # and the real crop is a real test: the model finds nuclei in it
    assert (run_file(path, inputs[-1])[0, 0] > 0).mean() > 0.05


@pytest.mark.parametrize(
    "fmt, scale",
    [("torchscript", "2"), ("torchscript", "2.5"), ("torchscript", "4"), ("onnx", "2")],
)
def test_sr_model_matches_pytorch(fmt, scale, sr, exported):
    path = exported("sr", fmt, scale)
    exact = Fraction(scale)
    mri = mri_input(sr)
    assert mri.std() > 0.1  # brain, not background
    for x in (torch.rand(2, 1, 21, 30, generator=torch.Generator().manual_seed(0)), mri):
        got = run_file(path, x)
        with torch.no_grad():
            want = sr.net(x, exact).numpy()
        size = [n * exact.numerator // exact.denominator for n in x.shape[-2:]]
        assert got.shape == want.shape == (x.shape[0], 1, *size)
        assert np.abs(got - want).max() < ATOL, (fmt, scale, tuple(x.shape))


def test_sidecar_tells_how_to_feed_the_file(cells, exported):
    path = exported("cells", "onnx")
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["inference"] == spec_to_dict(cells.spec)
    assert sidecar["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sidecar["model"] == "fft-unet" and sidecar["format"] == "onnx"
    assert sidecar["input"]["shape"] == ["batch", 1, "height", "width"]
    assert sidecar["check"]["max_abs_diff"] < ATOL
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == sidecar["input"]["name"] == "image"
    assert session.get_outputs()[0].name == sidecar["output"]["name"] == "logits"


def test_sr_sidecar_records_the_scale(sr, exported):
    sidecar = json.loads(sidecar_path(exported("sr", "torchscript", "2")).read_text())
    assert sidecar["scale"] == "2" and sidecar["inference"] == spec_to_dict(sr.spec)
    assert sidecar["output"]["shape"] == ["batch", 1, "height * 2", "width * 2"]


# --- refusals ----------------------------------------------------------------------------------


def test_export_refusals(tmp_path):
    cells, superres = shipped_weights("cells"), shipped_weights("superres")
    with pytest.raises(InputError, match="unknown export format 'tflite'"):
        export_cell_model(cells, tmp_path / "m.tflite", "tflite")
    with pytest.raises(InputError, match=r"writes a \.onnx file"):
        export_cell_model(cells, tmp_path / "m.pt", "onnx")
    with pytest.raises(InputError, match=r"outside the range 1\.1\.\.4 "):
        export_sr_model(superres, tmp_path / "m.pt", "torchscript", "5")
    with pytest.raises(InputError, match="give --scale, e"):
        export_sr_model(superres, tmp_path / "m.pt", "torchscript")
    with pytest.raises(InputError, match="a 'superres' checkpoint, but a 'segmentation' model"):
        export_cell_model(superres, tmp_path / "m.pt", "torchscript")
    assert list(tmp_path.iterdir()) == []


def test_onnx_packages_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import fails as if not installed
    with pytest.raises(InputError, match=r"pip install 'bioscope\[export\]'"):
        export_cell_model(shipped_weights("cells"), tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []


def test_bioimageio_goes_through_the_same_checks(tmp_path, monkeypatch):
    cells, superres = shipped_weights("cells"), shipped_weights("superres")
    with pytest.raises(InputError, match=r"--format bioimageio writes a \.zip file"):
        export_cell_model(cells, tmp_path / "m.pt", "bioimageio")
    monkeypatch.setitem(sys.modules, "bioimageio.core", None)  # as if not installed
    with pytest.raises(InputError, match="bioimageio exports one scale per file: give --scale"):
        export_sr_model(superres, tmp_path / "m.zip", "bioimageio")  # said before the extra
    with pytest.raises(InputError, match=r"pip install 'bioscope\[bioimageio\]'"):
        export_cell_model(cells, tmp_path / "m.zip", "bioimageio")
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    need("onnx")

    def broken(*args, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(InputError, match="ONNX export failed: RuntimeError: no"):
        export_sr_model(shipped_weights("superres"), tmp_path / "m.onnx", "onnx", "2")
    assert list(tmp_path.iterdir()) == []
