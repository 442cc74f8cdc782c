"""The networks as they are exported: one normalised image tensor in, one tensor out.

* :func:`cell_graph`: a cell network behind the predictor's padding (bottom and right, by
  reflection, to a multiple of 16) and cropped back, so the graph takes any height and width of
  at least 16. With ``matmul_dft`` its Fourier layers compute their DFTs as matrix products
  (:mod:`~bioscope.inference.formats.dft`), for ONNX.
* :func:`sr_graph`: an SR network at one fixed scale. Meta-SRGAN's weight-prediction MLP depends
  on the scale only, so its outputs for the scale's ``p x p`` phases are computed once and stored
  as one convolution; each output pixel then takes its phase's response at its source pixel.

Normalisation, rescaling, tiling and counting stay in bioscope; the sidecar written beside an
exported file says how to do them (see :mod:`~bioscope.inference.formats.exporters`).
"""

from __future__ import annotations

import copy
from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import source_index
from bioscope.inference.cells import MULTIPLE
from bioscope.inference.formats.dft import irfft2_matmul, rfft2_matmul
from bioscope.models.srresnet import FixedScaleSR, MetaSRGAN
from bioscope.nn.fourier import FourierInputBlock, SpectralBranch, Variant
from bioscope.nn.meta_upscale import bicubic_upscale


class MatmulSpectralFilter(nn.Module):
    """``rfft2`` -> ``body`` on the spectrum's real-valued features -> ``irfft2``, as
    :func:`~bioscope.nn.fourier.fourier_filter` computes it, with matrix-product DFTs."""

    def __init__(self, body: nn.Module, variant: Variant):
        super().__init__()
        self.body = body
        self.variant = variant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        real, imag = rfft2_matmul(x)
        if self.variant == "reim":
            features = torch.cat([real, imag], dim=1)
        elif self.variant == "real":
            features = real
        else:
            features = torch.sqrt(real * real + imag * imag)
        features = self.body(features.to(x.dtype))
        if self.variant == "reim":
            real, imag = features.chunk(2, dim=1)
        else:
            real, imag = features, torch.zeros_like(features)
        return irfft2_matmul(real, imag, (x.shape[-2], x.shape[-1])).to(x.dtype)


def with_matmul_dft(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose :class:`~bioscope.nn.fourier.FourierInputBlock` and
    :class:`~bioscope.nn.fourier.SpectralBranch` layers use :class:`MatmulSpectralFilter`."""
    net = copy.deepcopy(net)
    for name, module in list(net.named_modules()):
        if isinstance(module, FourierInputBlock):
            replacement = MatmulSpectralFilter(module.conv, module.variant)
        elif isinstance(module, SpectralBranch):
            body = nn.Sequential(module.conv, module.norm, module.act)
            replacement = MatmulSpectralFilter(body, "reim")
        else:
            continue
        if not name:
            return replacement
        parent, _, child = name.rpartition(".")
        setattr(net.get_submodule(parent), child, replacement)
    return net


class PaddedCellNet(nn.Module):
    """Pad the bottom and right by reflection to a multiple of ``multiple``, run ``net``, crop:
    what :class:`~bioscope.inference.cells.CellPredictor` does around each call."""

    def __init__(self, net: nn.Module, multiple: int = MULTIPLE):
        super().__init__()
        self.net = net
        self.multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2], x.shape[-1]
        pad_h = (self.multiple - height % self.multiple) % self.multiple
        pad_w = (self.multiple - width % self.multiple) % self.multiple
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        return self.net(padded)[..., :height, :width]


def cell_graph(net: nn.Module, matmul_dft: bool = False) -> nn.Module:
    """The exported form of cell network ``net`` (eval mode): see the module docstring."""
    return PaddedCellNet(with_matmul_dft(net) if matmul_dft else net).eval()


#: Largest scale numerator ``p`` a Meta-SRGAN graph is exported at (it stores ``p^2`` weight sets
#: and computes ``p^2`` responses per input pixel; 3.9 = 39/10 costs about 2.4 times the body).
MAX_PHASES = 40


class FixedScaleMetaSR(nn.Module):
    """A :class:`~bioscope.models.srresnet.MetaSRGAN` at one scale ``p/q``: its Meta-Upscale
    weights for the ``p x p`` phase pairs are stored, not predicted, so the graph is the SRResNet
    body, one convolution, two gathers and (for residual models) a bicubic upscale."""

    def __init__(self, net: MetaSRGAN, scale: Fraction):
        super().__init__()
        predictor = net.upscale.predictor
        self.body, self.residual = net.body, net.residual
        self.p, self.q, self.kernel = scale.numerator, scale.denominator, predictor.kernel
        self.out_channels = predictor.out_channels
        offsets = [float(source_index(a, scale)[1]) for a in range(self.p)]
        like = next(predictor.parameters())
        with torch.no_grad():
            weights = predictor(predictor.inputs((scale, scale), offsets, offsets, like))
        shape = (-1, predictor.in_channels, self.kernel, self.kernel)
        self.register_buffer("weights", weights.reshape(shape).contiguous())

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        features = self.body(lr)
        batch, _, height, width = features.shape
        p, out = self.p, self.out_channels
        responses = F.conv2d(features, self.weights, padding=self.kernel // 2)
        # (B, row phase, column phase, O, h, w) -> (B, O, row phase * h, column phase * w)
        responses = responses.view(batch, p, p, out, height, width).permute(0, 3, 1, 4, 2, 5)
        responses = responses.reshape(batch, out, p * height, p * width)
        rows, cols = self._sources(height, lr), self._sources(width, lr)
        result = responses.index_select(2, rows).index_select(3, cols)
        if self.residual:
            result = result + bicubic_upscale(lr, Fraction(self.p, self.q))
        return result

    def _sources(self, length: int, like: torch.Tensor) -> torch.Tensor:
        """For each output pixel along an axis of ``length`` LR pixels, its row in the
        ``phase * length + source`` layout (see :func:`~bioscope.geometry.source_index`)."""
        index = torch.arange(length * self.p // self.q, device=like.device)
        source = (2 * index + 1) * self.q // (2 * self.p)
        return (index % self.p) * length + source


class ScaledSR(nn.Module):
    """An SR network at one fixed ``scale``: ``forward(lr) = net(lr, scale)`` (the PyTorch
    reference of an exported SR graph, and the architecture of a bioimage.io SR package)."""

    def __init__(self, net: nn.Module, scale: Fraction):
        super().__init__()
        self.net, self.scale = net, scale

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.net(lr, self.scale)


class FixedScaleGraph(nn.Module):
    """A fixed-scale SR network (``srgan``, ``edsr``): body, upsampler, tail."""

    def __init__(self, net: FixedScaleSR):
        super().__init__()
        self.body, self.upsampler, self.tail = net.body, net.upsampler, net.tail

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.tail(self.upsampler(self.body(lr)))


def sr_graph(net: nn.Module, scale: Fraction) -> nn.Module:
    """The exported form of SR network ``net`` at ``scale`` (eval mode).

    Raises:
        InputError: a fixed-scale network asked for another scale, a scale with more than
            :data:`MAX_PHASES` phases, or a network with no exportable form (``bicubic``
            has no weights: use any bicubic resize).
    """
    if isinstance(net, MetaSRGAN):
        if scale.numerator > MAX_PHASES:
            raise InputError(
                f"scale {scale} has {scale.numerator} phases per axis, and an exported graph "
                f"stores weights for each pair of them; choose one with a numerator of at most "
                f"{MAX_PHASES} (every scale of 1.1..4.0 in 0.1 steps has)"
            )
        return FixedScaleMetaSR(net, scale).eval()
    if isinstance(net, FixedScaleSR):
        if Fraction(net.scale) != scale:
            raise InputError(f"this model upscales by x{net.scale} only, not x{float(scale):g}")
        return FixedScaleGraph(net).eval()
    name = getattr(net, "bioscope_name", type(net).__name__)
    raise InputError(f"a {name!r} model cannot be exported; export meta-srgan, srgan or edsr")
