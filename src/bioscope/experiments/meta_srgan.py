"""The Meta-SRGAN paper's experiment, re-run on the built-in MRI slices: Table 1 and Fig. 8.

EDSR-baseline x2, SRGAN x2 and Meta-SRGAN (one network for every scale 1.1..4.0) are trained with
one recipe and budget (L1, the same patches, batch and updates; optionally natural-image
pretraining on scikit-image's photographs first) and scored with bicubic on the held-out test
slices of the template. The shipped Meta-SRGAN is scored beside them under its own label.

Outputs, in ``out``: ``table_1.md`` / ``table_1.csv`` (x2: PSNR and SSIM, mean and std, and
parameter counts), ``table.md`` and ``metrics.json`` (every scale), ``per_slice.csv``,
``comparison.png`` (Fig. 7), ``scale_sweep.png`` (Fig. 8), ``results.json`` (with wall time) and
the training runs under ``runs/``. The paper's LR is bicubic; the same scoring under bioscope's
other degradations (k-space truncation as a scanner acquires, thick slices along one axis, where
only anisotropic models and interpolation take part) goes to ``out/<degradation>/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from bioscope.data.degradations import Kind
from bioscope.data.superres import PatchConfig, builtin_slices
from bioscope.inference.superres import SRPredictor
from bioscope.io import atomic_write_text
from bioscope.io.tables import csv_text
from bioscope.report.superres import write_sr_evaluation
from bioscope.report.tables import markdown_table
from bioscope.train.loop import TrainConfig
from bioscope.train.segmentation import ModelSpec
from bioscope.train.superres import (
    SRDataConfig,
    SRLossConfig,
    SROptimConfig,
    SRTrainConfig,
    train_superres,
)

#: The trained models and the scales each trains on (``[low, high, step]``).
MODELS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "edsr-baseline x2": ("edsr-baseline", (2.0, 2.0, 1.0)),
    "srgan x2": ("srgan", (2.0, 2.0, 1.0)),
    "meta-srgan": ("meta-srgan", (1.1, 4.0, 0.1)),
}
SHIPPED_LABEL = "meta-srgan (shipped)"


@dataclass
class SRReproduceConfig:
    """Budget of the experiment: the same for every trained model.

    The default is the shipped model's recipe (configs/sr-pretrain.yaml then sr-default.yaml).
    """

    pretrain_epochs: int = 20
    epochs: int = 40
    patch: int = 48
    batch_size: int = 16
    lr: float = 2e-4
    decay_every: int = 1000
    per_slice: int = 16
    scales: tuple[float, ...] = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
    seed: int = 0
    with_shipped: bool = True
    degradations: tuple[Kind, ...] = ("bicubic", "kspace", "slices-box")
    models: dict[str, tuple[str, tuple[float, float, float]]] = field(
        default_factory=lambda: dict(MODELS)
    )


#: Minutes on a 2-core CPU: no pretraining, 5 epochs (300 updates) per model.
QUICK = SRReproduceConfig(pretrain_epochs=0, epochs=5)


def reproduce_meta_srgan(
    out: str | Path, config: SRReproduceConfig, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train the models, score them; write (and return) the results."""
    out = Path(out)
    start = time.perf_counter()
    models: dict[str, SRPredictor] = {"bicubic": SRPredictor.by_name("bicubic")}
    runs: dict[str, Any] = {}
    for label, (name, scales) in config.models.items():
        run = out / "runs" / label.replace(" ", "-")
        init = None
        if config.pretrain_epochs:
            log(f"pretraining {label} on photographs for {config.pretrain_epochs} epochs ...")
            stage = _stage(config, name, scales, "photos", config.pretrain_epochs)
            train_superres(run / "pretrain", stage)
            init = run / "pretrain" / "best.safetensors"
        log(f"training {label} on the built-in MRI slices for {config.epochs} epochs ...")
        fit = train_superres(
            run / "mri", _stage(config, name, scales, "builtin", config.epochs), init=init
        )
        models[label] = SRPredictor.from_checkpoint(run / "mri" / "best.safetensors")
        runs[label] = {"run": str(run), "best_epoch": fit.best_epoch, "rows": fit.rows}
    if config.with_shipped:
        models[SHIPPED_LABEL] = SRPredictor.from_checkpoint()
    scores = {}
    test_slices = builtin_slices()["test"]
    test_scales = [Fraction(str(s)) for s in config.scales]
    for kind in config.degradations:
        log(f"scoring on the held-out test slices, LR made by {kind} ...")
        scores[kind] = write_sr_evaluation(
            out if kind == "bicubic" else out / kind,
            models,
            test_slices,
            test_scales,
            "builtin",
            degradation=kind,
        )
    summary = scores.get("bicubic") or next(iter(scores.values()))
    results = {
        "config": asdict(config),
        "summary": summary,
        "by_degradation": scores,
        "runs": runs,
        "wall_seconds": time.perf_counter() - start,
    }
    rows = table_rows(summary)
    atomic_write_text(out / "table_1.md", markdown_table(TABLE_HEADER, rows) + "\n")
    atomic_write_text(
        out / "table_1.csv", csv_text([dict(zip(TABLE_HEADER, r, strict=True)) for r in rows])
    )
    atomic_write_text(out / "results.json", json.dumps(results, indent=2, default=str))
    return results


TABLE_HEADER = ["model", "parameters", "PSNR (dB)", "PSNR std", "SSIM", "SSIM std", "ms/slice"]


def table_rows(summary: dict[str, Any], scale: str = "2.0") -> list[list[Any]]:
    """Rows of the Table 1 analog at ``scale`` (none when no model was scored there)."""
    return [
        [
            name,
            summary["params"][name],
            m["psnr"],
            m["psnr_std"],
            m["ssim"],
            m["ssim_std"],
            m["ms_per_slice"],
        ]
        for name, m in summary["scales"].get(scale, {}).items()
    ]


def _stage(
    config: SRReproduceConfig,
    name: str,
    scales: tuple[float, float, float],
    source: str,
    epochs: int,
) -> SRTrainConfig:
    fixed = scales[0] == scales[1]
    return SRTrainConfig(
        model=ModelSpec(name),
        discriminator=None,
        data=SRDataConfig(
            source=source,
            scales=scales,
            val_scales=(scales[0],) if fixed else (1.5, 2.0, 3.0, 4.0),
            patches=PatchConfig(
                crop=None if source == "photos" else 160,
                patch=config.patch,
                per_slice=4 * config.per_slice if source == "photos" else config.per_slice,
            ),
        ),
        loss=SRLossConfig(perceptual="none", adversarial=0.0),
        optim=SROptimConfig(lr=config.lr, decay=0.5, decay_every=config.decay_every),
        train=TrainConfig(
            epochs=epochs,
            batch_size=config.batch_size,
            seed=config.seed,
            monitor="val_psnr",
            mode="max",
            progress=False,
        ),
    )
