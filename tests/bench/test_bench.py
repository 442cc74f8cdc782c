from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from bioscope.bench import meta_upscale
from bioscope.bench.flops import flops_fraction, matmul_flops_per_s, step_flops
from bioscope.bench.suite import bench_table
from bioscope.bench.throughput import count_images_per_s, upscale_ms
from bioscope.inference.cells import CellPredictor
from bioscope.inference.spec import CellSpec, SRSpec
from bioscope.inference.superres import SRPredictor
from bioscope.models import create_model
from bioscope.train.timing import step_function


def test_step_flops_match_a_hand_count():
    # one 3x3 conv, 1 -> 2 channels, on 8 x 8, batch 1, no bias: forward 2*9*2*64 FLOPs,
    # backward the weight gradient only (the input needs none): the same again
    class Conv(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)

        def forward(self, x):
            return self.conv(x)

    assert step_flops(step_function(Conv(), size=8, batch=1)) == 2 * (2 * 9 * 2 * 64)


def test_flops_fraction_is_a_plausible_ratio():
    torch.manual_seed(0)
    result = flops_fraction(create_model("unet-tiny"), size=32, batch=2, repeats=2)
    assert result["step_gflop"] > 0 and result["matmul_gflops"] > 0
    assert 0 < result["fraction"] < 1.5
    assert matmul_flops_per_s(n=128, repeats=2) > 1e6


def test_meta_upscale_compare_reports_ratios(monkeypatch):
    monkeypatch.setattr(meta_upscale, "peak_mb", lambda method, scale: 40.0)
    result = meta_upscale.compare([Fraction(3, 2)], repeats=1)
    row = result["1.5"]
    assert row["memory_ratio"] == 1.0
    assert row["speedup"] == pytest.approx(row["official_ms"] / row["bioscope_ms"])


def test_peak_memory_is_measured_in_a_fresh_process():
    official = meta_upscale.peak_mb("official", Fraction(4))
    ours = meta_upscale.peak_mb("bioscope", Fraction(4))
    assert official > 100 and official > 5 * max(ours, 1.0)


def test_throughput_helpers_run_tiny_models():
    torch.manual_seed(0)
    predictor = CellPredictor(create_model("unet-tiny"), CellSpec(), "tiny", "cpu")
    images = [np.random.default_rng(i).random((40, 56)) for i in range(3)]
    rates = count_images_per_s({"a": predictor, "b": predictor}, images, repeats=1)
    assert set(rates) == {"a", "b"} and min(rates.values()) > 0
    models = {
        "tiny": SRPredictor(create_model("meta-srgan-tiny"), SRSpec(), "tiny", "cpu"),
        "bicubic": SRPredictor.by_name("bicubic", device="cpu"),
    }
    ms = upscale_ms(models, np.zeros((24, 24), np.float32), Fraction(5, 2), repeats=1)
    assert set(ms) == {"tiny", "bicubic"} and min(ms.values()) > 0


def test_bench_table_marks_targets():
    result = {
        "fourier_overhead_ratio": 1.02,
        "meta_upscale_speedup": {"1.5": 9.0, "4": 60.0},
        "train_flops_fraction_of_peak": 0.45,
        "count_images_per_s": 2.0,
        "count_batch_speedup": 1.2,
        "details": {},
    }
    rows = {r[0]: r for r in bench_table(result)}
    assert rows["fourier_overhead_ratio"][3] == "yes"
    assert rows["meta_upscale_speedup[x1.5]"][3] == "NO"
    assert rows["meta_upscale_speedup[x4]"][3] == "yes"
    assert rows["train_flops_fraction_of_peak"][3] == "NO"
    assert rows["count_images_per_s"][2:] == [">= 2.99", "NO"]
    assert rows["count_batch_speedup"][3] == "yes"
