from __future__ import annotations

import pytest

from bioscope.errors import InputError
from bioscope.train.config import from_dict, to_dict
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
    with pytest.raises(InputError, match=r"config\.data: unknown key\(s\) patchsize"):
        from_dict(SRTrainConfig, {"data": {"patchsize": 48}})
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
    ],
)
def test_values_are_checked_against_their_types(raw, message):
    with pytest.raises(InputError, match=message):
        from_dict(SRTrainConfig, raw, where="run.yaml")
    assert from_dict(SRTrainConfig, {"optim": {"lr": 1}}).optim.lr == 1.0  # int for float


def test_a_bad_config_is_one_error_line(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: unet\n")
    out = str(tmp_path / "r")
    result = cli("cells", "train", "--data", str(tmp_path), "--config", str(bad), "-o", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"bioscope: error: {bad}: key model: expected a mapping of ModelSpec settings, got 'unet'"
    ]
