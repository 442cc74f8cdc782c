"""Upscaling images and volumes with a trained SR model.

Intensities are mapped to the model's [0, 1] range with the training normalisation (robust
percentiles, here without clipping) and mapped back afterwards, so outputs keep the input's units.
A volume is upscaled in-plane, slice by slice along one axis; its affine is rescaled with the same
pixel-centre convention as the degradation (HR voxel ``i`` sits at LR coordinate
``(i + 1/2) / s - 1/2``), so the output overlays the input in world space.

Large slices go through in tiles whose LR origins are multiples of ``q`` (scale ``p/q``), so each
tile's output lands on exact HR pixels (``origin * p / q``); overlaps are blended with a Gaussian
weight.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import torch
from torch import nn

from bioscope.errors import InputError
from bioscope.geometry import sr_size
from bioscope.inference import gaussian_window
from bioscope.io.volumes import Volume, resampled_affine


def intensity_window(data: np.ndarray, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """``(lo, hi)`` of the training normalisation: percentiles of the non-zero voxels."""
    foreground = data[data > 0]
    if foreground.size == 0:
        foreground = data.ravel()
    lo, hi = np.percentile(foreground, [low, high])
    lo = min(float(lo), 0.0)
    return lo, max(float(hi), lo + 1e-12)


@torch.inference_mode()
def upscale_plane(
    model: nn.Module, plane: np.ndarray, scale: Fraction, tile: int = 256, overlap: int = 16
) -> np.ndarray:
    """Upscale one 2-D array already in [0, 1] units to ``floor(s h) x floor(s w)``."""
    model.eval()
    lr = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None, None]
    if max(plane.shape) <= tile:
        return model(lr, scale)[0, 0].numpy()
    return tiled_upscale(model, lr, scale, tile, overlap)[0, 0].numpy()


def tiled_upscale(
    model: nn.Module, lr: torch.Tensor, scale: Fraction, tile: int, overlap: int
) -> torch.Tensor:
    """Upscale ``lr`` ``(1, 1, h, w)`` by overlapping tiles on the exact rational grid."""
    p, q = scale.numerator, scale.denominator
    if tile < 2 * q or overlap >= tile:
        raise InputError(f"tile {tile} must exceed both 2q = {2 * q} and the overlap {overlap}")
    height, width = lr.shape[-2:]
    out = torch.zeros(1, 1, sr_size(height, scale), sr_size(width, scale))
    norm = torch.zeros(out.shape[-2:])
    for top in _origins(height, tile, overlap, q):
        for left in _origins(width, tile, overlap, q):
            piece = lr[..., top : top + tile, left : left + tile]
            sr = model(piece, scale)
            weight = gaussian_window(sr.shape[-2], sr.shape[-1])
            y, x = top * p // q, left * p // q
            out[..., y : y + sr.shape[-2], x : x + sr.shape[-1]] += sr * weight
            norm[y : y + sr.shape[-2], x : x + sr.shape[-1]] += weight
    return out / norm


def _origins(length: int, tile: int, overlap: int, q: int) -> list[int]:
    """Tile starts along one axis: multiples of ``q``, ``tile - overlap`` apart, covering all."""
    if length <= tile:
        return [0]
    stride = max((tile - overlap) // q * q, q)
    starts = list(range(0, length - tile + 1, stride))
    last = (length - tile) // q * q
    if starts[-1] != last:
        starts.append(last)
    if last + tile < length:  # the final tile cannot start on the grid and still reach the end
        starts.append(last + q)
    return starts


def upscale_volume(
    model: nn.Module, volume: Volume, scale: Fraction, axis: int = 2, tile: int = 256
) -> Volume:
    """Upscale a 3-D volume in-plane, slice by slice along ``axis``, with its affine rescaled;
    a 2-D image is upscaled as one plane."""
    lo, hi = intensity_window(volume.data)
    unit = (volume.data - lo) / (hi - lo)
    if not volume.is_volume:
        plane = upscale_plane(model, unit, scale, tile)
        return replace(volume, data=(plane * (hi - lo) + lo).astype(np.float32))
    moved = np.moveaxis(unit, axis, 0)
    planes = [upscale_plane(model, plane, scale, tile) for plane in moved]
    data = np.moveaxis(np.stack(planes), 0, axis) * (hi - lo) + lo
    sizes = [v / float(scale) if i != axis else v for i, v in enumerate(volume.voxel_sizes)]
    return replace(
        volume,
        data=data.astype(np.float32),
        affine=resampled_affine(volume.affine, 1 / float(scale), axis),
        voxel_sizes=tuple(sizes),
    )
