"""One sliding-window inferer for both tasks: overlapping tiles, Gaussian blending, batches of
tiles on any device.

A network ``fn`` maps an input window of ``h x w`` pixels to an output of
``floor(sy h) x floor(sx w)`` (``sy = sx = 1`` for segmentation; the SR scale for upscaling).
Windows start on multiples of the scales' denominators, so for ``s = p/q`` a window at input
origin ``o`` lands exactly on output pixel ``o p / q`` (the pixel-centre geometry of
:mod:`bioscope.geometry` repeats every ``q`` input pixels): no seam, no interpolation. Overlaps
are blended with a separable Gaussian weight of sigma = side / 8, as MONAI's
``sliding_window_inference`` does. Windows of one shape go through ``fn`` in batches of
``batch_size`` on ``device``; the blended result stays on the input's device, so an image larger
than the accelerator's memory still fits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import torch

from bioscope.errors import InputError
from bioscope.geometry import Scales, sr_size

Net = Callable[[torch.Tensor], torch.Tensor]
UNIT: Scales = (Fraction(1), Fraction(1))
CPU = torch.device("cpu")


@dataclass(frozen=True)
class SlidingWindow:
    """Tiled inference settings.

    Attributes:
        tile: window side in input pixels.
        overlap: overlap of neighbouring windows in input pixels.
        batch_size: images or windows per call of the network, however many come in.
        max_side: inputs up to this side go through in one call (default: ``tile``).
        device: where the network runs; inputs and outputs stay where they are.
    """

    tile: int = 512
    overlap: int = 64
    batch_size: int = 4
    max_side: int | None = None
    device: torch.device = CPU

    def __post_init__(self) -> None:
        if self.tile < 1 or not 0 <= self.overlap < self.tile:
            raise InputError(
                f"need tile >= 1 and 0 <= overlap < tile, got tile {self.tile}, "
                f"overlap {self.overlap}"
            )
        if self.batch_size < 1:
            raise InputError(f"batch size must be >= 1, got {self.batch_size}")

    def __call__(self, fn: Net, x: torch.Tensor, scales: Scales = UNIT) -> torch.Tensor:
        """Run ``fn`` over ``x`` ``(B, C, H, W)``; return ``(B, C', floor(sy H), floor(sx W))``."""
        height, width = x.shape[-2:]
        if max(height, width) <= (self.max_side or self.tile):
            return self._run(fn, [x]).pop()
        windows = [
            (top, h, left, w)
            for top, h in spans(height, self.tile, self.overlap, scales[0].denominator)
            for left, w in spans(width, self.tile, self.overlap, scales[1].denominator)
        ]
        by_shape: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for top, h, left, w in windows:
            by_shape[(h, w)].append((top, left))
        out_shape = (sr_size(height, scales[0]), sr_size(width, scales[1]))
        out = norm = None
        for (h, w), group in by_shape.items():
            pieces = [x[..., t : t + h, c : c + w] for t, c in group]
            for (top, left), result in zip(group, self._run(fn, pieces), strict=True):
                if out is None or norm is None:
                    out = x.new_zeros(*result.shape[:2], *out_shape)
                    norm = x.new_zeros(out_shape)
                weight = gaussian_window(*result.shape[-2:]).to(out)
                y, z = _place(top, scales[0]), _place(left, scales[1])
                region = (slice(y, y + result.shape[-2]), slice(z, z + result.shape[-1]))
                out[..., region[0], region[1]] += result * weight
                norm[region] += weight
        assert out is not None and norm is not None
        return out / norm

    def _run(self, fn: Net, pieces: list[torch.Tensor]) -> list[torch.Tensor]:
        """``fn`` on each piece (all of one shape), ``batch_size`` images at a time whatever
        the pieces' own batch sizes."""
        stacked = torch.cat(pieces)
        outputs = [
            fn(chunk.to(self.device)).to(stacked.device) for chunk in stacked.split(self.batch_size)
        ]
        return list(torch.cat(outputs).split(pieces[0].shape[0]))


def spans(length: int, tile: int, overlap: int, grid: int = 1) -> list[tuple[int, int]]:
    """Windows ``(start, length)`` along one axis: starts on multiples of ``grid``, about
    ``tile - overlap`` apart, covering ``length``. Every window is ``tile`` long except the last,
    which runs to the end: exactly ``tile`` when ``grid`` allows, else up to ``grid - 1`` longer.

    Example:
        >>> spans(10, 4, 1)
        [(0, 4), (3, 4), (6, 4)]
        >>> spans(11, 4, 0, grid=3)
        [(0, 4), (3, 4), (6, 5)]
        >>> spans(3, 4, 1)
        [(0, 3)]
    """
    if length <= tile:
        return [(0, length)]
    stride = max((tile - overlap) // grid * grid, grid)
    last = (length - tile) // grid * grid
    starts = [*range(0, last, stride), last]
    return [(start, tile) for start in starts[:-1]] + [(last, length - last)]


def _place(origin: int, scale: Fraction) -> int:
    return origin * scale.numerator // scale.denominator


def gaussian_window(height: int, width: int) -> torch.Tensor:
    """Blending weight of a window: separable Gaussian, sigma = side / 8 (MONAI's default). It is
    never zero (>= 1e-7 at the corners), and it is not clamped: a floor on the product would give
    every window the same say along the image's borders, its contaminated edges included."""

    def profile(n: int) -> torch.Tensor:
        return torch.exp(-0.5 * ((torch.arange(n) - (n - 1) / 2) / (n / 8)) ** 2)

    return profile(height)[:, None] * profile(width)[None, :]
