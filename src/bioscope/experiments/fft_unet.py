"""The cells paper's experiment, re-run: U-Net with and without the Fourier input block.

Same simulated data (field split), same seeds, same budget for every model. Outputs, in ``out``:
``table_1.md`` / ``table_1.csv`` (the paper's Table I analog), ``curves.png`` (Fig. 7: loss and
IoU per epoch), ``masks.png`` (Fig. 5: predicted masks), ``local_maxima.png`` and ``dbscan.png``
(Figs. 8 and 9: the paper's counting steps), ``results.json`` (everything, with wall time), and the
data and runs themselves under ``data/`` and ``runs/``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from bioscope.data.bbbc005 import BBBC005_COUNTS, index_bbbc005, split_by_field
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
from bioscope.inference.cells import CellPredictor
from bioscope.io import atomic_write_text, read_image
from bioscope.io.tables import csv_text
from bioscope.models import create_model
from bioscope.report.experiments import plot_curves, plot_dbscan, plot_local_maxima, plot_masks
from bioscope.report.tables import markdown_table
from bioscope.train.loop import TrainConfig
from bioscope.train.segmentation import (
    CellDataConfig,
    CellTrainConfig,
    ModelSpec,
    OptimConfig,
    train_cells,
)
from bioscope.train.timing import interleaved_step_times

#: The compared models: the plain U-Net, the paper's block read literally, bioscope's block.
MODELS = {
    "unet": ModelSpec("unet"),
    "fft-unet (paper: real part, random init)": ModelSpec(
        "fft-unet", {"variant": "real", "init": "random"}
    ),
    "fft-unet (reim, identity init)": ModelSpec("fft-unet", {"variant": "reim"}),
}


@dataclass
class ReproduceConfig:
    """Data and budget of the experiment."""

    sites: int = 25
    size: int = 256
    epochs: int = 100
    batch_size: int = 16
    loss: str = "dice"
    seed: int = 0
    data_seed: int = 2020
    models: dict[str, ModelSpec] = field(default_factory=lambda: dict(MODELS))


QUICK = ReproduceConfig(sites=2, size=128, epochs=12, batch_size=8, loss="bce_dice")


def reproduce_fft_unet(
    out: str | Path, config: ReproduceConfig, workers: int = 1, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the experiment; return (and write) its results."""
    out = Path(out)
    start = time.perf_counter()
    plan = SimulationPlan(
        counts=BBBC005_COUNTS, blurs=(1,), sites=config.sites, seed=config.data_seed
    )
    log(f"simulating {plan.n_images} images ({len(plan.fields)} fields at F1) ...")
    simulate_bbbc005(out / "data", plan, workers=workers)
    results: dict[str, Any] = {"config": _plain(config), "models": {}}
    for label, spec in config.models.items():
        log(f"training {label} for {config.epochs} epochs ...")
        run = out / "runs" / _slug(label)
        fit = train_cells(out / "data", run, _train_config(config, spec))
        best = next(r for r in fit.rows if r["epoch"] == fit.best_epoch)
        results["models"][label] = {
            "best": best,
            "test": fit.test,
            "rows": fit.rows,
            "run": str(run),
        }
    log("timing train steps, interleaved ...")
    torch.manual_seed(config.seed)
    nets = {label: create_model(spec.name, **spec.args) for label, spec in config.models.items()}
    times = interleaved_step_times(nets, config.size, config.batch_size, repeats=5)
    for label, samples in times.items():
        results["models"][label]["interleaved_ms_per_step"] = statistics.median(samples)
    results["wall_seconds"] = time.perf_counter() - start
    _write(out, results)
    return results


def table_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Rows of the Table I analog."""
    rows = []
    for label, model in results["models"].items():
        best, test = model["best"], model["test"]
        rows.append(
            [
                label,
                best["val_iou"],
                best["val_dice"],
                best["val_paper_mean_iou"],
                best["val_loss"],
                test.get("test_iou", float("nan")),
                best["ms_per_step"],
                model["interleaved_ms_per_step"],
            ]
        )
    return rows


TABLE_HEADER = [
    "model",
    "val foreground IoU",
    "val Dice",
    "val paper mean IoU",
    "val loss",
    "test foreground IoU",
    "ms/step (training log)",
    "ms/step (interleaved)",
]


def _train_config(config: ReproduceConfig, spec: ModelSpec) -> CellTrainConfig:
    return CellTrainConfig(
        model=ModelSpec(spec.name, dict(spec.args)),
        data=CellDataConfig(stain=2, blurs=(1,), size=config.size, augment=True),
        optim=OptimConfig(loss=config.loss, lr=1e-3),
        train=TrainConfig(
            epochs=config.epochs,
            batch_size=config.batch_size,
            seed=config.seed,
            monitor="val_iou",
            mode="max",
            progress=False,
        ),
    )


def _write(out: Path, results: dict[str, Any]) -> None:
    rows = table_rows(results)
    atomic_write_text(out / "table_1.md", markdown_table(TABLE_HEADER, rows) + "\n")
    atomic_write_text(
        out / "table_1.csv", csv_text([dict(zip(TABLE_HEADER, r, strict=True)) for r in rows])
    )
    atomic_write_text(out / "results.json", json.dumps(results, indent=2, default=str))
    plot_curves({k: v["rows"] for k, v in results["models"].items()}, out / "curves.png")
    records = index_bbbc005(out / "data", stains=[2])
    test = split_by_field(records, seed=0)["test"]
    example = max((r for r in test if r.mask is not None), key=lambda r: r.name.count)
    raw, truth = read_image(example.image), read_image(example.mask) > 0
    probs, threshold = {}, 0.5
    for label, model in results["models"].items():
        predictor = CellPredictor.from_checkpoint(Path(model["run"]) / "best.safetensors")
        probs[label], threshold = predictor.segment(raw).maps[0], predictor.spec.threshold
    plot_masks(raw, truth, probs, out / "masks.png", title=example.image.name)
    chosen = probs[list(probs)[-1]]
    plot_local_maxima(chosen, threshold, out / "local_maxima.png")
    plot_dbscan(chosen, example.true_count, threshold, out / "dbscan.png")


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label).strip("-").replace("--", "-")


def _plain(config: ReproduceConfig) -> dict[str, Any]:
    return {
        **{k: v for k, v in vars(config).items() if k != "models"},
        "models": {k: {"name": v.name, "args": v.args} for k, v in config.models.items()},
    }
