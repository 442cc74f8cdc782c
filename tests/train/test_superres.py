from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from bioscope.data.degrade import ScaleSampler
from bioscope.data.superres import PatchConfig, ScaleBatch, make_pair
from bioscope.errors import InputError
from bioscope.losses import PerceptualLoss
from bioscope.models import create_model
from bioscope.models.vgg import load_vgg19, vgg19_features
from bioscope.train.loop import TrainConfig
from bioscope.train.segmentation import ModelSpec
from bioscope.train.superres import (
    SRDataConfig,
    SRLossConfig,
    SRTrainConfig,
    SuperResTask,
    train_superres,
)


def tiny_config(**loss) -> SRTrainConfig:
    return SRTrainConfig(
        model=ModelSpec("meta-srgan-tiny"),
        discriminator=ModelSpec("srgan-discriminator-tiny"),
        data=SRDataConfig(patches=PatchConfig(patch=40, per_slice=1), val_scales=(2.0,)),
        loss=SRLossConfig(**{"perceptual": "gradient", "warmup_updates": 0, **loss}),
        train=TrainConfig(epochs=2, batch_size=8, monitor="val_psnr", mode="max", progress=False),
    )


def test_one_gan_step_updates_both_networks():
    torch.manual_seed(0)
    generator = create_model("meta-srgan-tiny", residual=False)
    discriminator = create_model("srgan-discriminator-tiny")
    task = SuperResTask(generator, discriminator, tiny_config())
    task.setup(torch.device("cpu"), lambda net: net)
    before = {k: [p.detach().clone() for p in net.parameters()] for k, net in task.nets.items()}
    logs = task.train_step(make_pair(torch.rand(4, 1, 40, 40), Fraction(5, 2)))
    assert {"loss", "l1", "adversarial", "d_loss"} <= set(logs)
    for key, net in task.nets.items():
        changed = [
            not torch.equal(a, b) for a, b in zip(before[key], net.parameters(), strict=True)
        ]
        assert all(changed), key
    assert task.updates == 1


def test_warmup_is_l1_only():
    task = SuperResTask(
        create_model("meta-srgan-tiny"),
        create_model("srgan-discriminator-tiny"),
        tiny_config(warmup_updates=5),
    )
    task.setup(torch.device("cpu"), lambda net: net)
    before = [p.detach().clone() for p in task.nets["discriminator"].parameters()]
    logs = task.train_step(make_pair(torch.rand(4, 1, 40, 40), Fraction(2)))
    assert "d_loss" not in logs
    assert all(
        torch.equal(a, b)
        for a, b in zip(before, task.nets["discriminator"].parameters(), strict=True)
    )


def test_resume_is_exact(tmp_path):
    straight = train_superres(tmp_path / "a", tiny_config())
    config = tiny_config()
    config.train.epochs = 1
    train_superres(tmp_path / "b", config)
    resumed = train_superres(tmp_path / "b", tiny_config(), resume=True)
    assert [r["val_psnr"] for r in straight.rows] == [r["val_psnr"] for r in resumed.rows]
    from bioscope.io import load_checkpoint

    a, _ = load_checkpoint(tmp_path / "a" / "last.safetensors")
    b, _ = load_checkpoint(tmp_path / "b" / "last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("nets."))


def test_scale_batch_gives_one_scale_per_minibatch():
    torch.manual_seed(0)
    batch = ScaleBatch(ScaleSampler())([torch.rand(1, 48, 48) for _ in range(4)])
    scale = Fraction(batch["scale"])
    assert batch["hr"].shape[-1] == scale * batch["lr"].shape[-1]


def test_vgg_weights_are_required_and_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("BIOSCOPE_VGG19_WEIGHTS", raising=False)
    with pytest.raises(InputError, match=r"vgg19-dcbb9e9d\.pth.*--vgg-weights"):
        load_vgg19(None)
    with pytest.raises(InputError, match="no such VGG19 weights file"):
        load_vgg19(tmp_path / "missing.pth")
    with pytest.raises(InputError, match="no VGG19 weights given"):
        SuperResTask(create_model("meta-srgan-tiny"), None, tiny_config(perceptual="vgg"))


def test_vgg_loads_torchvision_format(tmp_path):
    """A torchvision-format state dict (random values, written here) loads and gives a loss."""
    full = vgg19_features("relu5_4")
    state = {f"features.{k}": v for k, v in full.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files carry the classifier too
    torch.save(state, tmp_path / "vgg19.pth")
    features = load_vgg19(tmp_path / "vgg19.pth", "relu2_2")
    assert len(features) == 9 and not any(p.requires_grad for p in features.parameters())
    loss = PerceptualLoss(features)(torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32))
    assert loss.item() > 0
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(InputError, match="not torchvision VGG19 weights"):
        load_vgg19(tmp_path / "bad.pth")


def test_anisotropic_fine_tune_starts_from_an_isotropic_checkpoint(tmp_path):
    """The widened head gives the isotropic model's output at equal scales (up to BatchNorm's
    running statistics, which an epoch at learning rate 0 still moves); training on thick slices
    reports through-plane validation beside the in-plane one."""
    config = tiny_config()
    config.discriminator = None
    config.loss.adversarial = 0.0
    config.train.epochs = 1
    train_superres(tmp_path / "iso", config)
    config.model = ModelSpec("meta-srgan-tiny", {"anisotropic": True})
    config.data.degradations = {"bicubic": 1.0, "slices-box": 1.0}
    config.train.epochs = 1
    config.optim.lr = 0.0  # no update: the widened start itself
    result = train_superres(tmp_path / "aniso", config, init=tmp_path / "iso" / "last.safetensors")
    from bioscope.io import load_checkpoint

    iso, _ = load_checkpoint(tmp_path / "iso" / "last.safetensors")
    isotropic = create_model("meta-srgan-tiny").eval()
    isotropic.load_state_dict(
        {k[len("nets.model.") :]: v for k, v in iso.items() if "nets.model." in k}
    )
    aniso, _ = load_checkpoint(tmp_path / "aniso" / "last.safetensors")
    anisotropic = create_model("meta-srgan-tiny", anisotropic=True).eval()
    anisotropic.load_state_dict(
        {k[len("nets.model.") :]: v for k, v in aniso.items() if "nets.model." in k}
    )
    lr = torch.rand(1, 1, 12, 12)
    with torch.no_grad():
        assert torch.allclose(anisotropic(lr, "5/2"), isotropic(lr, "5/2"), atol=1e-3)
        assert anisotropic(lr, ("5/2", 1)).shape[-2:] == (30, 12)
    row = result.rows[-1]
    assert "val_through_psnr" in row and "val_through_bicubic_psnr" in row


def test_thick_slice_batches_shrink_rows_only():
    torch.manual_seed(0)
    pair = make_pair(torch.rand(2, 1, 41, 40), Fraction(5, 2), "slices-box")
    assert pair["scale"] == "5/2,1"
    assert pair["hr"].shape[-2:] == (40, 40) and pair["lr"].shape[-2:] == (16, 40)
