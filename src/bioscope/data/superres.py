"""Super-resolution data: where slices come from, HR patches, and LR made per minibatch.

Sources (each gives 2-D float32 slices in [0, 1]):

* ``builtin``: the ICBM152 2009a T1 template that the nilearn wheel carries (197 x 233 x 189,
  1 mm), split into train/val/test by bands of axial slice index with gaps
  (:class:`~bioscope.data.mri.BandSplit`). It is an average of many brains, smoother than a
  single scan: never report results on it alone.
* a BraTS folder (``<case>/<case>_<modality>.nii.gz``) or any folder of NIfTI volumes, split by
  volume (never by slice);
* a DIV2K-style folder of PNGs (RGB as BT.601 luminance), for natural-image pretraining;
* ``photos``: the real photographs bundled in the scikit-image wheel (:data:`PHOTOS`), the
  natural images that ship offline, for pretraining without a download.

Slices are read once and kept as arrays, so an epoch reads no file twice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from bioscope.data.degradations import (
    SLICE_PROFILES,
    Degradation,
    DegradationSampler,
    Kind,
    lr_matrix,
)
from bioscope.data.degrade import ScaleSampler, crop_to_scale, lr_size
from bioscope.data.mri import (
    Axis,
    BandSplit,
    informative_crop,
    informative_slices,
    normalize_volume,
    random_patches,
    take_slice,
)
from bioscope.data.split import split_keys
from bioscope.errors import InputError
from bioscope.io import read_image, read_volume, to_grey
from bioscope.io.folders import check_folder
from bioscope.io.volumes import NIFTI_SUFFIXES, Volume

TEMPLATE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"

#: Real photographs (and micrographs) bundled in scikit-image, by ``skimage.data`` loader name;
#: the synthetic ones (chessboard, logo, phantom, ...) are left out. The last two validate.
PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
    "coffee",
    "microaneurysms",
)


def builtin_volume() -> Volume:
    """The ICBM152 2009a T1 template shipped inside the nilearn wheel (read from disk, offline)."""
    import importlib.resources

    path = importlib.resources.files("nilearn.datasets") / "data" / TEMPLATE
    if not path.is_file():
        raise InputError(
            f"the built-in MRI template is missing from nilearn ({path}); reinstall nilearn"
        )
    return read_volume(Path(str(path)))


def builtin_slices(
    axis: Axis = "axial", bands: BandSplit | None = None
) -> dict[str, list[np.ndarray]]:
    """Normalised informative slices of the template, split by bands of slice index."""
    volume = builtin_volume()
    volume = _normalised(volume)
    indices = informative_slices(volume, axis)
    split = (bands or BandSplit()).split(indices)
    return {side: [take_slice(volume, axis, i) for i in idx] for side, idx in split.items()}


def volume_paths(root: str | os.PathLike[str], modality: str = "t1ce") -> list[Path]:
    """NIfTI volumes under ``root``: the BraTS layout ``<case>/<case>_<modality>.nii.gz`` when
    present, else every ``.nii``/``.nii.gz`` file."""
    root = Path(root)
    check_folder(root, "a folder of NIfTI volumes")
    brats = sorted(root.glob(f"*/*_{modality}.nii*"))
    paths = brats or sorted(p for p in root.rglob("*") if p.name.lower().endswith(NIFTI_SUFFIXES))
    if not paths:
        raise InputError(f"{root}: no NIfTI volumes (looked for */*_{modality}.nii.gz and *.nii*)")
    return paths


def split_volumes(
    paths: Sequence[Path], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, list[Path]]:
    """Split volumes (cases) into train/val/test; a case's slices never straddle two sides."""
    side = split_keys(list(paths), fractions, seed)
    out: dict[str, list[Path]] = {"train": [], "val": [], "test": []}
    for path in paths:
        out[side[path]].append(path)
    return out


def volume_slices(paths: Sequence[Path], axis: Axis = "axial") -> list[np.ndarray]:
    """Normalised informative slices of every volume."""
    slices = []
    for path in paths:
        volume = _normalised(read_volume(path))
        slices += [take_slice(volume, axis, i) for i in informative_slices(volume, axis)]
    return slices


def image_folder_slices(root: str | os.PathLike[str]) -> list[np.ndarray]:
    """Every PNG of a DIV2K-style folder as a luminance image in [0, 1]."""
    root = Path(root)
    paths = (
        sorted(p for p in root.rglob("*") if p.suffix.lower() == ".png") if root.is_dir() else []
    )
    if not paths:
        raise InputError(f"{root}: no PNG images (expected a DIV2K-style folder of PNGs)")
    out = []
    for path in paths:
        image = read_image(path)
        scale = float(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else 1.0
        out.append(to_grey(image) / scale)
    return out


def photo_slices() -> dict[str, list[np.ndarray]]:
    """:data:`PHOTOS` as luminance images in [0, 1]: the last two validate, none test."""
    import skimage.data

    images = [to_grey(getattr(skimage.data, name)()) / np.float32(255) for name in PHOTOS]
    return {"train": images[:-2], "val": images[-2:], "test": []}


def _normalised(volume: Volume) -> Volume:
    return replace(volume, data=normalize_volume(volume.data))


@dataclass(frozen=True)
class PatchConfig:
    """The paper's patching: the informative crop of each slice (``crop: null``: the whole
    image, for photographs), then N random HR patches."""

    crop: int | None = 160
    patch: int = 96
    per_slice: int = 16
    min_signal: float = 0.25
    seed: int = 0


class HRPatches(Dataset):
    """HR patches ``(1, P, P)`` float32, drawn once (deterministically per seed) from slices."""

    def __init__(self, slices: Sequence[np.ndarray], config: PatchConfig = PatchConfig()):
        rng = np.random.default_rng(config.seed)
        patches: list[np.ndarray] = []
        for image in slices:
            crop = image if config.crop is None else informative_crop(image, config.crop)
            if min(crop.shape) < config.patch:
                continue
            patches += random_patches(crop, config.per_slice, config.patch, rng, config.min_signal)
        if not patches:
            raise InputError(f"no {config.patch} x {config.patch} patches in {len(slices)} slices")
        self.patches = torch.from_numpy(np.stack(patches).astype(np.float32))[:, None]

    def __len__(self) -> int:
        return len(self.patches)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.patches[index]


class ScaleBatch:
    """``collate_fn`` that gives a whole minibatch one scale and one degradation: HR patches are
    cropped to exact multiples for the scale and degraded. Returns ``{"lr", "hr", "scale"}``
    (scale as a string fraction, e.g. ``"27/10"``)."""

    def __init__(self, sampler: ScaleSampler, degradations: DegradationSampler | None = None):
        self.sampler = sampler
        self.degradations = degradations or DegradationSampler({"bicubic": 1.0})

    def __call__(self, items: Sequence[torch.Tensor]) -> dict[str, object]:
        scale = self.sampler()
        return make_pair(torch.stack(list(items)), scale, self.degradations())


def make_pair(
    hr: torch.Tensor, scale: Fraction, degradation: Kind | Degradation = "bicubic"
) -> dict[str, object]:
    """Crop ``hr`` ``(B, C, H, W)`` for ``scale`` and degrade it (a kind, or a
    :class:`~bioscope.data.degradations.Degradation` with its window and noise; see
    :mod:`bioscope.data.degradations`): ``{"lr", "hr", "scale"}``, the scale as text:
    ``"27/10"`` for both axes, ``"27/10,1"`` for a through-plane kind (rows only)."""
    how = degradation if isinstance(degradation, Degradation) else Degradation(degradation)
    if how.kind in SLICE_PROFILES:
        hr = hr[..., : lr_size(hr.shape[-2], scale)[0], :]
        rows = torch.from_numpy(lr_matrix(how.kind, hr.shape[-2], scale)).to(hr)
        lr, text = rows @ hr, f"{scale},1"
    else:
        hr = crop_to_scale(hr, scale)
        rows, cols = (
            torch.from_numpy(lr_matrix(how.kind, n, scale, how.window, how.tukey_alpha)).to(hr)
            for n in hr.shape[-2:]
        )
        lr, text = rows @ hr @ cols.T, str(scale)
    if how.snr is not None:
        lr = rician_noise(lr, how.snr)
    return {"lr": lr.contiguous(), "hr": hr.contiguous(), "scale": text}


def rician_noise(lr: torch.Tensor, snr: float) -> torch.Tensor:
    """``lr`` ``(B, C, h, w)`` as a magnitude image with complex Gaussian noise of sigma = each
    image's 99th percentile / ``snr`` (as :func:`~bioscope.data.kspace.add_rician_noise`), drawn
    from torch's global generator."""
    sigma = torch.quantile(lr.flatten(1).float(), 0.99, dim=1).to(lr).view(-1, 1, 1, 1) / snr
    real = lr + sigma * torch.randn_like(lr)
    return torch.hypot(real, sigma * torch.randn_like(lr))
