from __future__ import annotations

import json

from bioscope.experiments.fft_unet import ReproduceConfig, reproduce_fft_unet
from bioscope.train.segmentation import ModelSpec


def test_reproduce_writes_table_and_figures(tmp_path):
    config = ReproduceConfig(
        sites=1,
        size=32,
        epochs=1,
        batch_size=4,
        loss="bce_dice",
        models={"tiny": ModelSpec("unet-tiny"), "tiny fft": ModelSpec("fft-unet-tiny")},
    )
    results = reproduce_fft_unet(tmp_path, config, log=lambda _: None)
    assert set(results["models"]) == {"tiny", "tiny fft"}
    for name in (
        "table_1.md",
        "table_1.csv",
        "results.json",
        "curves.png",
        "masks.png",
        "local_maxima.png",
        "dbscan.png",
    ):
        assert (tmp_path / name).is_file(), name
    table = (tmp_path / "table_1.md").read_text()
    assert "| tiny fft |" in table and "ms/step (interleaved)" in table
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["wall_seconds"] > 0 and saved["config"]["size"] == 32
