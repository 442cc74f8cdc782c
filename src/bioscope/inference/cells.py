"""The cell predictor: one front door from a checkpoint to labels and counts.

A :class:`CellPredictor` holds a network, its checkpoint's
:class:`~bioscope.inference.spec.CellSpec` (threshold, mode, training diameter, normalisation,
counting method), the device and one
:class:`~bioscope.inference.window.SlidingWindow`. The command line, evaluation, the demo, the
benchmarks and the Python API all segment through :meth:`CellPredictor.segment_batch`, so a count
never depends on which command asked for it.

Per image: grey + the spec's percentile normalisation; with ``diameter`` given (nuclei of that many
pixels across) the image is rescaled so its nuclei appear at the training diameter; the network
runs at full resolution (``native``; reflect-padded to a multiple of 16, tiles with Gaussian
blending for large images, images of one shape batched) or on the paper's training square
(``resize``); objects are counted where the network saw them and the labels are brought back to
the image's grid (nearest neighbour), the probability maps bilinearly.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bioscope.classic import estimate_diameter, segment_classic
from bioscope.counting import count_maps, drop_faint
from bioscope.data.cells import pad_to_multiple
from bioscope.data.intensity import Normalized
from bioscope.errors import InputError
from bioscope.inference.predictor import Predictor
from bioscope.inference.spec import CellSpec, Mode, read_spec, with_overrides
from bioscope.inference.window import SlidingWindow
from bioscope.io.images import check_real, to_grey
from bioscope.models.checkpoint import load_model, shipped_weights

#: A nucleus diameter in pixels, ``"auto"`` (estimated per image) or ``None`` (as trained).
Diameter = float | str | None
#: Inputs of the U-Nets are padded to a multiple of this (four 2x poolings).
MULTIPLE = 16
#: A requested rescale closer to 1 than this is not done (it would only blur).
RESCALE_TOLERANCE = 0.05
#: The most an image is enlarged or shrunk to show its nuclei at the model's diameter.
MAX_RESCALE = 8.0
#: The shortest image side segmented: the smallest nuclei trained on (the randomised
#: simulator's) are 8 px across; a thinner image is most often a channel axis read as a side.
MIN_SIDE = 8


@dataclass(frozen=True)
class Segmentation:
    """Objects found in one image, on the image's own pixel grid.

    Attributes:
        labels: ``(H, W)`` int32 instance labels, 0 background.
        count: number of objects.
        centres: ``(count, 2)`` object centres ``(row, col)`` in image pixels.
        maps: ``(C, H, W)`` float32 network outputs after the sigmoid: channel 0 the cell
            probability, channel 1 (2-output models) the per-cell distance.
        threshold: the mask threshold used.
        method: the counting method used.
        empty: nothing in the image stands above its noise (the count is then meaningless).
    """

    labels: np.ndarray
    count: int
    centres: np.ndarray
    maps: np.ndarray
    threshold: float
    method: str
    empty: bool

    @property
    def mask(self) -> np.ndarray:
        """Binary cell mask: probability above the threshold."""
        return self.maps[0] > self.threshold


class CellPredictor(Predictor):
    """Segments and counts cells with one network, as its checkpoint says to."""

    spec: CellSpec
    WINDOW = SlidingWindow(tile=512, overlap=64, batch_size=4, max_side=1024)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str] | None = None,
        device: str | torch.device | None = "auto",
        *,
        threshold: float | None = None,
        method: str | None = None,
        mode: Mode | None = None,
        batch_size: int = 4,
    ) -> CellPredictor:
        """Load a ``bioscope cells train``/``export`` checkpoint (default: the shipped model);
        ``threshold``, ``method`` and ``mode`` override the checkpoint's spec.

        Raises:
            InputError: the checkpoint is missing, corrupt or not a cell model, or an override is
                invalid.
        """
        path = path if path is not None else shipped_weights("cells")
        net, meta = load_model(path, task="segmentation")
        spec = read_spec(meta, "segmentation")
        assert isinstance(spec, CellSpec)
        if mode is not None:
            spec = dataclasses.replace(spec, mode=mode)
        window = dataclasses.replace(cls.WINDOW, batch_size=batch_size)
        return cls(net, spec, str(path), device, window).with_overrides(threshold, method)

    def with_overrides(
        self, threshold: float | None = None, method: str | None = None
    ) -> CellPredictor:
        """This predictor (the same network, device and window) with the mask ``threshold``
        and counting ``method`` replaced where given.

        Raises:
            InputError: an invalid threshold or method.
        """
        spec = with_overrides(self.spec, threshold=threshold, method=method)
        if spec is self.spec:
            return self
        assert isinstance(spec, CellSpec)
        return CellPredictor(self.net, spec, self.source, self.device, self.window)

    def segment(self, image: np.ndarray, diameter: Diameter = None) -> Segmentation:
        """Segment and count one ``(H, W)`` or ``(H, W, 3)`` image of any dtype."""
        return self.segment_batch([image], diameter)[0]

    @torch.inference_mode()
    def segment_batch(
        self, images: Sequence[np.ndarray], diameter: Diameter = None
    ) -> list[Segmentation]:
        """Segment and count ``images``; those of one shape go through the network together.

        Args:
            images: 2-D grey or ``(H, W, 3)`` RGB images, any dtype.
            diameter: typical nucleus diameter in pixels, or ``"auto"`` to estimate it per image
                (:func:`~bioscope.classic.estimate_diameter`); the images are rescaled so their
                nuclei appear at the model's diameter. ``None``: as the spec's
                ``estimate_diameter`` says (estimate per image, or take images as they are).
        """
        if self.spec.method == "classic":
            return [self.classic(image, diameter) for image in images]
        prepared = [self._prepare(image, diameter) for image in images]
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, unit in enumerate(prepared):
            groups[unit.image.shape].append(index)
        maps: dict[int, np.ndarray] = {}
        for indices in groups.values():
            batch = torch.from_numpy(np.stack([prepared[i].image for i in indices]))[:, None]
            for index, probs in zip(indices, self._probabilities(batch), strict=True):
                maps[index] = drop_faint(
                    probs, prepared[index].image, self.spec.threshold, prepared[index].faint
                )
        return [
            self._count(maps[i], images[i].shape[:2], unit.empty) for i, unit in enumerate(prepared)
        ]

    def classic(self, image: np.ndarray, diameter: Diameter = None) -> Segmentation:
        """The classic pipeline (:mod:`bioscope.classic`, no network) on the normalised image,
        for nuclei of ``diameter`` pixels (default, and ``"auto"``: estimated from the image)."""
        grey, empty, _ = self._normalise(image)
        size = None if diameter in (None, "auto") else _positive(diameter)
        size = size or estimate_diameter(grey) or self.spec.diameter
        if size is None:
            raise InputError("method 'classic' found no objects to size; give --diameter PX")
        result = segment_classic(grey, size)
        return Segmentation(
            labels=result.labels,
            count=result.count,
            centres=result.centres,
            maps=(result.labels > 0).astype(np.float32)[None],
            threshold=self.spec.threshold,
            method="classic",
            empty=empty,
        )

    def check_diameter(self, diameter: Diameter) -> None:
        """Raise :class:`InputError` for a diameter this model cannot match (once, before any
        image is read; ``"auto"`` and ``None`` always pass, as does any for ``classic``)."""
        if diameter not in (None, "auto") and self.spec.method != "classic":
            self._factor(diameter, np.zeros((1, 1), np.float32))

    def _factor(self, diameter: Diameter, image: np.ndarray) -> float:
        """How much to enlarge ``image`` (normalised) so nuclei of ``diameter`` px (or of the
        estimated size) appear at the model's size."""
        if diameter is None and self.spec.estimate_diameter:
            diameter = "auto"
        if diameter is None:
            return 1.0
        if self.spec.diameter is None:
            raise InputError(
                f"{self.source}: the model records no training nucleus diameter, so a diameter "
                "cannot be matched; leave it out"
            )
        if diameter == "auto":
            size = estimate_diameter(image)
            factor = self.spec.diameter / size if size else 1.0
            factor = min(max(factor, 1 / MAX_RESCALE), MAX_RESCALE)  # an estimate from noise
        else:
            factor = self.spec.diameter / _positive(diameter)
            if not 1 / MAX_RESCALE <= factor <= MAX_RESCALE:
                low, high = self.spec.diameter / MAX_RESCALE, self.spec.diameter * MAX_RESCALE
                raise InputError(
                    f"a diameter of {diameter} px would rescale the image by {factor:.3g} to show "
                    f"its nuclei at the model's {self.spec.diameter:g} px; give {low:g} to "
                    f"{high:g} px"
                )
        return 1.0 if abs(factor - 1) < RESCALE_TOLERANCE else factor

    def _normalise(self, raw: np.ndarray) -> Normalized:
        """The grey image normalised as the model was trained, whether it looks empty, and its
        faintest distinguishable rise."""
        if raw.ndim not in (2, 3):
            raise InputError(f"expected an (H, W) or (H, W, 3) image, got shape {raw.shape}")
        if min(raw.shape[:2]) < MIN_SIDE:
            sliver = max(raw.shape[:2]) >= MIN_SIDE
            raise InputError(
                f"the image is {raw.shape[0]} x {raw.shape[1]} px: a side under {MIN_SIDE} px "
                "cannot hold a nucleus"
                + (
                    " (is a channel axis read as a side? A TIFF written from an (H, W, C) array "
                    "without photometric= holds H planes of W x C)"
                    if sliver
                    else ""
                )
            )
        check_real(raw)
        integer = np.issubdtype(raw.dtype, np.integer)
        unit = self.spec.normalization.normalize(to_grey(raw), integer)
        if unit.image.max() == unit.image.min():
            raise InputError(
                f"the image is constant (every pixel {raw.flat[0]}): nothing to segment"
            )
        return unit

    def _prepare(self, raw: np.ndarray, diameter: Diameter = None) -> Normalized:
        """:meth:`_normalise`, with the image at the model's scale."""
        unit = self._normalise(raw)
        image = unit.image
        factor = self._factor(diameter, image)
        if factor != 1.0:
            size = [max(round(n * factor), 1) for n in image.shape]
            # plain bilinear, as Cellpose rescales: an antialiasing filter would smooth the
            # camera noise away, and the simulator-trained model reads smooth background as cells
            image = _resize(torch.from_numpy(image)[None, None], size, antialias=False)[
                0, 0
            ].numpy()
        return unit._replace(image=image)

    def _probabilities(self, batch: torch.Tensor) -> list[np.ndarray]:
        """Sigmoid of the network's output for a batch ``(B, 1, H, W)`` at the model's scale."""
        if self.spec.mode == "resize":
            assert self.spec.size is not None
            side = (self.spec.size, self.spec.size)
            small = _resize(batch, side, antialias=True)  # as the paper's training data was made
            logits = _resize(self.window(self._forward, small), batch.shape[-2:], antialias=False)
        else:
            logits = self.window(self._forward, batch)
        return list(torch.sigmoid(logits).cpu().numpy())

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        return self.net(pad_to_multiple(x, MULTIPLE))[..., :height, :width]

    def _count(self, maps: np.ndarray, shape: tuple[int, int], empty: bool) -> Segmentation:
        """Count at the model's scale; labels, centres and maps back on the image's grid."""
        result = count_maps(maps, self.spec.method, self.spec.threshold)
        labels, centres = result.labels, result.centres
        if maps.shape[-2:] != shape:
            ratio = np.array(shape) / np.array(maps.shape[-2:])
            labels = _nearest(labels, shape)
            centres = (centres + 0.5) * ratio - 0.5
            maps = _resize(torch.from_numpy(maps)[None], shape, antialias=True)[0].numpy()
        return Segmentation(
            labels=labels.astype(np.int32),
            count=result.count,
            centres=centres,
            maps=maps.astype(np.float32),
            threshold=self.spec.threshold,
            method=self.spec.method,
            empty=empty,
        )


def _positive(diameter: float | str) -> float:
    """A diameter in pixels from a number or its text."""
    try:
        value = float(diameter)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"diameter must be a positive number of pixels or 'auto', got {diameter}")
    return value


def _resize(x: torch.Tensor, size: Sequence[int], antialias: bool) -> torch.Tensor:
    """Bilinear resize of ``(B, C, H, W)`` (pixel centres aligned)."""
    size = (int(size[0]), int(size[1]))
    return F.interpolate(x, size, mode="bilinear", antialias=antialias, align_corners=False)


def _nearest(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``labels`` on a ``shape`` grid by nearest neighbour (pixel centres aligned)."""
    rows = np.minimum(
        ((np.arange(shape[0]) + 0.5) * labels.shape[0] / shape[0]).astype(int),
        labels.shape[0] - 1,
    )
    cols = np.minimum(
        ((np.arange(shape[1]) + 0.5) * labels.shape[1] / shape[1]).astype(int),
        labels.shape[1] - 1,
    )
    return labels[np.ix_(rows, cols)]
