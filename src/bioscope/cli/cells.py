"""``bioscope cells ...``: cell data, segmentation and counting."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from bioscope.cli import cells_predict
from bioscope.cli.args import add_out, default_workers, int_list, positive_int, run_config
from bioscope.data.bbbc005 import (
    BBBC005_BLURS,
    BBBC005_COUNTS,
    BBBC005_SITES,
    IMAGES_DIR,
    MASKS_DIR,
    TRUTH_DIR,
)
from bioscope.data.real_nuclei import SOURCES, extract_source
from bioscope.data.synthetic import (
    SimulationPlan,
    SimulationSummary,
    simulate_bbbc005,
    simulate_randomised_folder,
)
from bioscope.device import DEVICES
from bioscope.models import list_models
from bioscope.train.config import from_dict
from bioscope.train.segmentation import CellTrainConfig, train_cells


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``cells`` and its sub-commands."""
    cells = commands.add_parser("cells", help="cell segmentation and counting")
    sub = cells.add_subparsers(dest="cells_command", required=True, metavar="COMMAND")
    sim = sub.add_parser(
        "simulate",
        help="write a simulated BBBC005-layout folder, or randomised nuclei fields",
        description="Simulate SIMCEP-style fluorescence fields laid out exactly like BBBC005, "
        "with F1 masks, instance labels and true counts; or, with --randomised N, N nuclei fields "
        "of random size, shape, texture, optics and camera (8/12/16-bit) in Cellpose layout "
        "(<name>.tif beside <name>_masks.tif).",
    )
    add_out(sim, "folder", "destination folder (made if missing)")
    sim.add_argument(
        "--counts",
        type=int_list,
        default=BBBC005_COUNTS,
        help="cells per field (default: BBBC005's 24 counts)",
    )
    sim.add_argument(
        "--blur",
        type=int_list,
        default=BBBC005_BLURS,
        help="focus-blur diameters F (default: BBBC005's 16 levels)",
    )
    sim.add_argument(
        "--sites",
        type=positive_int,
        default=BBBC005_SITES,
        help=f"fields per count (default {BBBC005_SITES})",
    )
    sim.add_argument(
        "--randomised",
        type=positive_int,
        metavar="N",
        help="write N randomised fields in Cellpose layout instead of BBBC005",
    )
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--workers",
        type=positive_int,
        default=default_workers(),
        help="worker processes (default: one per core)",
    )
    sim.set_defaults(handler=run_simulate)

    extract = sub.add_parser(
        "extract",
        help="write a real annotated data source to a folder (Cellpose layout)",
        description="Write the images and instance masks of a real data source that ships in an "
        "installed package to a folder: NAME (every frame), NAME:train or NAME:test (its fixed "
        f"split by image). Known: {', '.join(SOURCES)}.",
    )
    extract.add_argument("source", help="NAME, NAME:train or NAME:test")
    add_out(extract, "folder", "destination folder (made if missing)")
    extract.set_defaults(handler=run_extract)

    train = sub.add_parser(
        "train",
        help="train a segmentation model on a BBBC005-layout folder or your images and masks",
        description="Train on the F1 images (and masks) of a simulated or real BBBC005 folder, "
        "split by field, or (--masks / --layout folder) on any images with their masks, split "
        "by image; writes config.yaml, metrics.csv, last/best checkpoints and "
        "test_metrics.json to the run folder. Multi-process: torchrun --nproc_per_node N "
        "-m bioscope.cli.main cells train ...",
    )
    train.add_argument(
        "--data", type=Path, required=True, help="BBBC005-layout folder, or a folder of images"
    )
    train.add_argument(
        "--layout",
        choices=("bbbc005", "folder", "mix"),
        help="folder: images with Cellpose-style masks (<name>_masks.png beside each image); "
        "mix: one sub-folder per source (either layout), drawn equally",
    )
    train.add_argument(
        "--masks", type=Path, help="folder of same-named masks (implies --layout folder)"
    )
    train.add_argument(
        "--model",
        help=f"model name (default fft-unet; known: {', '.join(list_models('segmentation'))})",
    )
    add_out(train, "folder", "run folder (made if missing)")
    train.add_argument("--config", type=Path, help="YAML configuration (see configs/)")
    train.add_argument("--epochs", type=positive_int, help="total epochs")
    train.add_argument("--size", type=positive_int, help="side of the resized square input")
    train.add_argument("--batch-size", type=positive_int, help="images per step and process")
    train.add_argument("--seed", type=int, help="seed of weights, data order, augmentation")
    train.add_argument(
        "--device", choices=DEVICES, help="auto (default: CUDA when present), cpu, cuda"
    )
    train.add_argument(
        "--init",
        type=Path,
        help="start from these weights (a cell checkpoint of the same model), e.g. to fine-tune",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from last.safetensors (its config.yaml "
        "is the default configuration)",
    )
    train.set_defaults(handler=run_train)
    cells_predict.add_parsers(sub)


def run_simulate(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells simulate``."""
    if args.randomised:
        with tqdm(total=args.randomised, unit="img", desc="simulate", disable=None) as bar:
            simulate_randomised_folder(
                args.out, args.randomised, args.seed, workers=args.workers, progress=bar.update
            )
        print(f"wrote {args.randomised} randomised fields and their masks to {args.out}")
        return 0
    plan = SimulationPlan(counts=args.counts, blurs=args.blur, sites=args.sites, seed=args.seed)
    summary = simulate(args.out, plan, args.workers)
    print_summary(summary)
    return 0


def run_extract(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells extract``."""
    extract_source(args.source, args.out)
    print(f"wrote {args.source} to {args.out}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells train``."""
    raw, source = run_config(args)
    raw.pop("data_root", None)
    raw.pop("init", None)
    config = from_dict(CellTrainConfig, raw, where=source)
    if args.model:
        if args.model != config.model.name:
            config.model.args = {}
        config.model.name = args.model
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "device": args.device,
    }
    for key, value in overrides.items():
        if value is not None:
            setattr(config.train, key, value)
    if args.size is not None:
        config.data.size = args.size
    if args.masks is not None:
        config.data.layout, config.data.masks = "folder", str(args.masks)
    elif args.layout is not None:
        config.data.layout = args.layout
    result = train_cells(args.data, args.out, config, init=args.init, resume=args.resume)
    if result.test:
        print(f"best epoch {result.best_epoch}: {config.train.monitor} {result.best:.4f}")
        print(
            "held-out test fields: "
            + ", ".join(
                f"{k} {v:.4f}"
                for k, v in result.test.items()
                if k.startswith("test_") and k != "test_images"
            )
        )
        print(f"run written to {args.out}")
    return 0


def simulate(out: Path, plan: SimulationPlan, workers: int) -> SimulationSummary:
    """Run the simulator with a progress bar on a terminal."""
    with tqdm(total=plan.n_images, unit="img", desc="simulate", disable=None) as bar:
        return simulate_bbbc005(out, plan, workers=workers, progress=bar.update)


def print_summary(summary: SimulationSummary) -> None:
    """Say what a simulation wrote, and where."""
    root = summary.root
    print(f"wrote {summary.images} images to {root / IMAGES_DIR}")
    print(f"wrote {summary.masks} F1 ground-truth masks (0/255) to {root / MASKS_DIR}")
    print(f"wrote {summary.labels} instance-label images and cells.csv to {root / TRUTH_DIR}")
    print(
        f"cells placed: {summary.placed_cells} of {summary.requested_cells} requested "
        f"({summary.short_fields} fields fell short of their requested count)"
    )
