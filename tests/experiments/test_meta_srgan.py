from __future__ import annotations

import json

from bioscope.experiments.meta_srgan import SRReproduceConfig, reproduce_meta_srgan


def test_reproduce_writes_table_1_and_sweep(tmp_path):
    config = SRReproduceConfig(
        pretrain_epochs=0,
        epochs=1,
        patch=40,
        batch_size=16,
        per_slice=1,
        scales=(2.0, 3.0),
        with_shipped=False,
        models={
            "tiny x2": ("edsr-tiny", (2.0, 2.0, 1.0)),
            "tiny meta": ("meta-srgan-tiny", (1.1, 4.0, 0.1)),
        },
    )
    results = reproduce_meta_srgan(tmp_path, config, log=lambda _: None)
    scales = results["summary"]["scales"]
    assert set(scales["2.0"]) == {"bicubic", "tiny x2", "tiny meta"}
    assert set(scales["3.0"]) == {"bicubic", "tiny meta"}  # the x2 model only at x2
    for name in ("table_1.md", "table_1.csv", "table.md", "metrics.json", "per_slice.csv"):
        assert (tmp_path / name).is_file(), name
    for name in ("comparison.png", "scale_sweep.png", "results.json"):
        assert (tmp_path / name).is_file(), name
    table = (tmp_path / "table_1.md").read_text()
    assert "| tiny meta |" in table and "PSNR std" in table
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["wall_seconds"] > 0 and saved["runs"]["tiny x2"]["best_epoch"] == 1
    assert saved["summary"]["params"]["bicubic"] == 0
    # the same scoring under the other degradations: thick slices only for what takes (s, 1)
    kspace = results["by_degradation"]["kspace"]["scales"]
    assert set(kspace["2.0"]) == {"bicubic", "tiny x2", "tiny meta"}
    assert set(results["by_degradation"]["slices-box"]["scales"]["2.0"]) == {"bicubic"}
    assert (tmp_path / "kspace" / "table.md").is_file()
