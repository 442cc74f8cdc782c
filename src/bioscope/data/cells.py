"""Image/mask pairs for cell segmentation, as a PyTorch dataset.

Two layouts are read:

* BBBC005 (real or simulated), through :func:`pairs_from_bbbc005` on indexed records;
* a plain folder of images plus a folder of masks, as Cellpose users keep them
  (:func:`pairs_from_folders`): the mask of ``<name>.<ext>`` is ``<name>.<ext>`` or
  ``<name>_masks.<ext>`` (any TIFF/PNG suffix). A mask with more than two values is taken as
  instance labels.

Images are made grey, normalised per image (:class:`~bioscope.data.intensity.PercentileNorm`),
and resized to ``size x size`` (the paper's 256; ``None`` keeps the native size).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from bioscope.data.augment import QualityAugment, scaled_crop
from bioscope.data.bbbc005 import Bbbc005Record
from bioscope.data.intensity import PercentileNorm
from bioscope.data.targets import labels_from_mask, median_diameter, normalized_distance
from bioscope.errors import InputError
from bioscope.io import IMAGE_SUFFIXES, read_image
from bioscope.io.folders import check_folder, derived_files
from bioscope.io.images import to_grey

MASK_SUFFIX = "_masks"
#: The normalisation cell models are trained with (recorded in their inference spec).
TRAINING_NORM = PercentileNorm()


@dataclass(frozen=True)
class CellPair:
    """An image, its binary mask, and optionally its instance labels."""

    image: Path
    mask: Path
    labels: Path | None = None


def pairs_from_bbbc005(
    records: Sequence[Bbbc005Record], blurs: Sequence[int] = (1,)
) -> list[CellPair]:
    """Pair the images at blur levels ``blurs`` with their field's ground-truth mask.

    BBBC005 has masks for F1 only, but every blur level of a field shows the same cells, so a
    blurred image is paired with the F1 mask of its field and stain: the in-focus truth. Images
    whose field has no mask among ``records`` are left out.
    """
    masks = {(r.name.field, r.name.stain): r.mask for r in records if r.mask is not None}
    wanted = set(blurs)
    return [
        CellPair(r.image, masks[(r.name.field, r.name.stain)], r.labels)
        for r in records
        if r.name.blur in wanted and (r.name.field, r.name.stain) in masks
    ]


def pairs_from_folders(
    images_dir: str | os.PathLike[str], masks_dir: str | os.PathLike[str] | None = None
) -> list[CellPair]:
    """Pair every image in ``images_dir`` with its mask in ``masks_dir`` (default: the same
    folder). What ``cells predict`` or Cellpose wrote beside an image is not an image
    (:func:`~bioscope.io.folders.derived_files`).

    Raises:
        InputError: a folder is missing, holds no image, or an image has no mask or two.
    """
    images_dir = Path(images_dir)
    same_folder = masks_dir is None or Path(masks_dir) == images_dir
    masks_dir = images_dir if masks_dir is None else Path(masks_dir)
    check_folder(images_dir, "a folder of images" + (" and masks" if same_folder else ""))
    check_folder(masks_dir, "a folder of masks")
    masks = {p.name: p for p in masks_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    files = [p for p in sorted(images_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    outputs = derived_files(files)
    images = [p for p in files if not p.stem.endswith(MASK_SUFFIX) and p not in outputs]
    if not images:
        raise InputError(f"{images_dir}: no TIFF or PNG images found")
    return [CellPair(image, _find_mask(image, masks, masks_dir, same_folder)) for image in images]


def _find_mask(image: Path, masks: dict[str, Path], folder: Path, same_folder: bool) -> Path:
    """``<stem>_masks.*``, or ``<stem>.*`` when masks have a folder of their own."""
    stems = [image.stem + MASK_SUFFIX] if same_folder else [image.stem + MASK_SUFFIX, image.stem]
    for stem in stems:
        found = sorted(path for name, path in masks.items() if Path(name).stem == stem)
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise InputError(f"{image}: two masks in {folder} ({names}); keep one")
        if found:
            return found[0]
    looked = " or ".join(f"{stem}.*" for stem in stems)
    raise InputError(f"{image}: no mask in {folder} (looked for {looked})")


def prepare_image(raw: np.ndarray) -> np.ndarray:
    """What cell models are trained on: grey, normalised by :data:`TRAINING_NORM` (float32). The
    predictor does the same with the normalisation its checkpoint records."""
    return TRAINING_NORM(to_grey(raw))


@dataclass(frozen=True)
class CellArrays:
    """A loaded pair: normalised grey image, binary mask, instance labels (the labels file's, else
    the mask's)."""

    image: np.ndarray
    mask: np.ndarray
    labels: np.ndarray


def read_labels(path: Path, image: Path, image_shape: tuple[int, ...]) -> np.ndarray:
    """The instance labels of mask or labels file ``path`` (:func:`instance_labels`), checked
    to be as large as its ``image`` of ``image_shape``.

    Raises:
        InputError: ``path`` is unreadable or holds impossible labels, or the shapes differ
            (naming both files).
    """
    labels = instance_labels(path, read_image(path))
    if labels.shape != tuple(image_shape[:2]):
        raise InputError(
            f"{path}: shape {labels.shape} does not match its image {image} of shape "
            f"{tuple(image_shape[:2])}"
        )
    return labels


def instance_labels(path: Path, mask: np.ndarray) -> np.ndarray:
    """The instance labels (int64) of mask or label file ``path``: 0 for background, 1, 2, ...
    for objects; a two-valued mask (any values, float or bool too) is split into its connected
    components.

    Raises:
        InputError: naming ``path``, for negative or fractional labels.
    """
    mask = mask[..., 0] if mask.ndim == 3 else mask
    if mask.dtype.kind in "iuf" and mask.size and mask.min() < 0:
        raise InputError(
            f"{path}: negative values ({mask.min()}) in an instance mask; labels are 0 for "
            "background and 1, 2, ... for objects"
        )
    if len(np.unique(mask)) <= 2:
        return labels_from_mask(mask > 0)
    if mask.dtype.kind not in "uib":
        raise InputError(f"{path}: instance labels must be integers, got {mask.dtype}")
    return mask.astype(np.int64)


def load_pair(pair: CellPair) -> CellArrays:
    """Read one pair and check that image, mask and labels agree in shape.

    Raises:
        InputError: a file is unreadable, a mask holds negative or fractional labels, or the
            shapes differ (the message names both files).
    """
    image = prepare_image(read_image(pair.image))
    mask = read_labels(pair.mask, pair.image, image.shape)
    labels = mask if pair.labels is None else read_labels(pair.labels, pair.image, image.shape)
    return CellArrays(image, mask > 0, labels)


class CellDataset(Dataset):
    """Cell image/mask pairs as tensors for training and validation.

    Each item is a dict with ``image`` (float32 ``(1, H, W)``), ``mask`` (float32 ``(1, H, W)``,
    0/1), ``labels`` (int64 ``(H, W)``, when labels exist), ``distance`` (float32 ``(1, H, W)``,
    :func:`~bioscope.data.targets.normalized_distance`, when asked for) and ``valid`` (int64
    ``(2,)``: the height and width of the real image inside any padding). Decoded arrays are cached
    in memory so an epoch reads no file twice.

    Args:
        pairs: what to load.
        size: side of the square the images are resized to (the paper: 256); ``None`` keeps the
            native resolution.
        augment: random flips and 90-degree rotations (rotations only for square outputs).
        crop: random ``crop x crop`` windows (training at native resolution); without it, native
            images are padded (reflecting the image, zeros in the targets) to a multiple of
            ``multiple`` so a U-Net takes them whole.
        distance: add the per-cell distance target (from the labels, or from connected
            components of the mask where there are none).
        multiple: the padding multiple (16 for the paper's U-Net).
        diameter: bring every image to this median nucleus diameter (pixels) on loading, as
            measured on its labels (Cellpose's recipe: the model sees one nucleus size, the
            predictor rescales images to it); ``None`` keeps the native size.
        scale: random crops see the image at a random scale in this range (log-uniform), so
            the model tolerates an imperfect size estimate; needs ``crop``.
        quality: random gamma, contrast, blur and noise of training crops.

    Randomness comes from torch's global generator, so a seeded run repeats.
    """

    def __init__(
        self,
        pairs: Sequence[CellPair],
        size: int | None = 256,
        augment: bool = False,
        crop: int | None = None,
        distance: bool = False,
        multiple: int = 16,
        diameter: float | None = None,
        scale: tuple[float, float] | None = None,
        quality: QualityAugment | None = None,
    ):
        if not pairs:
            raise InputError("no image/mask pairs to make a dataset from")
        for name, value in (("size", size), ("crop", crop)):
            if value is not None and value < 1:
                raise InputError(f"{name} must be positive, got {value}")
        self.pairs = list(pairs)
        self.size = size
        self.augment = augment
        self.crop = crop
        self.distance = distance
        self.multiple = multiple
        self.diameter = diameter
        self.scale = scale
        self.quality = quality
        self._cache: dict[int, dict[str, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if index not in self._cache:
            arrays = load_pair(self.pairs[index])
            if self.diameter is not None:
                arrays = _at_diameter(arrays, self.diameter)
            self._cache[index] = _to_tensors(arrays, self.size, self.distance)
        item = dict(self._cache[index])
        if self.crop is not None and self.scale is not None:
            item = {
                **scaled_crop(item, self.crop, self.scale),
                "valid": torch.tensor([self.crop] * 2),
            }
        elif self.crop is not None:
            item = _random_crop(item, self.crop, self.pairs[index])
        else:
            item = _pad(item, self.multiple)
        if self.quality is not None:
            item["image"] = self.quality(item["image"])
        return _augment(item) if self.augment else item


def _at_diameter(arrays: CellArrays, diameter: float) -> CellArrays:
    """The pair resized so its median nucleus diameter is ``diameter`` (unchanged when it has
    no nuclei)."""
    labels = arrays.labels
    measured = median_diameter([labels])
    if measured is None:
        return arrays
    factor = diameter / measured
    shape = tuple(max(1, round(n * factor)) for n in labels.shape)
    image = F.interpolate(
        torch.from_numpy(arrays.image)[None, None],
        shape,
        mode="bilinear",
        antialias=factor < 1,
        align_corners=False,
    )[0, 0].numpy()
    resized = (
        F.interpolate(
            torch.from_numpy(labels.astype(np.float32))[None, None], shape, mode="nearest-exact"
        )[0, 0]
        .numpy()
        .astype(np.int64)
    )
    return CellArrays(image, resized > 0, resized)


def _to_tensors(arrays: CellArrays, size: int | None, distance: bool) -> dict[str, torch.Tensor]:
    image = torch.from_numpy(arrays.image)[None, None]
    mask = torch.from_numpy(arrays.mask.astype(np.float32))[None, None]
    labels = torch.from_numpy(arrays.labels)[None, None]
    if size is not None and image.shape[-2:] != (size, size):
        image = F.interpolate(
            image, (size, size), mode="bilinear", antialias=True, align_corners=False
        )
        mask = (F.interpolate(mask, (size, size), mode="area") >= 0.5).float()
        labels = F.interpolate(labels.float(), (size, size), mode="nearest-exact").long()
    item = {
        "image": image[0].contiguous(),
        "mask": mask[0].contiguous(),
        "labels": labels[0, 0].contiguous(),
    }
    if distance:
        target = normalized_distance(item["labels"].numpy())
        item["distance"] = torch.from_numpy(target)[None]
    return item


def _random_crop(
    item: dict[str, torch.Tensor], crop: int, pair: CellPair
) -> dict[str, torch.Tensor]:
    height, width = item["image"].shape[-2:]
    if height < crop or width < crop:
        raise InputError(f"{pair.image}: image of {height} x {width} is smaller than crop {crop}")
    top = int(torch.randint(0, height - crop + 1, ()).item())
    left = int(torch.randint(0, width - crop + 1, ()).item())
    out = {k: v[..., top : top + crop, left : left + crop].contiguous() for k, v in item.items()}
    out["valid"] = torch.tensor([crop, crop])
    return out


def pad_to_multiple(x: torch.Tensor, multiple: int, reflect: bool = True) -> torch.Tensor:
    """Pad the last two axes of ``x`` at the bottom and right up to multiples of ``multiple``:
    by reflection (images; replication where the image is too small to reflect) or with zeros."""
    height, width = x.shape[-2:]
    pad = (0, -width % multiple, 0, -height % multiple)
    if not any(pad):
        return x
    if not reflect:
        return F.pad(x, pad)
    mode = "reflect" if min(height, width) > max(pad) else "replicate"
    return F.pad(x[None], pad, mode=mode)[0] if x.ndim == 3 else F.pad(x, pad, mode=mode)


def _pad(item: dict[str, torch.Tensor], multiple: int) -> dict[str, torch.Tensor]:
    out = {k: pad_to_multiple(v, multiple, reflect=k == "image") for k, v in item.items()}
    out["valid"] = torch.tensor(list(item["image"].shape[-2:]))
    return out


def _augment(item: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    square = item["image"].shape[-1] == item["image"].shape[-2]
    turns = int(torch.randint(0, 4, ()).item()) if square else 0
    flip = bool(torch.randint(0, 2, ()).item())
    out = {"valid": item["valid"]}
    for key, tensor in item.items():
        if key == "valid":
            continue
        tensor = torch.rot90(tensor, turns, dims=(-2, -1)) if turns else tensor
        out[key] = (torch.flip(tensor, dims=(-1,)) if flip else tensor).contiguous()
    return out
