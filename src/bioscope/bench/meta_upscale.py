"""Meta-Upscale phase by phase against the official per-pixel method (weights for every pixel of a
ceil(s)H x ceil(s)W grid, features copied ceil(s)^2 times, unfold, multiply, mask) on a 64-feature
128 x 128 LR map, 1 output channel.

Time: the two methods in turns in this process (medians). Peak memory: each method alone in a
fresh subprocess (``python -m bioscope.bench.meta_upscale METHOD SCALE``), with glibc's default
allocator, as the growth of the peak resident set over the forward pass (a high-water mark cannot
be reset within a process, and this one's allocator keeps freed memory).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from fractions import Fraction
from functools import partial
from pathlib import Path

import torch

from bioscope.nn.meta_upscale import WeightPredictor, meta_upscale, official_meta_upscale
from bioscope.train.timing import time_in_turns

METHODS = {"official": official_meta_upscale, "bioscope": meta_upscale}


def _inputs() -> tuple[torch.Tensor, WeightPredictor]:
    torch.manual_seed(0)
    return torch.randn(1, 64, 128, 128), WeightPredictor(64, 1)


@torch.inference_mode()
def interleaved_ms(scale: Fraction, repeats: int) -> dict[str, list[float]]:
    """Forward milliseconds of both methods, taken in turns after one warm-up each."""
    features, predictor = _inputs()
    calls = {name: partial(method, features, scale, predictor) for name, method in METHODS.items()}
    return time_in_turns(calls, repeats)


@torch.inference_mode()
def peak_mb_here(method: str, scale: Fraction) -> float:
    """Growth of this process's peak resident memory over one forward pass (MB)."""
    features, predictor = _inputs()
    before = _peak_rss_kb()
    METHODS[method](features, scale, predictor)
    return (_peak_rss_kb() - before) / 1024


def _peak_rss_kb() -> int:
    """This address space's high-water mark (``VmHWM``): unlike ``ru_maxrss``, which Linux
    carries over from the parent across fork and exec, it starts afresh in a new program."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_mb(method: str, scale: Fraction) -> float:
    """:func:`peak_mb_here` in a fresh Python process."""
    command = [sys.executable, "-m", __name__, method, str(scale)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(json.loads(output.strip().splitlines()[-1]))


def compare(scales: Sequence[Fraction], repeats: int) -> dict[str, dict[str, float]]:
    """Per scale: medians, peaks, ``speedup`` and ``memory_ratio`` (official / bioscope)."""
    out = {}
    for scale in scales:
        times = interleaved_ms(scale, repeats)
        ms = {name: statistics.median(t) for name, t in times.items()}
        peaks = {name: peak_mb(name, scale) for name in METHODS}
        out[f"{float(scale):g}"] = {
            "official_ms": ms["official"],
            "bioscope_ms": ms["bioscope"],
            "official_peak_mb": peaks["official"],
            "bioscope_peak_mb": peaks["bioscope"],
            "speedup": ms["official"] / ms["bioscope"],
            # a peak below 1 MB is at the resolution of ru_maxrss: count it as 1 MB
            "memory_ratio": peaks["official"] / max(peaks["bioscope"], 1.0),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(peak_mb_here(sys.argv[1], Fraction(sys.argv[2]))))
