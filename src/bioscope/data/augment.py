"""Training augmentations of cell items: random scale crops and random image quality.

An item is the dict a :class:`~bioscope.data.cells.CellDataset` yields: ``image`` and ``mask`` (and
``distance``) float ``(1, H, W)``, ``labels`` int ``(H, W)``. Randomness comes from torch's global
generator, so a seeded run repeats. The image is already normalised (about 0..1 between its
1st and 99.8th percentiles) when these run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _uniform(low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(()))


def _log_uniform(low: float, high: float) -> float:
    return math.exp(_uniform(math.log(low), math.log(high)))


def scaled_crop(
    item: dict[str, torch.Tensor], crop: int, scale: tuple[float, float]
) -> dict[str, torch.Tensor]:
    """A random ``crop x crop`` window of the item seen at a random scale in ``scale``
    (log-uniform): a window of ``crop / s`` pixels resized to ``crop``. Images smaller than the
    window are padded (the image by reflection, the targets with zeros). The normalised distance
    target is scale-free, so it is resized like the image; labels and mask by nearest neighbour."""
    factor = _log_uniform(*scale)
    side = max(2, round(crop / factor))
    item = _pad_to(item, side)
    height, width = item["image"].shape[-2:]
    top = int(torch.randint(0, height - side + 1, ()))
    left = int(torch.randint(0, width - side + 1, ()))
    window = {k: v[..., top : top + side, left : left + side] for k, v in item.items()}
    if side == crop:
        return {k: v.contiguous() for k, v in window.items()}
    out = {}
    for key, value in window.items():
        batch = value.reshape(1, -1, side, side).float()
        if key in ("image", "distance"):
            resized = F.interpolate(batch, (crop, crop), mode="bilinear", align_corners=False)
        else:
            resized = F.interpolate(batch, (crop, crop), mode="nearest-exact")
        out[key] = resized.reshape(*value.shape[:-2], crop, crop).to(value.dtype).contiguous()
    return out


def _pad_to(item: dict[str, torch.Tensor], side: int) -> dict[str, torch.Tensor]:
    height, width = item["image"].shape[-2:]
    pad = (0, max(side - width, 0), 0, max(side - height, 0))
    if not any(pad):
        return item
    out = {}
    for key, value in item.items():
        batch = value.reshape(1, -1, height, width)
        reflect = key == "image" and min(height, width) > max(pad)
        mode = "reflect" if reflect else "replicate" if key == "image" else "constant"
        padded = F.pad(batch.float(), pad, mode=mode).to(value.dtype)
        out[key] = padded.reshape(*value.shape[:-2], *padded.shape[-2:])
    return out


@dataclass(frozen=True)
class QualityAugment:
    """Random image quality, each step with probability ``p``: gamma, contrast and offset,
    Gaussian blur, Gaussian noise (all on the normalised image)."""

    p: float = 0.5
    gamma: tuple[float, float] = (0.6, 1.6)
    contrast: tuple[float, float] = (0.6, 1.4)
    offset: tuple[float, float] = (-0.1, 0.1)
    blur: tuple[float, float] = (0.3, 1.5)
    noise: tuple[float, float] = (0.0, 0.08)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """A new ``(1, H, W)`` image of another quality."""
        if self._happens():
            image = image.clamp(min=0) ** _log_uniform(*self.gamma)
        if self._happens():
            image = image * _uniform(*self.contrast) + _uniform(*self.offset)
        if self._happens():
            image = gaussian_blur(image, _uniform(*self.blur))
        if self._happens():
            image = image + _uniform(*self.noise) * torch.randn(image.shape)
        return image.contiguous()

    def _happens(self) -> bool:
        return float(torch.rand(())) < self.p


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a ``(C, H, W)`` tensor, edges replicated."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    x = image[:, None]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
    return x[:, 0]
