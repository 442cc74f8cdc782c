"""The main job on built-in data: ``bioscope demo``.

1. Simulate a few BBBC005-like fields across blur levels, segment and count their nuclei with the
   shipped cell model, and score counts and masks against the simulator's truth.
2. Enlarge held-out slices of the built-in MRI template with the shipped Meta-SRGAN at x1.5, x2.5
   and x4 and score them against bicubic.
3. Write ``report.html`` (figures, tables, the commands to reproduce) and ``summary.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from bioscope.data.bbbc005 import index_bbbc005
from bioscope.data.superres import builtin_slices
from bioscope.data.synthetic import SimulationPlan, simulate_bbbc005
from bioscope.evaluate.cells import evaluate_cells, summarise
from bioscope.inference.cells import CellPredictor
from bioscope.inference.superres import SRPredictor
from bioscope.io import atomic_write_text
from bioscope.io.tables import csv_text
from bioscope.report.cells import plot_examples, plot_mae_by_blur
from bioscope.report.html import HtmlPage
from bioscope.report.superres import write_sr_evaluation

#: Three counts x four blur levels, one site: 12 nuclei images of 696 x 520.
DEMO_PLAN = SimulationPlan(counts=(14, 48, 100), blurs=(1, 14, 29, 48), sites=1, seed=7)
DEMO_SCALES = (Fraction(3, 2), Fraction(5, 2), Fraction(4))


def run_demo(
    out: str | Path,
    workers: int = 1,
    plan: SimulationPlan = DEMO_PLAN,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run both halves; write the report and ``summary.json`` to ``out``; return the summary."""
    out = Path(out)
    start = time.perf_counter()
    log(f"simulating {plan.n_images} BBBC005-like images (both stains) ...")
    simulate_bbbc005(out / "cells" / "data", plan, workers=workers)
    cells = _cells(out / "cells")
    log("super-resolving held-out MRI template slices ...")
    superres = _superres(out / "superres")
    summary = {
        "cells": cells,
        "superres": superres,
        "wall_seconds": time.perf_counter() - start,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    _report(summary, plan).write(out / "report.html")
    return summary


def _cells(out: Path) -> dict[str, Any]:
    predictor = CellPredictor.from_checkpoint()
    methods = list(dict.fromkeys([predictor.spec.method, "paper"]))
    records = index_bbbc005(out / "data", stains=[2])
    evaluation = evaluate_cells(predictor, records, methods)
    summary = summarise(evaluation, methods)
    atomic_write_text(out / "per_image.csv", csv_text(evaluation.rows))
    plot_mae_by_blur(summary["methods"], summary["cellprofiler_count_mae"], out / "mae_by_blur.png")
    plot_examples(evaluation.examples, out / "examples.png")
    return {"model": predictor.source, **summary}


def _superres(out: Path) -> dict[str, Any]:
    models = {
        "bicubic": SRPredictor.by_name("bicubic"),
        "meta-srgan": SRPredictor.from_checkpoint(),
    }
    return write_sr_evaluation(out, models, builtin_slices()["test"], DEMO_SCALES, "builtin")


def _report(summary: dict[str, Any], plan: SimulationPlan) -> HtmlPage:
    cells, superres = summary["cells"], summary["superres"]
    page = HtmlPage("bioscope demo")
    page.paragraph(
        f"Built-in data and shipped weights only; {summary['wall_seconds']:.0f} s on this machine."
    )
    page.heading("Cells: segmentation and nuclei counts (simulated BBBC005-like fields)")
    page.paragraph(
        f"{cells['images']} nuclei images ({len(plan.counts)} counts x "
        f"{len(plan.blurs)} blur levels). Foreground IoU at F1 against the truth: "
        f"{cells.get('foreground_iou', float('nan')):.3f} (Dice {cells.get('dice', 0):.3f})."
    )
    blurs = list(cells["methods"][cells["primary_method"]]["count_mae_by_blur"])
    page.table(
        ["method", "count MAE (all)", *(f"MAE F{b}" for b in blurs), "object F1"],
        [
            [
                name,
                m["count_mae"],
                *(m["count_mae_by_blur"][b] for b in blurs),
                m.get("object_f1", float("nan")),
            ]
            for name, m in cells["methods"].items()
        ],
    )
    anchor = cells["cellprofiler_count_mae"]
    page.paragraph(
        f"Anchor: CellProfiler's published count MAE on real BBBC005 is {anchor['all']} over all "
        f"blur levels and {anchor['f1']} at F1."
    )
    page.figure("cells/examples.png", "predicted nuclei outlines and counts")
    page.figure("cells/mae_by_blur.png", "count error by blur level")
    page.heading("MRI super-resolution: shipped Meta-SRGAN against bicubic")
    page.paragraph(
        f"{superres['slices']} held-out axial slices of the ICBM152 template (maximal information "
        "crops), degraded with antialiased bicubic; PSNR on [0, 1], border ceil(scale) removed."
    )
    page.table(
        ["scale", "bicubic PSNR", "meta-srgan PSNR", "gain (dB)", "bicubic SSIM", "meta SSIM"],
        [
            [
                f"x{float(scale):g}",
                per["bicubic"]["psnr"],
                per["meta-srgan"]["psnr"],
                per["meta-srgan"]["psnr"] - per["bicubic"]["psnr"],
                f"{per['bicubic']['ssim']:.4f}",
                f"{per['meta-srgan']['ssim']:.4f}",
            ]
            for scale, per in superres["scales"].items()
        ],
    )
    page.figure("superres/comparison.png", "x2.5: HR, bicubic and Meta-SRGAN (centre crop)")
    page.figure("superres/scale_sweep.png", "one slice through the scales (the paper's Fig. 8)")
    page.heading("Reproduce")
    page.code(
        "bioscope demo --out bioscope-demo\n"
        "bioscope cells simulate --out sim-test --seed 202 --sites 2\n"
        "bioscope cells evaluate --data sim-test --method watershed,distance,paper --out eval\n"
        "bioscope sr evaluate --models meta-srgan,bicubic --out eval-sr\n"
        "bioscope reproduce fft-unet --quick --out repro-cells\n"
        "bioscope reproduce meta-srgan --quick --out repro-sr"
    )
    return page
