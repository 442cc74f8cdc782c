"""The SR predictor: one front door from a checkpoint to upscaled images and volumes.

An :class:`SRPredictor` holds a network (Meta-SRGAN, EDSR, SRGAN or parameter-free bicubic), its
checkpoint's :class:`~bioscope.inference.spec.SRSpec` (trained scale range, MRI normalisation), the
device and one :class:`~bioscope.inference.window.SlidingWindow`. ``sr upscale``, ``sr
evaluate``, the demo, the benchmarks and the Python API all upscale through it.

Intensities are mapped to the model's [0, 1] range with the training window
(:func:`~bioscope.data.intensity.mri_window`, not clipped on the way in) and mapped back, so
outputs keep the input's units. A volume is upscaled in-plane, slices along one axis in batches,
and its affine rescaled with the pixel-centre convention of the degradation (HR voxel ``i`` sits
at LR coordinate ``(i + 1/2) / s - 1/2``), so the output overlays the input in world space.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from bioscope.data.intensity import mri_window
from bioscope.errors import BioscopeWarning, InputError
from bioscope.geometry import Scales, parse_scale, sr_size
from bioscope.inference.predictor import Predictor
from bioscope.inference.spec import SRSpec, read_spec
from bioscope.inference.window import SlidingWindow
from bioscope.io.images import check_finite, check_real
from bioscope.io.volumes import Volume, check_axis, resampled
from bioscope.models import create_model
from bioscope.models.checkpoint import load_model, shipped_weights
from bioscope.models.registry import model_task

#: Where the shipped and bicubic models stop being sensible.
ANY_SCALE = (1.0, 16.0)
#: Shipped SR variants by the name ``--model``, ``--models`` and the API take.
VARIANTS = {"meta-srgan-gan": "superres-gan"}


class SRPredictor(Predictor):
    """Upscales images and volumes with one SR network, as its checkpoint says to."""

    spec: SRSpec
    WINDOW = SlidingWindow(tile=256, overlap=16, batch_size=8)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str] | None = None,
        device: str | torch.device | None = "auto",
        *,
        tile: int = 256,
        batch_size: int = 8,
    ) -> SRPredictor:
        """Load a ``bioscope sr train``/``export`` checkpoint (default: the shipped model; a
        name in :data:`VARIANTS`, e.g. ``meta-srgan-gan``: that shipped variant).

        Raises:
            InputError: the checkpoint is missing, corrupt or not an SR model.
        """
        if path is None:
            path = shipped_weights("superres")
        elif str(path) in VARIANTS and not Path(path).exists():
            path = shipped_weights(VARIANTS[str(path)])
        net, meta = load_model(path, task="superres")
        spec = read_spec(meta, "superres")
        assert isinstance(spec, SRSpec)
        window = SlidingWindow(tile=tile, overlap=min(16, tile // 4), batch_size=batch_size)
        return cls(net, spec, str(path), device, window)

    @classmethod
    def by_name(
        cls,
        name: str,
        path: str | os.PathLike[str] | None = None,
        device: str | torch.device | None = "auto",
    ) -> SRPredictor:
        """The ``name`` model: from checkpoint ``path``; without one, a parameter-free model
        (``bicubic``) as it is, or the shipped weights when they are a ``name``; never an
        untrained network.

        Raises:
            InputError: no weights for ``name``, or ``path`` holds another model.
        """
        if name in VARIANTS and path is None:
            return cls.from_checkpoint(name, device)
        if path is not None:
            predictor = cls.from_checkpoint(path, device)
            if predictor.name != name and name not in VARIANTS:
                raise InputError(f"{path}: holds a {predictor.name!r} model, not {name!r}")
            return predictor
        net = create_model(name) if model_task(name) == "superres" else None
        if net is not None and not list(net.parameters()):
            return cls(net, SRSpec(scales=ANY_SCALE), name, device)
        try:
            shipped = shipped_weights("superres")
        except InputError:
            shipped = None
        if shipped is not None:
            predictor = cls.from_checkpoint(shipped, device)
            if predictor.name == name:
                return predictor
        raise InputError(
            f"{name}: no checkpoint given, and bioscope ships no trained {name} weights; "
            f"pass --checkpoints {name}=PATH (a checkpoint from 'bioscope sr train')"
        )

    @property
    def name(self) -> str:
        """The network's registry name (``meta-srgan``, ``bicubic``, ...)."""
        return str(getattr(self.net, "bioscope_name", type(self.net).__name__))

    def supports(self, scale: Fraction) -> bool:
        """Whether the network upscales by ``scale`` at all (fixed-scale models carry
        ``.scale``)."""
        fixed = getattr(self.net, "scale", None)
        return fixed is None or Fraction(fixed) == scale

    @property
    def anisotropic(self) -> bool:
        """Whether the network takes unequal row and column scales (through-plane SR needs
        that)."""
        return bool(getattr(self.net, "anisotropic", False))

    def supports_scales(self, scales: Scales) -> bool:
        """Whether the network takes ``(s_h, s_w)``: equal scales, or an anisotropic network."""
        return scales[0] == scales[1] or self.anisotropic

    def check_scale(self, value: float | str | Fraction, strict: bool = False) -> Fraction:
        """``value`` as an exact scale (see :func:`~bioscope.geometry.parse_scale`), refused if
        the network cannot do it; outside the trained range a :class:`BioscopeWarning`, or with
        ``strict`` an error."""
        scale = parse_scale(value)
        if not self.supports(scale):
            raise InputError(
                f"{self.source}: a fixed x{self.net.scale} model cannot upscale by {float(scale):g}"
            )
        low, high = self.spec.scales
        if not low <= scale <= high:
            message = (
                f"scale {float(scale):g} is outside the range {low:g}..{high:g} "
                f"{self.source} was trained on"
            )
            if strict:
                raise InputError(message)
            warnings.warn(message, BioscopeWarning, stacklevel=2)
        return scale

    @torch.inference_mode()
    def upscale_unit(self, lr: torch.Tensor, scale: Fraction | Scales) -> torch.Tensor:
        """Upscale ``lr`` ``(B, 1, h, w)`` already in model units to
        ``(B, 1, floor(s_h h), floor(s_w w))`` (``scale``: one for both axes, or a pair for an
        anisotropic model); the result is on the CPU."""
        scales = scale if isinstance(scale, tuple) else (scale, scale)
        if scales[0] == scales[1]:
            scale = scales[0]  # as fixed-scale networks take it
        return self.window(lambda x: self.net(x, scale), lr, scales).cpu()

    def upscale(
        self,
        image: np.ndarray | Volume,
        scale: float | str | Fraction,
        *,
        axis: int = 2,
        clip: bool | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray | Volume:
        """Upscale a 2-D image, or a 3-D volume in-plane along ``axis``, keeping its units.

        Args:
            image: a 2-D or 3-D array, or a :class:`~bioscope.io.volumes.Volume` (whose affine
                and voxel sizes are rescaled with it).
            scale: e.g. ``2``, ``2.5``, ``"2.7"``, ``Fraction(27, 10)``.
            axis: the slice axis of a volume (2: axial slices of a canonical volume).
            clip: clip the result to the input's range (default: for integer inputs, where an
                overshoot below the input's minimum has no meaning).
            strict: refuse a scale outside the trained range instead of warning.
            progress: called with the number of slices finished, after each batch.

        Returns:
            The same kind as ``image``, float32.
        """
        scale = self.check_scale(scale, strict)
        volume = image if isinstance(image, Volume) else None
        data = np.asarray(volume.data if volume is not None else image)
        if data.ndim not in (2, 3) or min(data.shape) < 1:
            raise InputError(f"expected a 2-D image or a 3-D volume, got shape {data.shape}")
        check_real(data)
        check_finite(data)
        if data.ndim == 3:
            axis = check_axis(axis)
        stored = volume.dtype if volume is not None else data.dtype

        def in_plane(unit: np.ndarray) -> np.ndarray:
            planes = unit[None] if unit.ndim == 2 else np.moveaxis(unit, axis, 0)
            result = np.stack(list(self._planes(planes, scale, progress)))
            return result[0] if unit.ndim == 2 else np.moveaxis(result, 0, axis)

        out = self._in_model_units(data, stored, clip, in_plane)
        if volume is None:
            return out
        if not volume.is_volume:
            return replace(volume, data=out)
        return resampled(volume, out, [1.0 if i == axis else 1 / float(scale) for i in range(3)])

    def upscale_through_plane(
        self,
        volume: Volume,
        scale: float | str | Fraction,
        *,
        axis: int,
        clip: bool | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Volume:
        """Enlarge a volume along its slice ``axis`` only (thick slices to thin ones).

        Every plane that contains the slice axis goes through the anisotropic network with scales
        ``(s, 1)``, in both families of such planes, and the two results are averaged (as SMORE
        fuses its orthogonal passes). The affine places the new slices on the old ones: new slice
        ``j`` sits at old slice coordinate ``(j + 1/2) / s - 1/2``.

        Raises:
            InputError: a model without an anisotropic head, or not a finite 3-D volume.
        """
        if not self.anisotropic:
            raise InputError(
                f"{self.source}: this model enlarges both axes of a plane by one scale; "
                "through-plane SR needs an anisotropic Meta-SRGAN (the shipped model is one)"
            )
        scale = self.check_scale(scale, strict)
        data = np.asarray(volume.data)
        check_real(data)
        if data.ndim != 3:
            raise InputError(f"expected a 3-D volume, got shape {data.shape}")
        check_finite(data, "the volume")
        axis = check_axis(axis)

        def across(unit: np.ndarray) -> np.ndarray:
            unit = np.moveaxis(unit, axis, -1)  # (A, B, Z)
            fused = np.zeros((*unit.shape[:2], sr_size(unit.shape[2], scale)), np.float32)
            for family in (0, 1):
                planes = np.moveaxis(unit, family, 0).swapaxes(1, 2)  # (n, Z, other): slices rows
                up = np.stack(list(self._planes(planes, (scale, Fraction(1)), progress)))
                fused += np.moveaxis(up.swapaxes(1, 2), 0, family) / 2
            return np.moveaxis(fused, -1, axis)

        out = self._in_model_units(data, volume.dtype, clip, across)
        return resampled(volume, out, [1 / float(scale) if i == axis else 1.0 for i in range(3)])

    def _in_model_units(
        self,
        data: np.ndarray,
        stored: str | np.dtype,
        clip: bool | None,
        run: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """``run`` on ``data`` mapped to [0, 1] by the training window, and its result mapped
        back to the input's units (clipped to the input's range with ``clip``, by default for
        an integer ``stored`` type), float32."""
        lo, hi = mri_window(data, *self.spec.normalization)
        out = run((data.astype(np.float32) - lo) / (hi - lo)) * (hi - lo) + lo
        if (np.dtype(stored).kind in "iu") if clip is None else clip:
            out = np.clip(out, data.min(), data.max())
        return out.astype(np.float32)

    def _planes(
        self,
        planes: np.ndarray,
        scale: Fraction | Scales,
        progress: Callable[[int], None] | None,
    ) -> Iterator[np.ndarray]:
        """Upscaled planes, ``batch_size`` at a time (so progress is reported per batch)."""
        step = self.window.batch_size
        for start in range(0, len(planes), step):
            chunk = torch.from_numpy(np.ascontiguousarray(planes[start : start + step]))
            yield from self.upscale_unit(chunk[:, None], scale)[:, 0].numpy()
            if progress is not None:
                progress(len(chunk))
