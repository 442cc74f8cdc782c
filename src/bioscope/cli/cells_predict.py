"""``bioscope cells predict | count | evaluate | export``: what a bioimage analyst runs.

All three segment through one :class:`~bioscope.inference.cells.CellPredictor`, so the same file
gives the same count whichever command reads it. ``predict`` and ``count`` take files, folders
and glob patterns; images of one size go through the network together (``--batch-size``); a bad
image is reported on one line and skipped, and every output is written atomically, so an
interrupted run leaves whole files only; the CSV of ``count`` grows a row at a time instead, so
that ``--resume`` can go on from a killed run (:mod:`bioscope.inference.plates`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bioscope.cli.args import add_out, int_list, non_negative_int, positive_int
from bioscope.cli.exporting import add_export_arguments, print_exported
from bioscope.cli.inputs import expand_inputs, parse_stain
from bioscope.counting import METHODS
from bioscope.data.bbbc005 import IMAGES_DIR, index_bbbc005
from bioscope.data.cells import CellPair, pairs_from_folders
from bioscope.data.real_nuclei import SOURCES, extract_source, is_source
from bioscope.device import DEVICES, resolve_device
from bioscope.errors import BioscopeError, InputError
from bioscope.evaluate.cells import evaluate_cells, summarise
from bioscope.evaluate.folder import evaluate_folder, summarise_folder
from bioscope.inference.cells import CellPredictor
from bioscope.inference.dask_plates import PredictorRecipe, dask_counts
from bioscope.inference.files import ImageCount, count_files, segment_files
from bioscope.inference.formats import export_cell_model
from bioscope.inference.plates import CountTable
from bioscope.io import IMAGE_SUFFIXES, atomic_write_text, write_image
from bioscope.io.folders import PREDICT_OUTPUTS
from bioscope.io.tables import csv_text
from bioscope.report.cells import (
    overlay,
    plot_examples,
    plot_mae_by_blur,
    plot_truth_and_prediction,
)
from bioscope.report.tables import markdown_table

EMPTY_NOTE = "looks empty (nothing stands above its noise); its count is not meaningful"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``predict``, ``count``, ``evaluate`` and ``export`` under ``cells``."""
    predict = sub.add_parser("predict", help="segment images: probability, mask, labels, overlay")
    _inputs(predict)
    add_out(predict, "folder", "output folder (made if missing)")
    _model_options(predict)
    predict.set_defaults(handler=run_predict)

    count = sub.add_parser(
        "count",
        help="count cells in images; writes a CSV",
        description="One row per image (file, count, method), appended as each is counted, "
        "so a killed run keeps its rows (--resume goes on from them), and put in input order "
        "at the end. --dask spreads the images over a Dask cluster; the CSV is the same.",
    )
    _inputs(count)
    add_out(count, "file", "CSV file (file, count, method)", suffixes=(".csv",))
    _model_options(count)
    _plate_options(count)
    count.set_defaults(handler=run_count)

    evaluate = sub.add_parser(
        "evaluate",
        help="score a model on a BBBC005-layout folder or any images with instance masks",
        description="A BBBC005-layout folder (simulated or real): counts by blur level, masks, "
        "objects. Any other folder is read as images with Cellpose-style masks "
        "(<name>_masks.png beside each image, or same-named files in --masks): foreground IoU, "
        "object precision/recall/F1 at IoU 0.5, StarDist's AP over IoU 0.5..0.9, count errors, "
        "and a figure of true (green) and predicted (red) outlines.",
    )
    evaluate.add_argument(
        "--data",
        type=Path,
        required=True,
        help="BBBC005-layout folder, a folder of images with masks, or a real data source that "
        f"ships in an installed package ({', '.join(SOURCES)}; NAME:test for its held-out "
        "frames, NAME:train for the others)",
    )
    evaluate.add_argument("--masks", type=Path, help="folder of same-named instance masks")
    add_out(evaluate, "folder", "output folder (made if missing)")
    evaluate.add_argument(
        "--stain", type=int, choices=(1, 2), default=2, help="1 cell body, 2 nuclei (default)"
    )
    evaluate.add_argument("--blur", type=int_list, help="only these blur levels (BBBC005 layout)")
    evaluate.add_argument(
        "--counts", type=int_list, help="only these nominal counts (BBBC005 layout)"
    )
    _model_options(evaluate, several=True)
    evaluate.set_defaults(handler=run_evaluate)

    export = sub.add_parser(
        "export",
        help="write a model's weights, its network as TorchScript or ONNX, or a bioimage.io "
        "package",
        description="safetensors (default): strip a training checkpoint to its weights. "
        "torchscript (.pt) or onnx (.onnx): the network alone, taking (N, 1, H, W) float32 "
        "images normalised as bioscope normalises them (any H and W of at least 16) and "
        "returning its logits; <file>.json beside it holds the inference spec and says how to "
        "prepare the input. ONNX export needs pip install 'bioscope[export]'. bioimageio "
        "(.zip): a bioimage.io model package for deepImageJ, ilastik, QuPath and "
        "bioimageio.core (TorchScript and state-dict weights, percentile normalisation, "
        "probabilities out; its README says how it differs from bioscope); needs pip install "
        "'bioscope[bioimageio]'.",
    )
    add_export_arguments(export)
    export.add_argument(
        "--threshold",
        type=float,
        help="mask threshold to record (choose it on validation data, not test)",
    )
    export.add_argument(
        "--method",
        choices=METHODS,
        help="default counting method to record (choose it on validation data, not test)",
    )
    export.add_argument(
        "--estimate-diameter",
        action=argparse.BooleanOptionalAction,
        help="record whether the model estimates the nucleus diameter of images when none is "
        "given (a model trained at one diameter should)",
    )
    export.set_defaults(handler=run_export)


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "images",
        nargs="+",
        type=Path,
        help="TIFF/PNG images, folders of them (leaving out Cellpose *_masks files and the "
        "_prob/_mask/_labels/_overlay files cells predict wrote beside an image), or glob patterns",
    )
    parser.add_argument(
        "--stain",
        choices=("1", "2", "all"),
        default="2",
        help="BBBC005-style names (..._w1/_w2.TIF) in folders and patterns: keep w2 nuclei "
        "(default), w1 cell bodies, or all",
    )


def _model_options(parser: argparse.ArgumentParser, several: bool = False) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        help="checkpoint from 'bioscope cells train' or 'cells export' (default: shipped model)",
    )
    methods = ", ".join(f"{k}: {v}" for k, v in METHODS.items())
    parser.add_argument(
        "--method",
        help=(
            "comma-separated counting methods; the first is the primary. "
            if several
            else "counting method. "
        )
        + f"{methods}. Default: the model's",
    )
    parser.add_argument(
        "--mode",
        choices=("resize", "native"),
        help="resize to the training square (the paper) or full resolution; "
        "default: as the model was trained",
    )
    parser.add_argument(
        "--threshold", type=float, help="mask probability threshold (default: the model's)"
    )
    parser.add_argument(
        "--diameter",
        help="typical nucleus diameter in pixels (images are rescaled so nuclei appear at the "
        "model's training diameter, by 1/8 to 8 times), or auto (estimated per image, no "
        "network); with none given, the model's spec decides (the shipped model takes images "
        "as they are) and --method classic estimates it",
    )
    parser.add_argument(
        "--channel",
        type=non_negative_int,
        help="the nuclear stain's channel (0-based) of multi-channel files: of RGB (2: blue) or "
        "(C, H, W) TIFFs (the axis ImageJ/OME metadata names C); default: grey as is, RGB as "
        "its luminance",
    )
    parser.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto (CUDA when present), cpu, cuda"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=4, help="images or tiles per network call"
    )


def _predictor(
    args: argparse.Namespace, device: str | None = None
) -> tuple[CellPredictor, list[str]]:
    """The predictor the arguments ask for, on ``device`` (default: ``--device``), and the
    counting methods to run."""
    methods = args.method.split(",") if args.method else []
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown counting method {unknown[0]!r}; known: {', '.join(METHODS)}")
    predictor = CellPredictor.from_checkpoint(
        args.model,
        device or args.device,
        threshold=args.threshold,
        method=methods[0] if methods else None,
        mode=args.mode,
        batch_size=args.batch_size,
    )
    predictor.check_diameter(args.diameter)  # one error for the run, not one per image
    return predictor, methods or [predictor.spec.method]


def _images(args: argparse.Namespace) -> list[Path]:
    images, note = expand_inputs(args.images, IMAGE_SUFFIXES, parse_stain(args.stain))
    if note:
        print(f"bioscope: note: {note}", file=sys.stderr)
    return images


def image_outputs(path: Path, out: Path) -> dict[str, Path]:
    """Where ``bioscope cells predict`` writes the outputs of image ``path`` in folder ``out``."""
    return {kind: out / f"{path.stem}_{kind}{end}" for kind, end in PREDICT_OUTPUTS.items()}


def _check_unique_stems(images: list[Path]) -> None:
    stems: dict[str, Path] = {}
    for path in images:
        if path.stem in stems:
            raise InputError(f"{path} and {stems[path.stem]} would write the same output names")
        stems[path.stem] = path


def run_predict(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells predict``: per image, four files; bad images are reported and
    skipped, the good ones are still written."""
    images = _images(args)
    _check_unique_stems(images)
    predictor, _ = _predictor(args)
    failed = 0
    for path, raw, result in segment_files(
        predictor, images, args.diameter, args.batch_size, args.channel
    ):
        if isinstance(result, BioscopeError):
            print(f"bioscope: error: {result}", file=sys.stderr)
            failed += 1
            continue
        if result.empty:
            print(f"bioscope: warning: {path}: {EMPTY_NOTE}", file=sys.stderr)
        out = image_outputs(path, args.out)
        write_image(out["prob"], result.maps[0])
        write_image(out["mask"], (result.mask * 255).astype("uint8"))
        write_image(out["labels"], result.labels.astype("uint16"), compress=True)
        write_image(out["overlay"], overlay(raw, result.labels, result.count))
        print(f"{path}: {result.count} cells ({result.method}) -> {out['overlay']}")
    return 1 if failed else 0


def _plate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dask",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="count on a Dask cluster: the scheduler at ADDRESS (e.g. tcp://host:8786; its "
        "workers need bioscope and the same paths), or with no address a local cluster of "
        "--workers processes. Put it after the images. Needs pip install 'bioscope[dask]'",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        help="worker processes of the local Dask cluster, one thread each (default 2)",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="the CSV holds counts of an earlier run of these images (killed, or with images "
        "added since): count only the images it lacks. Its method column must match; the "
        "model, threshold, --diameter and --channel are not recorded, so keep them the same",
    )
    again.add_argument(
        "--overwrite", action="store_true", help="count every image again into an existing CSV"
    )


def run_count(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells count``: one CSV row per readable image, appended as each is
    counted (here or on Dask) and put in input order at the end; with ``--resume`` only the
    images the CSV lacks are counted."""
    images = _images(args)
    if args.dask == "":  # a local cluster: its workers use this machine's devices
        resolve_device(args.device)
    # on Dask the workers build their own predictors; here only its spec is needed
    predictor, _ = _predictor(args, "cpu" if args.dask is not None else None)
    with CountTable(
        args.out,
        [str(p) for p in images],
        predictor.spec.method,
        resume=args.resume,
        overwrite=args.overwrite,
    ) as table:
        todo = [Path(f) for f in table.todo]
        if len(todo) < len(images):
            print(
                f"bioscope: note: resuming {args.out}: {len(images) - len(todo)} of "
                f"{len(images)} images are counted there already; counting the other {len(todo)}",
                file=sys.stderr,
            )
        with _counts(args, predictor, todo) as counts:
            failed = _add_counts(table, counts, len(todo))
        written = table.finish()
    if written:
        print(f"wrote {written} counts to {args.out}")
    return 1 if failed else 0


def _counts(
    args: argparse.Namespace, predictor: CellPredictor, paths: list[Path]
) -> contextlib.AbstractContextManager[Iterator[ImageCount]]:
    """The counts of ``paths`` as they finish: here in order, or on Dask with ``--dask``."""
    if args.dask is None or not paths:
        return contextlib.nullcontext(
            count_files(predictor, paths, args.diameter, args.batch_size, args.channel)
        )
    if args.dask and Path(args.dask).exists():
        raise InputError(
            f"--dask took {args.dask!r} for a scheduler address, but it is a file or folder: "
            "put --dask after the images, or write --dask=ADDRESS"
        )
    recipe = PredictorRecipe.of(predictor, args.model, args.device)
    return dask_counts(args.dask or None, args.workers, recipe, paths, args.diameter, args.channel)


def _add_counts(table: CountTable, counts: Iterator[ImageCount], total: int) -> int:
    """Stream ``counts`` into ``table``, reporting bad and empty images; return how many
    failed."""
    failed = 0
    for count in tqdm(counts, total=total, unit="img", desc="count", disable=None):
        if count.error:
            tqdm.write(f"bioscope: error: {count.error}", file=sys.stderr)
            failed += 1
            continue
        if count.empty:
            tqdm.write(f"bioscope: warning: {count.file}: {EMPTY_NOTE}", file=sys.stderr)
        table.add(count)
    return failed


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells evaluate``: BBBC005 layout, or a folder of images with masks."""
    if args.masks is not None or not (args.data / IMAGES_DIR).is_dir():
        return run_evaluate_folder(args)
    if args.channel is not None:
        raise InputError(
            f"--channel is for multi-channel files; {args.data} holds BBBC005's grey ones"
        )
    predictor, methods = _predictor(args)
    records = index_bbbc005(args.data, stains=[args.stain], blurs=args.blur, counts=args.counts)
    with tqdm(total=len(records), unit="img", desc="evaluate", disable=None) as bar:
        evaluation = evaluate_cells(predictor, records, methods, bar.update, args.diameter)
    scores = summarise(evaluation, methods)
    summary = _write_evaluation(args, predictor, scores, evaluation.rows)
    out = args.out
    plot_mae_by_blur(summary["methods"], summary["cellprofiler_count_mae"], out / "mae_by_blur.png")
    if evaluation.examples:
        plot_examples(evaluation.examples, out / "examples.png")
    print(evaluation_table(summary))
    print(f"wrote metrics.json, per_image.csv, mae_by_blur.png, examples.png to {out}")
    return 0


def _write_evaluation(
    args: argparse.Namespace,
    predictor: CellPredictor,
    scores: dict[str, Any],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """Write ``metrics.json`` (what was run on what, then ``scores``) and ``per_image.csv``."""
    summary = {
        "model": predictor.source,
        "data": str(args.data),
        "threshold": predictor.spec.threshold,
        "diameter": args.diameter,
        "channel": args.channel,
        **scores,
    }
    atomic_write_text(args.out / "metrics.json", json.dumps(summary, indent=2))
    atomic_write_text(args.out / "per_image.csv", csv_text(rows))
    return summary


def run_evaluate_folder(args: argparse.Namespace) -> int:
    """``bioscope cells evaluate`` on images with instance masks (Cellpose layout), or on a
    named real data source, extracted to a temporary folder first."""
    exists = args.data.exists() or is_source(str(args.data))
    if exists and (args.blur is not None or args.counts is not None):
        raise InputError(
            f"--blur and --counts pick BBBC005 images by their file names; {args.data} is "
            "images with masks, which have neither: leave them out"
        )
    if not args.data.exists() and is_source(str(args.data)):
        with tempfile.TemporaryDirectory() as scratch:
            extract_source(str(args.data), scratch)
            return _evaluate_pairs(args, pairs_from_folders(scratch))
    return _evaluate_pairs(args, pairs_from_folders(args.data, args.masks))


def _evaluate_pairs(args: argparse.Namespace, pairs: list[CellPair]) -> int:
    predictor, methods = _predictor(args)
    with tqdm(total=len(pairs), unit="img", desc="evaluate", disable=None) as bar:
        evaluation = evaluate_folder(
            predictor, pairs, methods, args.diameter, bar.update, args.channel
        )
    scores = summarise_folder(evaluation, methods)
    summary = _write_evaluation(args, predictor, scores, evaluation.rows)
    out = args.out
    plot_truth_and_prediction(evaluation.examples, out / "overlays.png")
    rows = [
        [name, m["foreground_iou"], m["precision"], m["recall"], m["f1"], m["ap"], m["count_mape"]]
        for name, m in summary["methods"].items()
    ]
    header = ["method", "foreground IoU", "precision@0.5", "recall@0.5", "F1@0.5", "AP 0.5..0.9"]
    print(markdown_table([*header, "count error %"], rows))
    for name, m in summary["methods"].items():
        print(
            f"{name}: {m['unlabelled_predictions']} predicted objects touch no labelled pixel, "
            f"{m['unlabelled_bright']} of them at least half as bright as the labelled ones "
            f"(foreground IoU without them {m['foreground_iou_labelled']:.3f})"
        )
    print(f"wrote metrics.json, per_image.csv, overlays.png to {out}")
    return 0


def evaluation_table(summary: dict) -> str:
    """The headline numbers of an evaluation as a Markdown table."""
    rows = []
    for name, method in summary["methods"].items():
        f1 = method["count_mae_by_blur"].get("1", float("nan"))
        rows.append(
            [
                name,
                method["count_mae"],
                f1,
                method["count_mean_signed_error"],
                method.get("object_f1", float("nan")),
            ]
        )
    table = markdown_table(
        ["method", "count MAE (all)", "count MAE (F1)", "mean signed error", "object F1"], rows
    )
    seg = (
        f"foreground IoU at F1 {summary.get('foreground_iou', float('nan')):.3f}, "
        f"Dice {summary.get('dice', float('nan')):.3f}, "
        f"paper mean IoU {summary.get('paper_mean_iou', float('nan')):.3f}"
    )
    return f"{table}\n{seg}"


def run_export(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells export``: weights, the network as TorchScript or ONNX with a
    JSON sidecar, or a bioimage.io package; the spec overrides go into each."""
    overrides = {
        "threshold": args.threshold,
        "method": args.method,
        "estimate_diameter": args.estimate_diameter,
    }
    path = export_cell_model(args.checkpoint, args.out, args.format, **overrides)
    print_exported(path, args.format)
    return 0
