"""``bioscope cells predict | count | evaluate``: what a bioimage analyst runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from bioscope.cli.args import int_list
from bioscope.counting import METHODS
from bioscope.data.bbbc005 import index_bbbc005
from bioscope.errors import BioscopeError, InputError
from bioscope.evaluate.cells import DEFAULT_METHOD, count_cells, evaluate_cells, summarise
from bioscope.inference import CellModel, image_outputs, load_cell_model, predict_maps
from bioscope.io import atomic_write_text, read_image, write_image
from bioscope.io.tables import csv_text
from bioscope.models.checkpoint import export_weights, shipped_weights
from bioscope.report.cells import overlay, plot_examples, plot_mae_by_blur
from bioscope.report.tables import markdown_table


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``predict``, ``count`` and ``evaluate`` under ``cells``."""
    predict = sub.add_parser("predict", help="segment images: probability, mask, labels, overlay")
    predict.add_argument("images", nargs="+", type=Path, help="TIFF/PNG images, any size")
    predict.add_argument("--out", type=Path, required=True, help="output folder")
    _model_options(predict)
    predict.set_defaults(handler=run_predict)

    count = sub.add_parser("count", help="count cells in images; writes a CSV")
    count.add_argument("images", nargs="+", type=Path, help="TIFF/PNG images, any size")
    count.add_argument("--out", type=Path, required=True, help="CSV file (file, count, method)")
    _model_options(count)
    count.set_defaults(handler=run_count)

    evaluate = sub.add_parser("evaluate", help="score a model on a BBBC005-layout folder")
    evaluate.add_argument("--data", type=Path, required=True, help="BBBC005-layout folder")
    evaluate.add_argument("--out", type=Path, required=True, help="output folder")
    evaluate.add_argument(
        "--stain", type=int, choices=(1, 2), default=2, help="1 cell body, 2 nuclei (default)"
    )
    evaluate.add_argument("--blur", type=int_list, help="only these blur levels")
    evaluate.add_argument("--counts", type=int_list, help="only these nominal counts")
    _model_options(evaluate, several=True)
    evaluate.set_defaults(handler=run_evaluate)

    export = sub.add_parser("export", help="strip a training checkpoint to its weights")
    export.add_argument("checkpoint", type=Path, help="e.g. RUN/best.safetensors")
    export.add_argument("--out", type=Path, required=True, help="weights file to write")
    export.add_argument(
        "--threshold",
        type=float,
        help="mask threshold to record (choose it on validation data, not test)",
    )
    export.set_defaults(handler=run_export)


def _model_options(parser: argparse.ArgumentParser, several: bool = False) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        help="checkpoint from 'bioscope cells train' (default: the shipped model)",
    )
    methods = ", ".join(f"{k}: {v}" for k, v in METHODS.items())
    parser.add_argument(
        "--method",
        help=(
            "comma-separated counting methods; the first is the primary. "
            if several
            else "counting method. "
        )
        + f"{methods}. Default: {DEFAULT_METHOD}",
    )
    parser.add_argument(
        "--mode",
        choices=("resize", "native"),
        help="resize to the training square (the paper) or full resolution; "
        "default: as the model was trained",
    )


def _load(args: argparse.Namespace) -> tuple[CellModel, list[str]]:
    model = load_cell_model(args.model if args.model else shipped_weights("cells"))
    methods = args.method.split(",") if args.method else [DEFAULT_METHOD]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown counting method {unknown[0]!r}; known: {', '.join(METHODS)}")
    return model, methods


def _check_unique_stems(images: list[Path]) -> None:
    stems: dict[str, Path] = {}
    for path in images:
        if path.stem in stems:
            raise InputError(f"{path} and {stems[path.stem]} would write the same output names")
        stems[path.stem] = path


def run_predict(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells predict``: per image, four files; bad images are reported and
    skipped, the good ones are still written."""
    model, methods = _load(args)
    _check_unique_stems(args.images)
    failed = 0
    for path in args.images:
        try:
            raw = read_image(path)
            maps = predict_maps(model, raw, args.mode)
            result = count_cells(maps, methods[0], model.threshold)
            out = image_outputs(path, args.out)
            write_image(out["prob"], maps[0])
            write_image(out["mask"], ((maps[0] > model.threshold) * 255).astype("uint8"))
            write_image(out["labels"], result.labels.astype("uint16"), compress=True)
            write_image(out["overlay"], overlay(raw, result.labels, result.count))
            print(f"{path}: {result.count} cells ({methods[0]}) -> {out['overlay']}")
        except BioscopeError as exc:
            print(f"bioscope: error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def run_count(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells count``: one CSV row per readable image."""
    model, methods = _load(args)
    rows, failed = [], 0
    for path in tqdm(args.images, unit="img", desc="count", disable=None):
        try:
            maps = predict_maps(model, read_image(path), args.mode)
            rows.append(
                {
                    "file": str(path),
                    "count": count_cells(maps, methods[0]).count,
                    "method": methods[0],
                }
            )
        except BioscopeError as exc:
            tqdm.write(f"bioscope: error: {exc}", file=sys.stderr)
            failed += 1
    if rows:
        atomic_write_text(args.out, csv_text(rows))
        print(f"wrote {len(rows)} counts to {args.out}")
    return 1 if failed else 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Handle ``bioscope cells evaluate``."""
    model, methods = _load(args)
    records = index_bbbc005(args.data, stains=[args.stain], blurs=args.blur, counts=args.counts)
    with tqdm(total=len(records), unit="img", desc="evaluate", disable=None) as bar:
        evaluation = evaluate_cells(model, records, methods, args.mode, bar.update)
    summary = {"model": model.source, "data": str(args.data), **summarise(evaluation, methods)}
    out = args.out
    atomic_write_text(out / "metrics.json", json.dumps(summary, indent=2))
    atomic_write_text(out / "per_image.csv", csv_text(evaluation.rows))
    plot_mae_by_blur(summary["methods"], summary["cellprofiler_count_mae"], out / "mae_by_blur.png")
    if evaluation.examples:
        plot_examples(evaluation.examples, out / "examples.png")
    print(evaluation_table(summary))
    print(f"wrote metrics.json, per_image.csv, mae_by_blur.png, examples.png to {out}")
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
    """Handle ``bioscope cells export``."""
    path = export_weights(args.checkpoint, args.out, "segmentation", threshold=args.threshold)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
