"""``bioscope sr ...``: MRI super-resolution."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from bioscope.cli.args import output_folder, positive_int, run_config
from bioscope.data.degrade import as_scale, degrade
from bioscope.data.mri import AXES
from bioscope.data.superres import builtin_slices, split_volumes, volume_paths, volume_slices
from bioscope.errors import InputError
from bioscope.io import read_volume, write_image, write_nifti
from bioscope.io.atomic import atomic_path
from bioscope.io.volumes import NIFTI_SUFFIXES, Volume, resampled_affine
from bioscope.models import create_model
from bioscope.models.checkpoint import (
    export_weights,
    load_model,
    shipped_weights,
)
from bioscope.models.registry import model_task
from bioscope.models.vgg import ENV
from bioscope.report.superres import sr_table, write_sr_evaluation
from bioscope.train.config import from_dict
from bioscope.train.segmentation import ModelSpec
from bioscope.train.superres import SRTrainConfig, train_superres
from bioscope.upscale import upscale_volume


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``sr`` and its sub-commands."""
    sr = commands.add_parser("sr", help="MRI super-resolution")
    sub = sr.add_subparsers(dest="sr_command", required=True, metavar="COMMAND")

    inspect = sub.add_parser("inspect", help="shape, voxel sizes, orientation, dtype, range")
    inspect.add_argument(
        "file", type=Path, help="NIfTI, DICOM file or series folder, PNG, TIFF, NPY"
    )
    inspect.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=run_inspect)

    deg = sub.add_parser(
        "degrade",
        help="write the low-resolution version, as training makes it",
        description="Crop to an exact multiple of the scale's numerator and downsample with "
        "antialiased bicubic (exact rational geometry; pixel-centre alignment). A volume is "
        "degraded in-plane, slice by slice along --axis, and written as NIfTI with its affine.",
    )
    deg.add_argument("input", type=Path)
    deg.add_argument("--scale", required=True, help="e.g. 2, 2.5, 3.7 (1.1..4.0)")
    deg.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help=".nii/.nii.gz for volumes; .png, .tif, .npy or .nii for 2-D images",
    )
    deg.add_argument("--axis", choices=tuple(AXES), default="axial", help="slice axis of a volume")
    deg.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    deg.add_argument("--blur-sigma", type=float, default=0.0, help="Gaussian blur before sampling")
    deg.add_argument("--allow-any-scale", action="store_true", help="scales outside 1.1..4.0")
    deg.set_defaults(handler=run_degrade)

    train = sub.add_parser(
        "train",
        help="train an SR model (meta-srgan, srgan, edsr-baseline, ...)",
        description="L1 warm-up then GAN training (L1 + adversarial + perceptual), one scale per "
        "minibatch; writes config.yaml, metrics.csv, last/best checkpoints. Multi-process: "
        "torchrun --nproc_per_node N -m bioscope.cli.main sr train ...",
    )
    train.add_argument(
        "--data",
        default="builtin",
        help="builtin (the ICBM152 template), photos (scikit-image's bundled photographs), "
        "a BraTS/NIfTI folder, or a PNG folder",
    )
    train.add_argument(
        "--images", action="store_true", help="--data is a folder of PNG photographs"
    )
    train.add_argument("--model", help="generator (default meta-srgan)")
    train.add_argument("--out", type=Path, required=True, help="run folder")
    train.add_argument("--config", type=Path, help="YAML configuration (see configs/sr-*.yaml)")
    train.add_argument(
        "--init", type=Path, help="start from this generator checkpoint (fine-tuning)"
    )
    train.add_argument("--epochs", type=positive_int, help="total epochs")
    train.add_argument("--batch-size", type=positive_int)
    train.add_argument("--vgg-weights", type=Path, help=f"torchvision VGG19 weights (or ${ENV})")
    train.add_argument("--device", choices=("cpu", "cuda"))
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.set_defaults(handler=run_train)

    up = sub.add_parser(
        "upscale",
        help="enlarge an image or a volume (in-plane) by any scale",
        description="2-D PNG/TIFF/NPY, NIfTI (slice by slice along --axis, written as NIfTI whose "
        "affine and voxel sizes describe the new grid) or DICOM. Large slices go by tiles.",
    )
    up.add_argument("input", type=Path)
    up.add_argument("--scale", required=True, help="e.g. 1.5, 2, 2.7, 4")
    up.add_argument("-o", "--output", type=Path, required=True)
    up.add_argument("--model", type=Path, help="SR checkpoint (default: the shipped model)")
    up.add_argument("--axis", choices=tuple(AXES), default="axial", help="slice axis of a volume")
    up.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    up.add_argument("--tile", type=positive_int, default=256, help="LR tile side for large slices")
    up.add_argument(
        "--strict", action="store_true", help="fail on a scale outside the trained range"
    )
    up.set_defaults(handler=run_upscale)

    evaluate = sub.add_parser(
        "evaluate",
        help="PSNR/SSIM of SR models against bicubic on held-out slices",
        description="Scores each model at each scale on the test slices (maximal information "
        "crops; border ceil(scale) removed; PSNR on [0, 1]). Writes metrics.json, per_slice.csv, "
        "table.md, comparison.png and scale_sweep.png. meta-srgan without a checkpoint is the "
        "shipped model.",
    )
    evaluate.add_argument("--data", default="builtin", help="builtin or a BraTS/NIfTI folder")
    evaluate.add_argument(
        "--models",
        default="meta-srgan,bicubic",
        help="comma-separated model names (default meta-srgan,bicubic)",
    )
    evaluate.add_argument(
        "--checkpoints",
        default="",
        help="comma-separated NAME=PATH, e.g. meta-srgan=runs/sr/best.safetensors",
    )
    evaluate.add_argument("--scales", default="1.5,2,2.5,3,3.5,4", help="comma-separated scales")
    evaluate.add_argument("--out", type=output_folder, required=True, help="output folder")
    evaluate.set_defaults(handler=run_evaluate)

    export = sub.add_parser("export", help="strip a training checkpoint to its weights")
    export.add_argument("checkpoint", type=Path, help="e.g. RUN/best.safetensors")
    export.add_argument("--out", type=Path, required=True, help="weights file to write")
    export.set_defaults(handler=run_export)


def inspect_volume(volume: Volume) -> dict[str, object]:
    """What ``sr inspect`` reports."""
    return {
        "file": volume.source,
        "shape": list(volume.data.shape),
        "voxel_sizes": list(volume.voxel_sizes),
        "orientation": volume.orientation,
        "dtype": volume.dtype,
        "min": float(volume.data.min()),
        "max": float(volume.data.max()),
    }


def run_inspect(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr inspect``."""
    info = inspect_volume(read_volume(args.file, args.volume))
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:12s} {value}")
    return 0


def run_degrade(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr degrade``."""
    scale = as_scale(args.scale, allow_outside=args.allow_any_scale)
    volume = read_volume(args.input, args.volume)
    out = args.output
    if volume.is_volume:
        axis = AXES[args.axis]
        moved = np.moveaxis(volume.data, axis, 0)  # (slices, a, b): in-plane axes last
        _, lr = degrade(moved, scale, args.blur_sigma)
        data = np.moveaxis(lr, 0, axis)
        if not out.name.lower().endswith(NIFTI_SUFFIXES):
            raise InputError(f"{out}: a volume is written as NIfTI (.nii or .nii.gz)")
        write_nifti(out, data, resampled_affine(volume.affine, float(scale), axis))
    else:
        _, lr = degrade(volume.data, scale, args.blur_sigma)
        write_plane(out, lr, volume.dtype)
    shape = list((data if volume.is_volume else lr).shape)
    print(f"{args.input} {list(volume.data.shape)} -> {out} {shape} (scale {scale})")
    return 0


def write_plane(path: Path, image: np.ndarray, dtype: str) -> Path:
    """Write a 2-D result as NPY/TIFF (float32), PNG (the input's integer type) or NIfTI."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with atomic_path(path) as tmp:
            with tmp.open("wb") as handle:
                np.save(handle, image.astype(np.float32))
        return path
    if path.name.lower().endswith(NIFTI_SUFFIXES):
        return write_nifti(path, image[:, :, None], np.eye(4))
    if suffix == ".png":
        if not dtype.startswith("uint"):
            raise InputError(f"{path}: a {dtype} image is written as .tif or .npy, not .png")
        top = np.iinfo(dtype).max
        return write_image(path, np.clip(np.round(image), 0, top).astype(dtype))
    return write_image(path, image.astype(np.float32))


def run_train(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr train``."""
    raw, source = run_config(args)
    init = args.init or raw.pop("init", None)
    config = from_dict(SRTrainConfig, raw, where=source)
    if args.model:
        config.model = ModelSpec(args.model)
    if args.data != "builtin" or args.images:
        config.data.source, config.data.images = str(args.data), args.images
    if args.vgg_weights:
        config.loss.vgg_weights = str(args.vgg_weights)
    for key, value in (
        ("epochs", args.epochs),
        ("batch_size", args.batch_size),
        ("device", args.device),
    ):
        if value is not None:
            setattr(config.train, key, value)
    result = train_superres(args.out, config, init=init, resume=args.resume)
    best = next(r for r in result.rows if r["epoch"] == result.best_epoch)
    print(
        f"best epoch {result.best_epoch}: val PSNR {best['val_psnr']:.2f} dB (bicubic "
        f"{best['val_bicubic_psnr']:.2f} dB), SSIM {best['val_ssim']:.4f} (bicubic "
        f"{best['val_bicubic_ssim']:.4f}); run written to {args.out}"
    )
    return 0


def load_sr_models(names: list[str], checkpoints: str) -> dict[str, torch.nn.Module]:
    """Models by name: from ``NAME=PATH`` checkpoints, weight-free (bicubic), or the shipped
    weights (meta-srgan); never untrained."""
    paths = {}
    for item in filter(None, checkpoints.split(",")):
        name, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--checkpoints takes NAME=PATH items, got {item!r}")
        paths[name] = Path(path)
    models = {}
    for name in names:
        if name in paths:
            models[name] = load_model(paths[name], task="superres")[0]
        elif model_task(name) == "superres" and not any(
            True for _ in create_model(name).parameters()
        ):
            models[name] = create_model(name)
        else:
            models[name] = shipped_sr_model(name)
    return models


def shipped_sr_model(name: str) -> torch.nn.Module:
    """The shipped SR model when it is a ``name`` (read once); else a refusal that says what to
    pass instead."""
    try:
        path = shipped_weights("superres")
    except InputError:
        path = None
    if path is not None:
        model, meta = load_model(path, task="superres")
        if meta["nets"]["model"]["name"] == name:
            return model
    raise InputError(
        f"{name}: no checkpoint given, and bioscope ships no trained {name} weights; "
        f"pass --checkpoints {name}=PATH (a checkpoint from 'bioscope sr train')"
    )


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr evaluate``."""
    scales = [as_scale(v, allow_outside=True) for v in args.scales.split(",")]
    models = load_sr_models([n for n in args.models.split(",") if n], args.checkpoints)
    if args.data == "builtin":
        slices = builtin_slices()["test"]
    else:
        slices = volume_slices(split_volumes(volume_paths(args.data))["test"])
    with tqdm(total=len(slices), unit="slice", desc="evaluate", disable=None) as bar:
        summary = write_sr_evaluation(args.out, models, slices, scales, args.data, bar.update)
    print(sr_table(summary))
    print(f"wrote metrics.json, per_slice.csv, table.md and figures to {args.out}")
    return 0


def run_upscale(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr upscale``."""
    scale = as_scale(args.scale, allow_outside=True)
    path = args.model or shipped_weights("superres")
    model, meta = load_model(path, task="superres")
    low, high, _ = ((meta.get("config") or {}).get("data") or {}).get("scales", (1.1, 4.0, 0.1))
    if not as_scale(low, True) <= scale <= as_scale(high, True):
        message = (
            f"scale {float(scale):g} is outside the range {low}..{high} the model was trained on"
        )
        if args.strict:
            raise InputError(message)
        print(f"bioscope: warning: {message}", file=sys.stderr)
    volume = read_volume(args.input, args.volume)
    result = upscale_volume(model, volume, scale, AXES[args.axis], args.tile)
    if volume.is_volume:
        if not args.output.name.lower().endswith(NIFTI_SUFFIXES):
            raise InputError(f"{args.output}: a volume is written as NIfTI (.nii or .nii.gz)")
        write_nifti(args.output, result.data, result.affine)
    else:
        write_plane(args.output, result.data, volume.dtype)
    print(
        f"{args.input} {list(volume.data.shape)} -> {args.output} {list(result.data.shape)} "
        f"(x{float(scale):g}, {path})"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr export``."""
    path = export_weights(args.checkpoint, args.out, "superres")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
