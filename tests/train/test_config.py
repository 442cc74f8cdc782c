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
