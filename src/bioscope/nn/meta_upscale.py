"""Meta-Upscale (Hu et al., Meta-SR, CVPR 2019): one upscaling head for every scale.

For output pixel ``(i, j)`` at scale ``s`` a small MLP maps ``(1/s, dh, dw)`` to the weights of a
``k x k`` convolution over the LR features around the source pixel; ``dh, dw`` are the pixel's
offsets inside its source pixel. An *anisotropic* head sees one scale per axis,
``(1/s_h, 1/s_w, dh, dw)``, so one network also enlarges along one axis only (``s_h = 1``: across
the slices of a thick-slice volume); scales are then pairs ``(s_h, s_w)`` with each >= 1.
Geometry and alignment are those of :mod:`bioscope.geometry` (pixel centres), the same as the
degradation, so an upscaled pipeline LR patch has exactly the HR patch's size:
``floor(s * h) x floor(s * w)``.

The official implementation predicts weights for every pixel of an oversized
``ceil(s)H x ceil(s)W`` grid, copies the features ``ceil(s)^2`` times, unfolds and masks; its memory
grows with the output area times ``k^2 C_in C_out``. A rational scale ``p/q`` has only ``p``
distinct offsets (phases) per axis, so :func:`meta_upscale` predicts one weight set per phase pair
that the output uses (at most ``min(p, out_h) x min(p, out_w)``). For a small ``q`` it applies
them as one ``p^2 C_out``-channel convolution of the LR features and gathers each output pixel's
response (computing ``q^2`` times the responses needed). For a larger ``q`` it goes row phase by
row phase: the output rows of phase ``a`` read LR rows ``s_a, s_a + q, ...``; those rows (with
their ``k x k`` neighbourhoods) go through one convolution with the phase's weight sets, one per
column phase, and each output pixel takes its column phase's response at its source column. That
computes about ``q`` times the responses needed along columns only, in ``min(p, out_h)`` calls, so
the cost follows the output whatever ``p`` is (``3.99 = 399/100`` costs about what ``4`` does,
plus the weight prediction for its ``p^2`` phase pairs).
:func:`official_meta_upscale` keeps the official method, for benchmarks and as a cross-check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import torch
import torch.nn.functional as F
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import ScaleLike, Scales, parse_scales, source_index, sr_size


class WeightPredictor(nn.Module):
    """The weight-prediction MLP: ``(1/s, dh, dw) -> 256 -> k*k*C_in*C_out`` (ReLU between), or
    ``(1/s_h, 1/s_w, dh, dw) -> ...`` when ``anisotropic``.

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
        anisotropic: bool = False,
    ):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel = in_channels, out_channels, kernel
        self.anisotropic = anisotropic
        last = nn.Linear(hidden, kernel * kernel * in_channels * out_channels)
        self.gain = 1.0
        if quiet_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.gain = 1.0 / hidden
        self.net = nn.Sequential(nn.Linear(4 if anisotropic else 3, hidden), nn.ReLU(), last)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(N, 3 or 4)`` -> ``(N, C_out, C_in * k * k)`` (unfold order: channel-major, then
        kernel)."""
        weights = self.net(inputs) * self.gain
        return weights.view(-1, self.out_channels, self.in_channels * self.kernel**2)

    def inputs(
        self,
        scales: Scales,
        row_offsets: Sequence[float] | torch.Tensor,
        col_offsets: Sequence[float] | torch.Tensor,
        like: torch.Tensor,
    ) -> torch.Tensor:
        """The MLP's inputs for every pair of offsets, row offsets major: ``(1/s, dh, dw)``, or
        ``(1/s_h, 1/s_w, dh, dw)`` for an anisotropic head.

        Raises:
            InputError: unequal scales for an isotropic head.
        """
        rows, cols = scales
        if self.anisotropic:
            head = [1 / float(rows), 1 / float(cols)]
        elif rows == cols:
            head = [1 / float(rows)]
        else:
            raise InputError(
                f"this model enlarges both axes by one scale (got {rows} x {cols}); enlarging "
                "one axis only (through-plane) needs an anisotropic model"
            )
        dh, dw = (
            torch.as_tensor(offsets, dtype=torch.float64).to(like.device, like.dtype)
            for offsets in (row_offsets, col_offsets)
        )
        pairs = torch.cartesian_prod(dh, dw).view(-1, 2)
        scale = torch.tensor(head, dtype=like.dtype, device=like.device).expand(len(pairs), -1)
        return torch.cat([scale, pairs], dim=1)


def widen_to_anisotropic(first_layer: torch.Tensor) -> torch.Tensor:
    """The first-layer weight ``(hidden, 3)`` of an isotropic head as ``(hidden, 4)`` for an
    anisotropic one that gives the same output at equal scales: the ``1/s`` column is split
    evenly between ``1/s_h`` and ``1/s_w`` (a start for fine-tuning, not a trained model)."""
    scale, offsets = first_layer[:, :1], first_layer[:, 1:]
    return torch.cat([scale / 2, scale / 2, offsets], dim=1)


#: Largest denominator for which one dense convolution over all phase pairs (computing ``q^2``
#: times the responses needed) beats one convolution per row phase (computing ``q`` times them).
#: At 256 x 256, 64 features, one thread: 49 against 93 ms at x7/3, 699 against 103 ms at x27/10.
DENSE_MAX_DENOMINATOR = 3


def meta_upscale(
    features: torch.Tensor, scale: ScaleLike, predictor: WeightPredictor
) -> torch.Tensor:
    """Upscale ``features`` ``(B, C_in, h, w)`` to ``(B, C_out, floor(s_h h), floor(s_w w))``.

    ``scale`` goes through :func:`~bioscope.geometry.parse_scales`: one scale for both axes
    (``2.7``, ``"2.7"`` and ``Fraction(27, 10)`` are one scale) or a pair ``(s_h, s_w)``.
    """
    scales = _check(features, scale, predictor)
    if max(s.denominator for s in scales) <= DENSE_MAX_DENOMINATOR:
        return _dense(features, scales, predictor)
    return _by_row_phase(features, scales, predictor)


def _dense(features: torch.Tensor, scales: Scales, predictor: WeightPredictor) -> torch.Tensor:
    """All weight sets as one ``P_h P_w C_out``-channel convolution of the LR features; each output
    pixel then takes its phase pair's response at its source pixel (one gather)."""
    batch, channels, height, width = features.shape
    row_source, row_phase, row_offsets = _axis(height, scales[0], features.device)
    col_source, col_phase, col_offsets = _axis(width, scales[1], features.device)
    k, out_channels = predictor.kernel, predictor.out_channels
    weights = predictor(predictor.inputs(scales, row_offsets, col_offsets, features))
    responses = F.conv2d(features, weights.view(-1, channels, k, k), padding=k // 2)
    responses = responses.view(
        batch, len(row_offsets), len(col_offsets), out_channels, height, width
    ).permute(0, 3, 1, 2, 4, 5)  # (B, O, row phase, column phase, h, w)
    return responses[
        :, :, row_phase[:, None], col_phase[None, :], row_source[:, None], col_source[None, :]
    ]


def _by_row_phase(
    features: torch.Tensor, scales: Scales, predictor: WeightPredictor
) -> torch.Tensor:
    """One row phase at a time: the ``k`` LR rows around each of its source rows, one convolution
    with its weight sets (one per column phase) over them, and one gather of each output pixel's
    column phase at its source column. No LR row is computed that the phase does not use."""
    batch, channels, height, width = features.shape
    row_source, _, row_offsets = _axis(height, scales[0], features.device)
    col_source, col_phase, col_offsets = _axis(width, scales[1], features.device)
    k, out_channels, p = predictor.kernel, predictor.out_channels, scales[0].numerator
    padded = F.pad(features, (k // 2,) * 4)
    window = torch.arange(k, device=features.device)
    out = features.new_empty(batch, out_channels, len(row_source), len(col_source))
    for a, offset in enumerate(row_offsets):
        weights = predictor(predictor.inputs(scales, [offset], col_offsets, features))
        rows = row_source[a::p]  # output rows a, a + p, ... read LR rows s_a, s_a + q, ...
        slab = padded.index_select(2, (rows[:, None] + window).flatten())
        responses = F.conv2d(slab, weights.view(-1, channels, k, k), stride=(k, 1))
        responses = responses.view(batch, len(col_offsets), out_channels, len(rows), width)
        out[:, :, a::p] = responses[:, col_phase, :, :, col_source].permute(1, 2, 3, 0)
    return out


def _axis(
    length: int, scale: Fraction, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """Along one output axis: each pixel's LR source and phase (``i mod p``), and the offset of
    each phase in use (``min(p, output length)`` of them)."""
    p, q = scale.numerator, scale.denominator
    index = torch.arange(sr_size(length, scale), device=device)
    offsets = [float(source_index(a, scale)[1]) for a in range(min(p, len(index)))]
    return (2 * index + 1) * q // (2 * p), index % p, offsets


def official_meta_upscale(
    features: torch.Tensor, scale: ScaleLike, predictor: WeightPredictor
) -> torch.Tensor:
    """The official Meta-SR method (same geometry): weights for every pixel of the
    ``ceil(s_h)h x ceil(s_w)w`` grid, features repeated ``ceil(s_h) ceil(s_w)`` times, unfold,
    multiply, mask."""
    scales = _check(features, scale, predictor)
    batch, _, height, width = features.shape
    big_h, big_w = math.ceil(scales[0]), math.ceil(scales[1])
    rows, row_mask, row_offsets = _grid_axis(height, scales[0], big_h)
    cols, col_mask, col_offsets = _grid_axis(width, scales[1], big_w)
    inputs = predictor.inputs(scales, row_offsets, col_offsets, features)
    weights = predictor(inputs)  # (big h * big w, O, C k k)
    unfolded = F.unfold(features, predictor.kernel, padding=predictor.kernel // 2)
    unfolded = unfolded.view(batch, -1, height, width)
    repeated = unfolded.repeat_interleave(big_h, dim=2).repeat_interleave(big_w, dim=3)
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


def _check(features: torch.Tensor, scale: ScaleLike, predictor: WeightPredictor) -> Scales:
    """The parsed scales, once the features are checked against the predictor."""
    if features.ndim != 4:
        raise InputError(f"expected (B, C, h, w) features, got shape {tuple(features.shape)}")
    if features.shape[1] != predictor.in_channels:
        raise InputError(
            f"expected {predictor.in_channels} feature channels, got {features.shape[1]}"
        )
    return parse_scales(scale)


#: Relative nudge of the scale factors given to ``F.interpolate``: its output side is
#: ``floor(n * factor)`` in floating point, and ``n * float(23/10)`` may fall just below 23.
FACTOR_NUDGE = 1e-9


def bicubic_upscale(lr: torch.Tensor, scale: ScaleLike) -> torch.Tensor:
    """Bicubic interpolation to ``floor(s_h h) x floor(s_w w)`` with pixel-centre alignment:
    output pixel ``i`` is read at input coordinate ``(i + 1/2) / s - 1/2`` (to within
    :data:`FACTOR_NUDGE`), also when ``s n`` is not a whole number (interpolating to a size would
    use ``n / floor(s n)`` instead of ``1 / s``: 0.1 of an input pixel off at the far end of 26
    slices at x5.56)."""
    rows, cols = parse_scales(scale)
    factors = (float(rows) * (1 + FACTOR_NUDGE), float(cols) * (1 + FACTOR_NUDGE))
    return F.interpolate(
        lr, scale_factor=factors, mode="bicubic", align_corners=False, recompute_scale_factor=False
    )


class MetaUpscale(nn.Module):
    """Meta-Upscale head: ``forward(features, scale)``; ``scale`` as
    :func:`~bioscope.geometry.parse_scales` takes it (``2.7``, ``"2.7"``, ``Fraction(27, 10)``,
    or a pair of them for an anisotropic head)."""

    def __init__(
        self,
        in_channels: int = 64,
        out_channels: int = 1,
        kernel: int = 3,
        hidden: int = 256,
        quiet_init: bool = False,
        anisotropic: bool = False,
    ):
        super().__init__()
        self.predictor = WeightPredictor(
            in_channels, out_channels, kernel, hidden, quiet_init, anisotropic
        )

    def forward(self, features: torch.Tensor, scale: ScaleLike) -> torch.Tensor:
        return meta_upscale(features, scale, self.predictor)
