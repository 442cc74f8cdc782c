"""``bioscope sr ...``: MRI super-resolution."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Set as AbstractSet
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bioscope.cli.args import add_out, positive_int, run_config
from bioscope.cli.exporting import add_export_arguments, print_exported
from bioscope.cli.inputs import GLOB_CHARS, expand_inputs
from bioscope.data.degradations import KINDS, SLICE_PROFILES, check_kinds, degrade_with
from bioscope.data.degrade import as_scale
from bioscope.data.kspace import WINDOWS, add_rician_noise
from bioscope.data.mri import AXES
from bioscope.data.superres import (
    builtin_slices,
    builtin_volume,
    split_volumes,
    volume_paths,
    volume_slices,
)
from bioscope.device import DEVICES
from bioscope.errors import BioscopeWarning, InputError, naming
from bioscope.evaluate.through_plane import evaluate_through_plane, summary_table
from bioscope.inference.formats import export_sr_model
from bioscope.inference.superres import SRPredictor
from bioscope.inference.through_plane import slice_axis, through_plane_scale
from bioscope.io import IMAGE_SUFFIXES, read_volume, write_image, write_nifti
from bioscope.io.atomic import atomic_path, atomic_write_text
from bioscope.io.images import cast_to, check_writable
from bioscope.io.volumes import (
    NIFTI_SUFFIXES,
    Volume,
    describe_nifti,
    rescaled_affine,
)
from bioscope.models.vgg import ENV
from bioscope.report.superres import sr_table, write_sr_evaluation
from bioscope.report.tables import markdown_table
from bioscope.train.config import from_dict
from bioscope.train.segmentation import ModelSpec
from bioscope.train.superres import SRTrainConfig, train_superres


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``sr`` and its sub-commands."""
    sr = commands.add_parser("sr", help="MRI super-resolution")
    sub = sr.add_subparsers(dest="sr_command", required=True, metavar="COMMAND")

    inspect = sub.add_parser(
        "inspect",
        help="shape, voxel sizes, orientation, dtype, range",
        description="Describe a file: shape (with the number of volumes and TR of a 4-D NIfTI), "
        "voxel sizes, the orientation stored on disk and the canonical (RAS) one bioscope "
        "processes in, pixel type and intensity range.",
    )
    inspect.add_argument(
        "file", type=Path, help="NIfTI, DICOM file or series folder, PNG, TIFF, NPY"
    )
    inspect.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=run_inspect)

    deg = sub.add_parser(
        "degrade",
        help="write the low-resolution version (bicubic, k-space, or thick slices)",
        description="Crop to an exact multiple of the scale's numerator and downsample with "
        "antialiased bicubic, or (--kind kspace) keep the centre of k-space as a scanner does, "
        "optionally apodized (exact rational geometry; pixel-centre alignment; --snr adds "
        "Rician noise). A volume is degraded in-plane, slice by slice along --axis, or with "
        "--kind slices-box/slices-gaussian made into thick slices along --axis only; it is "
        "written as NIfTI with its affine.",
    )
    deg.add_argument("input", type=Path)
    deg.add_argument("--scale", required=True, help="e.g. 2, 2.5, 3.7 (1.1..4.0)")
    add_out(deg, "file", ".nii/.nii.gz for volumes; .png, .tif, .npy or .nii for 2-D images")
    deg.add_argument("--axis", choices=tuple(AXES), help="slice axis of a volume (default: axial)")
    deg.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    deg.add_argument(
        "--kind",
        choices=KINDS,
        default="bicubic",
        help="bicubic (default), kspace, or thick slices along --axis (a 2-D image: along its "
        "rows): slices-box (averaged thin slices) or slices-gaussian (Gaussian slice profile)",
    )
    deg.add_argument(
        "--window", choices=WINDOWS, default="none", help="k-space apodization (--kind kspace)"
    )
    deg.add_argument(
        "--blur-sigma", type=float, default=0.0, help="Gaussian blur before sampling (bicubic)"
    )
    deg.add_argument(
        "--snr",
        type=float,
        help="add Rician noise: sigma = 99th percentile / SNR (magnitude of complex noise)",
    )
    deg.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
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
    add_out(train, "folder", "run folder (made if missing)")
    train.add_argument("--config", type=Path, help="YAML configuration (see configs/sr-*.yaml)")
    train.add_argument(
        "--init", type=Path, help="start from this generator checkpoint (fine-tuning)"
    )
    train.add_argument("--epochs", type=positive_int, help="total epochs")
    train.add_argument("--batch-size", type=positive_int)
    train.add_argument("--vgg-weights", type=Path, help=f"torchvision VGG19 weights (or ${ENV})")
    train.add_argument(
        "--device", choices=DEVICES, help="auto (default: CUDA when present), cpu, cuda"
    )
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.set_defaults(handler=run_train)

    up = sub.add_parser(
        "upscale",
        help="enlarge images or volumes (in-plane) by any scale",
        description="2-D PNG/TIFF/NPY, NIfTI (slice by slice along --axis, written as NIfTI whose "
        "affine and voxel sizes describe the new grid, header kept) or DICOM. Slices go through "
        "in batches, large ones by tiles. Several inputs (files, folders, glob patterns) need an "
        "output folder; each result is named <stem>_x<scale><suffix> there.",
    )
    up.add_argument("inputs", nargs="+", type=Path, help="files, folders or glob patterns")
    up.add_argument(
        "--scale",
        help="e.g. 1.5, 2, 2.7, 4 or 3/2 (with --through-plane: default from --target-mm)",
    )
    add_out(up, "any", "output file (one input) or folder (several)")
    up.add_argument(
        "--model",
        type=Path,
        help="SR checkpoint, or meta-srgan-gan (the shipped GAN variant); default: the shipped "
        "L1 model",
    )
    up.add_argument(
        "--axis",
        choices=tuple(AXES),
        help="slice axis of a volume (default: axial; with --through-plane, the thickest axis)",
    )
    up.add_argument(
        "--through-plane",
        action="store_true",
        help="enlarge a volume across its slices only (thick 2-D acquisitions), not in-plane",
    )
    up.add_argument(
        "--target-mm",
        type=float,
        help="with --through-plane: slice spacing to reach (default: the in-plane spacing)",
    )
    up.add_argument("--volume", type=int, help="volume of a 4-D file (0-based)")
    up.add_argument("--tile", type=positive_int, default=256, help="LR tile side for large slices")
    up.add_argument("--batch-size", type=positive_int, default=8, help="slices or tiles per call")
    up.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto (CUDA when present), cpu, cuda"
    )
    up.add_argument(
        "--dtype",
        choices=("keep", "float32"),
        default="keep",
        help="pixel type written: the input's (rounded, clipped to its range) or float32",
    )
    up.add_argument(
        "--clip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="clip to the input's intensity range (default: on for integer inputs)",
    )
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
        help="comma-separated model names (default meta-srgan,bicubic; meta-srgan-gan is the "
        "shipped GAN variant)",
    )
    evaluate.add_argument(
        "--checkpoints",
        default="",
        help="comma-separated NAME=PATH, e.g. meta-srgan=runs/sr/best.safetensors",
    )
    evaluate.add_argument("--scales", default="1.5,2,2.5,3,3.5,4", help="comma-separated scales")
    evaluate.add_argument(
        "--degradation",
        default="bicubic",
        help="comma-separated ways to make the LR input: bicubic (default; as training makes "
        "it), kspace (the centre of k-space, as a scanner acquires it); with several, each "
        "writes to OUT/<name>/",
    )
    evaluate.add_argument(
        "--through-plane",
        action="store_true",
        help="score through-plane SR instead: each volume of --data (builtin, NIfTI files or "
        "folders, comma-separated) is made into thick slices along --axis by averaging, "
        "enlarged back along that axis only and scored on every plane across the slices, "
        "against cubic and sinc interpolation along the axis",
    )
    evaluate.add_argument(
        "--axis", choices=tuple(AXES), default="axial", help="slice axis (--through-plane)"
    )
    add_out(evaluate, "folder", "output folder (made if missing)")
    evaluate.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto (CUDA when present), cpu, cuda"
    )
    evaluate.set_defaults(handler=run_evaluate)

    export = sub.add_parser(
        "export",
        help="write a model's weights, or its network at one scale as TorchScript, ONNX or a "
        "bioimage.io package",
        description="safetensors (default): strip a training checkpoint to its weights (any "
        "scale). torchscript (.pt) or onnx (.onnx): the network at the one --scale, taking "
        "(N, 1, h, w) float32 images in the model's units and returning (N, 1, floor(s h), "
        "floor(s w)); export one file per scale. <file>.json beside it holds the inference "
        "spec and says how to prepare the input. ONNX export needs pip install "
        "'bioscope[export]'. bioimageio (.zip): a bioimage.io model package at the one "
        "--scale, for deepImageJ, ilastik, QuPath and bioimageio.core (its README says how "
        "its normalisation differs from bioscope's); needs pip install "
        "'bioscope[bioimageio]'.",
    )
    add_export_arguments(export)
    export.add_argument(
        "--scale",
        help="the scale built into a torchscript, onnx or bioimageio file, e.g. 2, 4 or 2.5",
    )
    export.set_defaults(handler=run_export)


def inspect_volume(volume: Volume) -> dict[str, object]:
    """What ``sr inspect`` reports of one image or volume (voxel sizes to 4 decimals)."""
    return {
        "file": volume.source,
        "shape": list(volume.data.shape),
        "voxel_sizes": [round(v, 4) for v in volume.voxel_sizes],
        "orientation": volume.orientation,
        "disk_orientation": volume.disk_orientation,
        "dtype": volume.dtype,
        "min": float(volume.data.min()),
        "max": float(volume.data.max()),
    }


def run_inspect(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr inspect``: a 4-D NIfTI without ``--volume`` is described whole."""
    name = args.file.name.lower()
    if args.volume is None and name.endswith(NIFTI_SUFFIXES) and args.file.is_file():
        info = describe_nifti(args.file)
    else:
        info = inspect_volume(read_volume(args.file, args.volume))
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:16s} {value}")
    return 0


def run_degrade(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr degrade``."""
    scale = as_scale(args.scale, allow_outside=args.allow_any_scale)
    volume = read_volume(args.input, args.volume)
    out = args.out
    png = out.suffix.lower() == ".png"  # the input's integer type; float32 elsewhere
    dtype = "keep" if png else "float32"
    check_written(out, volume, dtype, {args.input.resolve()}, "write .tif or .npy")
    _check_axis_used(args.input, volume, args.axis)
    if volume.is_volume:
        axis = AXES[args.axis or "axial"]
        if args.kind in SLICE_PROFILES:  # thick slices along --axis
            data = _low_resolution(volume.data, scale, args, axis)
            factors = [float(scale) if i == axis else 1.0 for i in range(3)]
        else:
            moved = np.moveaxis(volume.data, axis, 0)  # (slices, a, b): in-plane axes last
            data = np.moveaxis(_low_resolution(moved, scale, args), 0, axis)
            factors = [1.0 if i == axis else float(scale) for i in range(3)]
        affine = rescaled_affine(volume.affine, factors)
        write_nifti(out, data, affine, like=volume.header)  # header and disk axis order kept
    else:
        lr = _low_resolution(volume.data, scale, args)
        write_plane(out, cast_to(lr, volume.dtype) if png else lr.astype(np.float32))
    shape = list((data if volume.is_volume else lr).shape)
    print(f"{args.input} {list(volume.data.shape)} -> {out} {shape} (scale {scale})")
    return 0


def _check_axis_used(path: Path, volume: Volume, axis: str | None) -> None:
    """Warn that ``--axis`` is not used when ``path`` holds a 2-D image (nothing to choose)."""
    if axis is not None and not volume.is_volume:
        warnings.warn(
            f"{path}: a 2-D image has no slice axis to choose; --axis {axis} is not used",
            BioscopeWarning,
            stacklevel=2,
        )


def _low_resolution(
    hr: np.ndarray, scale: Fraction, args: argparse.Namespace, axis: int = -2
) -> np.ndarray:
    """The LR image of ``sr degrade``: the chosen degradation (thick slices along ``axis``),
    then the optional noise."""
    _, lr = degrade_with(
        args.kind, hr, scale, blur_sigma=args.blur_sigma, window=args.window, axis=axis
    )
    if args.snr is not None:
        lr = add_rician_noise(lr, args.snr, np.random.default_rng(args.seed))
    return lr


def write_plane(path: Path, image: np.ndarray) -> Path:
    """Write a 2-D result in its own pixel type as NPY, NIfTI (one slice), PNG or TIFF; the name
    was checked by :func:`check_written`."""
    if path.suffix.lower() == ".npy":
        with atomic_path(path) as tmp:
            with tmp.open("wb") as handle:
                np.save(handle, image)
        return path
    if path.name.lower().endswith(NIFTI_SUFFIXES):
        return write_nifti(path, image, np.eye(4))
    return write_image(path, image)


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


def load_sr_models(names: list[str], checkpoints: str, device: str) -> dict[str, SRPredictor]:
    """Predictors by name, from ``NAME=PATH`` items of ``--checkpoints`` where given (see
    :meth:`~bioscope.inference.superres.SRPredictor.by_name`)."""
    paths = {}
    for item in filter(None, checkpoints.split(",")):
        name, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--checkpoints takes NAME=PATH items, got {item!r}")
        paths[name] = Path(path)
    unused = [name for name in paths if name not in names]
    if unused:
        raise InputError(
            f"--checkpoints names {unused[0]!r}, which --models ({','.join(names)}) does not "
            "list; add it there, or fix the name"
        )
    return {name: SRPredictor.by_name(name, paths.get(name), device) for name in names}


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr evaluate``."""
    scales = [as_scale(v, allow_outside=True) for v in args.scales.split(",")]
    names = [n for n in args.models.split(",") if n]
    models = load_sr_models(names, args.checkpoints, args.device)
    if args.through_plane:
        if args.degradation != "bicubic":
            raise InputError("--through-plane makes thick slices by averaging; drop --degradation")
        return _evaluate_through_plane(args, models, scales)
    if args.data == "builtin":
        slices = builtin_slices()["test"]
    else:
        slices = volume_slices(split_volumes(volume_paths(args.data))["test"])
    kinds = check_kinds(k for k in args.degradation.split(",") if k)
    if not kinds:
        raise InputError(f"no degradation given; use {', '.join(KINDS)}")
    for kind in kinds:
        out = args.out / kind if len(kinds) > 1 else args.out
        with tqdm(total=len(slices), unit="slice", desc=kind, disable=None) as bar:
            summary = write_sr_evaluation(
                out, models, slices, scales, args.data, bar.update, degradation=kind
            )
        print(f"LR made by {kind}:")
        print(sr_table(summary))
        print(f"wrote metrics.json, per_slice.csv, table.md and figures to {out}")
    return 0


def _evaluate_through_plane(
    args: argparse.Namespace, models: dict[str, SRPredictor], scales: list[Fraction]
) -> int:
    """``sr evaluate --through-plane``: one table over every volume, scale and method."""
    skipped = [name for name, model in models.items() if not model.anisotropic]
    for name in skipped:
        print(f"bioscope: note: {name} enlarges both axes by one scale; left out", file=sys.stderr)
    models = {name: model for name, model in models.items() if name not in skipped}
    volumes = [
        builtin_volume() if item == "builtin" else read_volume(path)
        for item in args.data.split(",")
        for path in (volume_paths(item) if Path(item).is_dir() else [Path(item)])
    ]
    rows = []
    with tqdm(total=len(volumes) * len(scales), unit="case", disable=None) as bar:
        for volume in volumes:
            for scale in scales:
                rows += evaluate_through_plane(models, volume, [scale], AXES[args.axis])
                bar.update(1)
    table = markdown_table(["volume", "scale", "method", "PSNR dB", "SSIM"], summary_table(rows))
    atomic_write_text(args.out / "metrics.json", json.dumps({"rows": rows}, indent=2))
    atomic_write_text(args.out / "table.md", table + "\n")
    print(table)
    print(f"wrote metrics.json and table.md to {args.out}")
    return 0


def run_upscale(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr upscale``: every input, each output checked before it is computed."""
    inputs, several = upscale_inputs(args.inputs)
    if several and args.out.exists() and not args.out.is_dir():
        raise InputError(f"{args.out}: several inputs need an output folder, and this is a file")
    if args.scale is None and not args.through_plane:
        raise InputError("give --scale (or --through-plane, whose scale --target-mm sets)")
    if args.target_mm is not None and not args.through_plane:
        raise InputError("--target-mm applies to --through-plane only")
    if args.target_mm is not None and args.scale is not None:
        raise InputError("give --scale or --target-mm, not both")
    predictor = SRPredictor.from_checkpoint(
        args.model, args.device, tile=args.tile, batch_size=args.batch_size
    )
    sources = {p.resolve() for p in inputs}
    written: dict[Path, Path] = {}
    for path in inputs:
        volume = read_volume(path, args.volume)
        _check_axis_used(path, volume, args.axis)
        if args.through_plane:
            axis = AXES[args.axis] if args.axis else slice_axis(volume)
            scale = predictor.check_scale(
                args.scale or through_plane_scale(volume, axis, args.target_mm), args.strict
            )
        else:
            axis = AXES[args.axis or "axial"] if volume.is_volume else 0
            scale = predictor.check_scale(args.scale, strict=args.strict)
        out = args.out / upscaled_name(path, volume, scale) if several else args.out
        way_out = (
            "write .npy" if args.dtype == "float32" else "write .npy, or .tif with --dtype float32"
        )
        check_written(out, volume, args.dtype, sources, way_out)
        target = out.resolve()
        if target in written:
            raise InputError(
                f"{path} and {written[target]} would both be written to {out}; "
                "upscale them into separate folders"
            )
        written[target] = path
        try:
            result = _upscaled(predictor, volume, scale, axis, args, path.name)
        except InputError as exc:
            raise naming(path, exc) from None
        write_result(out, result, args.dtype)
        how = f"across axis {axis}" if args.through_plane else "in-plane"
        print(
            f"{path} {list(volume.data.shape)} -> {out} {list(result.data.shape)} "
            f"(x{float(scale):g} {how}, {predictor.source})"
        )
    return 0


def _upscaled(
    predictor: SRPredictor,
    volume: Volume,
    scale: Fraction,
    axis: int,
    args: argparse.Namespace,
    name: str,
) -> Volume:
    """One input of ``sr upscale``, in-plane or through-plane, with a progress bar."""
    if args.through_plane:
        # a 2-D image gets the predictor's "needs a 3-D volume" error, not an IndexError here
        planes = sum(volume.data.shape[i] for i in range(3) if i != axis) if volume.is_volume else 0
        with tqdm(total=planes, unit="plane", desc=name, disable=None, leave=False) as bar:
            return predictor.upscale_through_plane(
                volume, scale, axis=axis, clip=args.clip, progress=bar.update
            )
    slices = volume.data.shape[axis] if volume.is_volume else 1
    with tqdm(total=slices, unit="slice", desc=name, disable=None, leave=False) as bar:
        result = predictor.upscale(volume, scale, axis=axis, clip=args.clip, progress=bar.update)
    assert isinstance(result, Volume)
    return result


def upscale_inputs(items: list[Path]) -> tuple[list[Path], bool]:
    """The files ``sr upscale`` reads, and whether there are (or may be) several. A folder holding
    NIfTI/NPY/PNG/TIFF files stands for them; any other folder is one DICOM series."""
    suffixes = (*NIFTI_SUFFIXES, ".npy", *IMAGE_SUFFIXES)
    expanded: list[Path] = []
    several = len(items) > 1
    for item in items:
        listed = item.is_dir() and any(p.name.lower().endswith(suffixes) for p in item.iterdir())
        if listed or GLOB_CHARS & set(str(item)):
            files, _ = expand_inputs([item], suffixes, stain=None, skip_predicted=False)
            expanded += files
            several = True
        elif not item.exists():
            raise InputError(f"{item}: no such file or folder")
        else:
            expanded.append(item)
    return expanded, several


def upscaled_name(path: Path, volume: Volume, scale: Fraction) -> str:
    """``<stem>_x<scale><suffix>``: NIfTI for volumes and DICOM, else the input's suffix."""
    if path.name.lower().endswith(".nii.gz"):
        stem, suffix = path.name[: -len(".nii.gz")], ".nii.gz"
    else:
        stem = path.stem
        suffix = ".nii.gz" if volume.is_volume or path.is_dir() else path.suffix.lower()
    return f"{stem}_x{float(scale):g}{suffix}"


def check_written(
    out: Path, volume: Volume, dtype: str, sources: AbstractSet[Path], way_out: str = "write .npy"
) -> None:
    """Refuse an output name that cannot hold the result (saying ``way_out``), or that is one of
    the inputs (``sources``, resolved), before computing it."""
    name = out.name.lower()
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file name")
    if out.exists() and out.resolve() in sources:
        raise InputError(f"{out}: is an input; write the result to another file")
    if volume.is_volume and not name.endswith(NIFTI_SUFFIXES):
        raise InputError(f"{out}: a volume is written as NIfTI (.nii or .nii.gz)")
    if not name.endswith((*NIFTI_SUFFIXES, ".npy", *IMAGE_SUFFIXES)):
        raise InputError(f"{out}: write a .nii(.gz), .npy, .tif or .png file")
    if not volume.is_volume and name.endswith(IMAGE_SUFFIXES):
        written = "float32" if dtype == "float32" else volume.dtype
        try:
            check_writable(out, written)
        except InputError as exc:
            raise InputError(f"{exc}; {way_out}") from None


def write_result(out: Path, result: Volume, dtype: str) -> Path:
    """Write an upscaled volume or plane in ``dtype`` (``keep``: the input's pixel type, and for
    NIfTI its stored scaling)."""
    if result.header is not None:
        return write_nifti(out, result.data, result.affine, like=result.header, dtype=dtype)
    data = result.data if dtype == "float32" else cast_to(result.data, result.dtype)
    if result.is_volume:
        return write_nifti(out, data, result.affine)
    return write_plane(out, data)


def run_export(args: argparse.Namespace) -> int:
    """Handle ``bioscope sr export``: weights, or the network at one scale as TorchScript or
    ONNX with a JSON sidecar, or as a bioimage.io package."""
    path = export_sr_model(args.checkpoint, args.out, args.format, args.scale)
    print_exported(path, args.format)
    return 0
