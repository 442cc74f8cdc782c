"""Meta-Upscale (Hu et al., Meta-SR, CVPR 2019): one upscaling head for every scale.

For output pixel ``(i, j)`` at scale ``s`` a small MLP maps ``(1/s, dh, dw)`` to the weights of a
``k x k`` convolution over the LR features around the source pixel; ``dh, dw`` are the pixel's
offsets inside its source pixel. Geometry and alignment are those of :mod:`bioscope.geometry`
(pixel centres), the same as the degradation, so an upscaled pipeline LR patch has exactly the HR
patch's size: ``floor(s * h) x floor(s * w)``.

The official implementation predicts weights for every pixel of an oversized
``ceil(s)H x ceil(s)W`` grid, copies the features ``ceil(s)^2`` times, unfolds and masks; its memory
grows with the output area times ``k^2 C_in C_out``. A rational scale ``p/q`` has only ``p``
distinct offsets (phases) per axis, so :func:`meta_upscale` predicts one weight set per phase pair
that the output uses. For a small ``q`` it applies them as one ``p^2 C_out``-channel convolution
of the LR features and places each phase's responses at the strided output pixels that share it
(computing ``q^2`` times the responses needed, still cheaper than gathering). For a larger ``q``
it computes each output pixel once: output pixels whose source pixels have the same residue
``(r, c)`` modulo ``q`` read the LR lattice ``r::q, c::q``, so they are one convolution of stride
``q`` with the weight sets of their phases (about ``s^2`` of them), placed by one gather; the work
is proportional to the output whatever ``p`` is (``2.73 = 273/100`` costs what ``2.7`` does).
:func:`official_meta_upscale` keeps the official method, for benchmarks and as a cross-check.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import source_index, sr_size


class WeightPredictor(nn.Module):
    """The weight-prediction MLP: ``(1/s, dh, dw) -> 256 -> k*k*C_in*C_out`` (ReLU between).

    ``quiet_init`` starts the last layer at zero, so the head first predicts nothing (with a
    bicubic skip the network starts at bicubic and learns the residual), and scales the predicted
    weights by ``1 / hidden``: each output sums ``hidden x C_in k^2`` products of last-layer
    weights, so without it one Adam step of size ``lr`` on every weight moves the output hundreds
    of times more than in an ordinary convolution (an equalised learning rate, as in ProGAN).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        hidden: int = 256,
        quiet_init: bool = False,
    ):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel = in_channels, out_channels, kernel
        last = nn.Linear(hidden, kernel * kernel * in_channels * out_channels)
        self.gain = 1.0
        if quiet_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.gain = 1.0 / hidden
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), last)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(N, 3)`` -> ``(N, C_out, C_in * k * k)`` (unfold order: channel-major, then kernel)."""
        weights = self.net(inputs) * self.gain
        return weights.view(-1, self.out_channels, self.in_channels * self.kernel**2)


#: Largest denominator for which one dense convolution over all phases (computing ``q^2`` times the
#: needed responses) beats one strided convolution per residue pair (measured at 256 x 256 with 64
#: features: 11 against 114 ms at x3/2, 368 against 166 ms at x27/10).
DENSE_MAX_DENOMINATOR = 3


def meta_upscale(
    features: torch.Tensor, scale: Fraction, predictor: WeightPredictor
) -> torch.Tensor:
    """Upscale ``features`` ``(B, C_in, h, w)`` to ``(B, C_out, floor(s h), floor(s w))``."""
    _check(features, scale, predictor)
    if scale.denominator <= DENSE_MAX_DENOMINATOR:
        return _dense(features, scale, predictor)
    return _by_residue(features, scale, predictor)


def _dense(features: torch.Tensor, scale: Fraction, predictor: WeightPredictor) -> torch.Tensor:
    """Meta-Upscale as one convolution with all ``p^2`` weight sets, each phase's responses then
    taken at its strided output pixels."""
    p, q = scale.numerator, scale.denominator
    batch, _, height, width = features.shape
    out_h, out_w = sr_size(height, scale), sr_size(width, scale)
    pairs = [source_index(a, scale) for a in range(p)]
    sources, offsets = [s for s, _ in pairs], [o for _, o in pairs]
    grid = torch.tensor(
        [[1 / float(scale), float(dh), float(dw)] for dh in offsets for dw in offsets],
        dtype=features.dtype,
        device=features.device,
    )
    k, out_channels = predictor.kernel, predictor.out_channels
    # all p^2 weight sets as one convolution: (p p O, C, k, k), phase (a, b) at a p + b
    weights = predictor(grid).view(p * p * out_channels, -1, k, k)
    responses = F.conv2d(features, weights, padding=k // 2).view(
        batch, p, p, out_channels, height, width
    )
    out = features.new_empty(batch, out_channels, out_h, out_w)
    for a in range(min(p, out_h)):
        rows = len(range(a, out_h, p))
        for b in range(min(p, out_w)):
            cols = len(range(b, out_w, p))
            phase = responses[:, a, b, :, sources[a] :: q, sources[b] :: q]
            out[:, :, a::p, b::p] = phase[..., :rows, :cols]
    return out


def _by_residue(
    features: torch.Tensor, scale: Fraction, predictor: WeightPredictor
) -> torch.Tensor:
    """Meta-Upscale by residue lattices: one stride-``q`` convolution per residue pair."""
    q = scale.denominator
    batch, _, height, width = features.shape
    rows, cols = _AxisPlan(sr_size(height, scale), scale), _AxisPlan(sr_size(width, scale), scale)
    k, out_channels = predictor.kernel, predictor.out_channels
    grid = torch.tensor(
        [[1 / float(scale), dh, dw] for dh in rows.offsets for dw in cols.offsets],
        dtype=features.dtype,
        device=features.device,
    )
    # weight sets of the phase pairs in use: (row phase, column phase, C_out, C_in, k, k)
    weights = predictor(grid).view(len(rows.offsets), len(cols.offsets), out_channels, -1, k, k)
    padded = F.pad(features, (k // 2,) * 4)
    out = features.new_empty(batch, out_channels, rows.size, cols.size)
    for r, (row_phases, row_out, row_at) in rows.groups.items():
        for c, (col_phases, col_out, col_at) in cols.groups.items():
            kernel = weights[row_phases][:, col_phases].reshape(-1, *weights.shape[-3:])
            window = padded[..., r : r + q * (int(row_at[1].max()) + 1) + k - 1, c:]
            window = window[..., : q * (int(col_at[1].max()) + 1) + k - 1]
            response = F.conv2d(window, kernel, stride=q)
            n_r, n_c = response.shape[-2:]
            # (B, A, B', O, n_r, n_c) -> (B, O, A * n_r, B' * n_c), then one gather
            response = response.view(
                batch, len(row_phases), len(col_phases), out_channels, n_r, n_c
            )
            response = response.permute(0, 3, 1, 4, 2, 5).reshape(
                batch, out_channels, len(row_phases) * n_r, len(col_phases) * n_c
            )
            picked = response[:, :, row_at[0] * n_r + row_at[1]][..., col_at[0] * n_c + col_at[1]]
            out[:, :, row_out[:, None], col_out[None, :]] = picked
    return out


class _AxisPlan:
    """Where each output pixel along one axis reads from, grouped by its source's residue mod
    ``q``.

    Attributes:
        size: output length.
        offsets: the offset inside its source pixel of each phase in use (phases ``0..n-1``).
        groups: residue ``r`` -> (the phases with sources of residue ``r``; the output indices
            that read residue ``r``; for each, its phase's position in the first tensor and its
            source's lattice index ``(source - r) / q``).
    """

    def __init__(self, size: int, scale: Fraction):
        p, q = scale.numerator, scale.denominator
        self.size = size
        pairs = [source_index(a, scale) for a in range(min(p, size))]
        self.offsets = [float(offset) for _, offset in pairs]
        index = torch.arange(size)
        phase = index % p
        source = torch.tensor([pairs[a][0] for a in phase.tolist()]) + (index // p) * q
        residue = source % q
        self.groups: dict[int, tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]] = {}
        for r in residue.unique().tolist():
            chosen = (residue == r).nonzero().flatten()
            phases, position = phase[chosen].unique(return_inverse=True)
            self.groups[r] = (phases, chosen, (position, source[chosen] // q))


def official_meta_upscale(
    features: torch.Tensor, scale: Fraction, predictor: WeightPredictor
) -> torch.Tensor:
    """The official Meta-SR method (same geometry): weights for every pixel of the
    ``ceil(s)h x ceil(s)w`` grid, features repeated ``ceil(s)^2`` times, unfold, multiply, mask."""
    _check(features, scale, predictor)
    batch, _, height, width = features.shape
    big = math.ceil(scale)
    rows, row_mask, row_offsets = _grid_axis(height, scale, big)
    cols, col_mask, col_offsets = _grid_axis(width, scale, big)
    inputs = torch.stack(
        torch.broadcast_tensors(
            torch.full((len(rows), len(cols)), 1 / float(scale)),
            row_offsets[:, None],
            col_offsets[None, :],
        ),
        dim=-1,
    ).to(features)
    weights = predictor(inputs.view(-1, 3))  # (big h * big w, O, C k k)
    unfolded = F.unfold(features, predictor.kernel, padding=predictor.kernel // 2)
    unfolded = unfolded.view(batch, -1, height, width)
    repeated = unfolded.repeat_interleave(big, dim=2).repeat_interleave(big, dim=3)
    flat = repeated.view(batch, 1, -1, len(rows) * len(cols))
    grid = torch.einsum("nok,bkn->bon", weights, flat[:, 0]).view(batch, -1, len(rows), len(cols))
    return grid[:, :, row_mask][:, :, :, col_mask]


def _grid_axis(
    length: int, scale: Fraction, big: int
) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """For the oversized grid along one axis: its LR index per row, which rows are real output
    pixels (in output order), and each row's offset."""
    out = sr_size(length, scale)
    sources = [source_index(i, scale) for i in range(out)]
    slot = [0] * (length * big)
    mask = torch.zeros(length * big, dtype=torch.bool)
    offsets = torch.zeros(length * big, dtype=torch.float64)
    seen: dict[int, int] = {}
    for source, offset in sources:
        rank = seen.get(source, 0)
        seen[source] = rank + 1
        position = source * big + rank
        mask[position] = True
        offsets[position] = float(offset)
        slot[position] = source
    return slot, mask, offsets


def _check(features: torch.Tensor, scale: Fraction, predictor: WeightPredictor) -> None:
    if features.ndim != 4:
        raise InputError(f"expected (B, C, h, w) features, got shape {tuple(features.shape)}")
    if features.shape[1] != predictor.in_channels:
        raise InputError(
            f"expected {predictor.in_channels} feature channels, got {features.shape[1]}"
        )
    if not isinstance(scale, Fraction) or scale <= 0:
        raise InputError(f"scale must be a positive Fraction, got {scale!r}")


def bicubic_upscale(lr: torch.Tensor, scale: Fraction) -> torch.Tensor:
    """Bicubic interpolation to ``floor(s h) x floor(s w)`` with pixel-centre alignment."""
    size = (sr_size(lr.shape[-2], scale), sr_size(lr.shape[-1], scale))
    return F.interpolate(lr, size=size, mode="bicubic", align_corners=False)


class MetaUpscale(nn.Module):
    """Meta-Upscale head: ``forward(features, scale)`` with ``scale`` a Fraction."""

    def __init__(
        self,
        in_channels: int = 64,
        out_channels: int = 1,
        kernel: int = 3,
        hidden: int = 256,
        quiet_init: bool = False,
    ):
        super().__init__()
        self.predictor = WeightPredictor(in_channels, out_channels, kernel, hidden, quiet_init)

    def forward(self, features: torch.Tensor, scale: Fraction) -> torch.Tensor:
        return meta_upscale(features, scale, self.predictor)
