"""The inference spec: written by training and export, read in one place."""

from __future__ import annotations

import pytest
import torch

from bioscope.data.intensity import PercentileNorm
from bioscope.errors import InputError
from bioscope.inference.export import export_weights
from bioscope.inference.spec import CellSpec, SRSpec, read_spec, spec_to_dict
from bioscope.io import load_checkpoint


def test_round_trip_through_json():
    spec = CellSpec(threshold=0.7, diameter=17.0, normalization=PercentileNorm(2, 99))
    assert read_spec({"inference": spec_to_dict(spec)}, "segmentation") == spec
    sr = SRSpec(scales=(2.0, 2.0))
    assert read_spec({"inference": spec_to_dict(sr)}, "superres") == sr


def test_legacy_checkpoints_get_a_spec_from_their_config():
    meta = {"config": {"data": {"size": None}, "optim": {"threshold": 0.75}}}
    assert read_spec(meta, "segmentation") == CellSpec(threshold=0.75)
    assert read_spec({"config": {"data": {"size": 256}}}, "segmentation").mode == "resize"
    assert read_spec({"config": {"data": {"scales": [2, 2, 1]}}}, "superres").scales == (2, 2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"threshold": 1.5}, "threshold must be in"),
        ({"mode": "magic"}, "unknown prediction mode"),
        ({"method": "magic"}, "unknown counting method"),
        ({"mode": "resize", "size": -4}, "size must be a whole number of pixels, >= 16: -4"),
        ({"colour": "red"}, "does not fit"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_bad_specs_are_refused(raw, message):
    with pytest.raises(InputError, match=message):
        read_spec({"inference": raw}, "segmentation")


def test_training_writes_and_export_keeps_the_spec(tiny_checkpoint, tmp_path):
    _, meta = load_checkpoint(tiny_checkpoint)
    spec = read_spec(meta, "segmentation")
    assert meta["inference"]["mode"] == "native" and spec.diameter and spec.diameter > 3
    exported = export_weights(tiny_checkpoint, tmp_path / "w.safetensors", "segmentation", 0.6)
    _, meta = load_checkpoint(exported)
    assert read_spec(meta, "segmentation").threshold == 0.6
    assert read_spec(meta, "segmentation").diameter == spec.diameter


def test_export_keeps_the_generator_of_a_gan_run_only(tmp_path):
    """A GAN run's checkpoint holds its discriminator; what ships is the generator alone."""
    from bioscope.io import load_checkpoint, save_checkpoint
    from bioscope.models import create_model

    nets = {"model": create_model("meta-srgan-tiny"), "discriminator": create_model("bicubic")}
    tensors = {f"nets.model.{k}": v for k, v in nets["model"].state_dict().items()}
    tensors["nets.discriminator.w"] = torch.zeros(3)
    run = save_checkpoint(
        tmp_path / "run.safetensors",
        tensors,
        {
            "task": "superres",
            "nets": {
                "model": {"name": "meta-srgan-tiny", "args": {}},
                "discriminator": {"name": "srgan-discriminator-tiny", "args": {}},
            },
        },
    )
    shipped, meta = load_checkpoint(export_weights(run, tmp_path / "w.safetensors", "superres"))
    assert set(meta["nets"]) == {"model"}
    assert all(k.startswith("nets.model.") for k in shipped)


def test_export_of_a_checkpoint_without_its_network_is_refused(tmp_path):
    from bioscope.io import save_checkpoint

    run = save_checkpoint(
        tmp_path / "run.safetensors", {"nets.model.w": torch.zeros(2)}, {"task": "superres"}
    )
    with pytest.raises(InputError, match="checkpoint has no network 'model'"):
        export_weights(run, tmp_path / "w.safetensors", "superres")
    assert not (tmp_path / "w.safetensors").exists()
