from __future__ import annotations

import pytest
import yaml

from bioscope.errors import InputError
from bioscope.train.config import from_dict, to_dict
from bioscope.train.segmentation import CellTrainConfig
from bioscope.train.superres import SRTrainConfig


def test_nested_values_unknown_keys_and_null():
    config = from_dict(
        SRTrainConfig,
        {
            "model": {"name": "meta-srgan-tiny"},
            "discriminator": None,
            "data": {"patches": {"patch": 48}},
        },
    )
    assert config.model.name == "meta-srgan-tiny" and config.discriminator is None
    assert config.data.patches.patch == 48 and config.data.patches.per_slice == 16
    with pytest.raises(InputError, match=r"^config: key data: unknown key\(s\) patchsize; known"):
        from_dict(SRTrainConfig, {"data": {"patchsize": 48}})
    with pytest.raises(InputError, match=r"^config: unknown key\(s\) modle; known: data, disc"):
        from_dict(SRTrainConfig, {"modle": {}})
    with pytest.raises(InputError, match=r"^config: expected a mapping, got 'unet'$"):
        from_dict(SRTrainConfig, "unet")
    assert from_dict(SRTrainConfig, to_dict(config)) == config


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"model": "unet"}, "key model: expected a mapping of ModelSpec settings, got 'unet'"),
        ({"train": {"epochs": "ten"}}, "key train.epochs: expected an integer, got 'ten'"),
        ({"train": {"epochs": True}}, "key train.epochs: expected an integer, got True"),
        ({"optim": {"lr": "fast"}}, "key optim.lr: expected a number"),
        ({"data": {"scales": [1.1, "x", 0.1]}}, r"key data.scales\[1\]: expected a number"),
        ({"data": {"scales": [1.1, 4.0]}}, "key data.scales: expected a list"),
        ({"loss": {"perceptual": "magic"}}, "key loss.perceptual: expected one of"),
        ({"discriminator": 3}, "key discriminator: expected a mapping of ModelSpec settings or"),
        ({"discriminator": {"name": 3}}, "key discriminator.name: expected a string, got 3"),
        ({"discriminator": {"nme": "x"}}, r"key discriminator: unknown key\(s\) nme; known: args"),
        ({"data": {"patches": {"crop": "x"}}}, "key data.patches.crop: expected an integer or"),
        ({"data": {"patches": []}}, "key data.patches: expected a mapping of PatchConfig"),
        ({"model": {"args": [1]}}, "key model.args: expected a mapping, got"),
        ({"train": {"patience": 2.5}}, "key train.patience: expected an integer or null, got 2.5"),
        ({"train": {"progress": "yes"}}, "key train.progress: expected true or false, got 'yes'"),
        ({"train": {"mode": "up"}}, "key train.mode: expected one of 'min', 'max', got 'up'"),
        ({"optim": {"lr": "1e-4x"}}, "key optim.lr: expected a number, got '1e-4x'"),
        ({"optim": {"decay_every": 1e3}}, "key optim.decay_every: expected an integer, got 1000.0"),
        ({"data": {"scales": "1.1"}}, "key data.scales: expected a list of 3 values, got '1.1'"),
    ],
)
def test_values_are_checked_against_their_types(raw, message):
    with pytest.raises(InputError, match=f"^run.yaml: {message}"):
        from_dict(SRTrainConfig, raw, where="run.yaml")


def test_values_that_yaml_reads_loosely_still_pass():
    raw = yaml.safe_load("optim: {lr: 1e-4, decay: 1}\ndata: {val_scales: [2, 3.5]}\n")
    assert raw["optim"]["lr"] == "1e-4"  # YAML 1.1: exponent notation without a dot is a string
    config = from_dict(SRTrainConfig, raw)
    assert config.optim.lr == 1e-4 and config.optim.decay == 1.0
    assert config.data.val_scales == (2.0, 3.5) and all(
        type(s) is float for s in config.data.val_scales
    )
    cells = from_dict(CellTrainConfig, {"data": {"val_blurs": None, "size": None}})
    assert cells.data.val_blurs is None and cells.data.size is None
    with pytest.raises(InputError, match=r"key data.val_blurs\[1\]: expected an integer, got 'x'"):
        from_dict(CellTrainConfig, {"data": {"val_blurs": [1, "x"]}})


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        (
            "cells",
            "model: unet\n",
            "key model: expected a mapping of ModelSpec settings, got 'unet'",
        ),
        ("cells", "data: {size: 1.5}\n", "key data.size: expected an integer or null, got 1.5"),
        ("sr", "loss: {perceptual: magic}\n", "key loss.perceptual: expected one of 'vgg', "),
    ],
)
def test_a_bad_config_is_one_error_line(cli, tmp_path, command, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    data = ["--data", str(tmp_path)] if command == "cells" else []
    result = cli(command, "train", *data, "--config", str(bad), "-o", str(tmp_path / "r"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bioscope: error: {bad}: {message}")


def test_a_bad_config_in_a_real_process(cli_subprocess, tmp_path):
    """As a user runs it: exit status 1, exactly one line on stderr, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text('train: {epochs: "ten"}\n')
    out = str(tmp_path / "r")
    result = cli_subprocess(
        "cells", "train", "--data", str(tmp_path), "--config", str(bad), "-o", out
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"bioscope: error: {bad}: key train.epochs: expected an integer, got 'ten'"
    ]
    assert not (tmp_path / "r").exists()


def test_an_unknown_slice_axis_is_refused():
    with pytest.raises(InputError, match=r"key data\.axis: expected one of 'axial'"):
        from_dict(SRTrainConfig, {"data": {"axis": "sideways"}})
