"""Super-resolution training: L1 warm-up, then the GAN stage; the same trainer as cells.

The paper: L1 warm-up, then L1 + 0.001 adversarial + 0.006 VGG19 perceptual, discriminator and
generator updated in turn; one scale per minibatch from 1.1..4.0; Adam 1e-4, x0.8 every 60k updates;
pretrain on natural images, fine-tune on MRI (``init`` loads the pretrained generator).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bioscope.data.degradations import SLICE_PROFILES, DegradationSampler
from bioscope.data.degrade import ScaleSampler
from bioscope.data.mri import Axis
from bioscope.data.superres import (
    HRPatches,
    PatchConfig,
    ScaleBatch,
    builtin_slices,
    image_folder_slices,
    make_pair,
    photo_slices,
    split_volumes,
    volume_paths,
    volume_slices,
)
from bioscope.errors import InputError
from bioscope.geometry import parse_scales
from bioscope.inference.spec import SRSpec, spec_to_dict
from bioscope.io import load_checkpoint
from bioscope.losses import PerceptualLoss, adversarial_loss, gradient_loss
from bioscope.metrics.superres import border, psnr, ssim
from bioscope.models import create_model
from bioscope.models.checkpoint import load_nets
from bioscope.models.registry import model_task
from bioscope.models.vgg import load_vgg19
from bioscope.nn.meta_upscale import widen_to_anisotropic
from bioscope.train.config import to_dict
from bioscope.train.loop import FitResult, TrainConfig, Trainer
from bioscope.train.segmentation import ModelSpec
from bioscope.train.state import seed_everything
from bioscope.train.task import Task


@dataclass
class SRDataConfig:
    """Where HR patches come from and which scales to train on.

    Attributes:
        source: ``"builtin"`` (the template), ``"photos"`` (scikit-image's bundled
            photographs), a BraTS/NIfTI folder, or a folder of PNGs (``images: true``,
            DIV2K-style pretraining).
        images: ``source`` is a folder of natural-image PNGs.
        modality: BraTS modality (file suffix).
        scales: ``[low, high, step]`` of the per-minibatch scale (x2 models: ``[2, 2, 1]``).
        val_scales: scales validation reports (their mean PSNR is ``val_psnr``).
        degradations: how training LR is made, one per minibatch drawn with these weights
            (``{bicubic: 1, kspace: 1}``: half and half; see
            :mod:`bioscope.data.degradations`); validation stays bicubic.
        kspace_windows: for a ``kspace`` minibatch, its apodization drawn with these weights
            (``{none: 1, hamming: 1, tukey: 1}``; a Tukey taper is random in 0.2..0.8).
        noise_snr: ``[low, high]`` of the SNR of Rician noise added to a minibatch's LR.
        noise_probability: the share of minibatches that get that noise.
    """

    source: str = "builtin"
    images: bool = False
    modality: str = "t1ce"
    axis: Axis = "axial"
    scales: tuple[float, float, float] = (1.1, 4.0, 0.1)
    val_scales: tuple[float, ...] = (1.5, 2.0, 3.0, 4.0)
    patches: PatchConfig = field(default_factory=PatchConfig)
    degradations: dict[str, float] = field(default_factory=lambda: {"bicubic": 1.0})
    kspace_windows: dict[str, float] = field(default_factory=lambda: {"none": 1.0})
    noise_snr: tuple[float, float] | None = None
    noise_probability: float = 0.0


@dataclass
class SRLossConfig:
    """Loss weights. ``perceptual``: ``vgg`` (needs ``vgg_weights``), ``gradient`` (weight-free
    substitute) or ``none``. No discriminator, or ``adversarial: 0``: plain L1 training."""

    l1: float = 1.0
    adversarial: float = 0.001
    perceptual: Literal["vgg", "gradient", "none"] = "vgg"
    perceptual_weight: float = 0.006
    vgg_weights: str | None = None
    vgg_layer: str = "relu5_4"
    warmup_updates: int = 1000


@dataclass
class SROptimConfig:
    """Adam on both networks; learning rate x ``decay`` every ``decay_every`` updates."""

    lr: float = 1e-4
    decay: float = 0.8
    decay_every: int = 60_000


@dataclass
class SRTrainConfig:
    """Everything an SR run needs; YAML maps onto it one to one."""

    model: ModelSpec = field(default_factory=lambda: ModelSpec("meta-srgan"))
    discriminator: ModelSpec | None = field(
        default_factory=lambda: ModelSpec("srgan-discriminator")
    )
    data: SRDataConfig = field(default_factory=SRDataConfig)
    loss: SRLossConfig = field(default_factory=SRLossConfig)
    optim: SROptimConfig = field(default_factory=SROptimConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(batch_size=8, monitor="val_psnr", mode="max")
    )


class SuperResTask(Task):
    """Generator ``model(lr, scale)``, optional discriminator; L1 warm-up, then GAN updates."""

    name = "superres"

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module | None, config: SRTrainConfig
    ):
        super().__init__()
        self.config = config
        self.nets = {"model": generator}
        optim = config.optim
        self.optimizers = {
            "model": torch.optim.Adam(generator.parameters(), optim.lr, betas=(0.9, 0.999))
        }
        if discriminator is not None and config.loss.adversarial > 0:
            self.nets["discriminator"] = discriminator
            self.optimizers["discriminator"] = torch.optim.Adam(
                discriminator.parameters(), optim.lr
            )
        self.schedulers = {
            key: torch.optim.lr_scheduler.StepLR(opt, optim.decay_every, optim.decay)
            for key, opt in self.optimizers.items()
        }
        self.perceptual = _perceptual(config.loss)
        self.val_scales = [Fraction(str(s)) for s in config.data.val_scales]
        self.bicubic = create_model("bicubic")

    @property
    def updates(self) -> int:
        """Generator updates so far (the scheduler's count, which checkpoints keep)."""
        return int(self.schedulers["model"].last_epoch)

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        lr, hr, scale = batch["lr"], batch["hr"], parse_scales(batch["scale"])
        generator = self.trained["model"]
        generator.train()
        sr = generator(lr, scale)
        logs: dict[str, float] = {}
        gan = "discriminator" in self.nets and self.updates >= self.config.loss.warmup_updates
        if gan:
            logs["d_loss"] = self._discriminator_step(hr, sr.detach())
        loss = self.config.loss.l1 * F.l1_loss(sr, hr)
        logs["l1"] = float(loss.detach())
        if gan:
            adversarial = adversarial_loss(self.trained["discriminator"](sr), real=True)
            loss = loss + self.config.loss.adversarial * adversarial
            logs["adversarial"] = float(adversarial.detach())
        if self.perceptual is not None and gan:
            loss = loss + self.config.loss.perceptual_weight * self.perceptual(sr, hr)
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.schedulers["model"].step()
        logs["loss"] = float(loss.detach())
        return logs

    def _discriminator_step(self, hr: torch.Tensor, fake: torch.Tensor) -> float:
        discriminator = self.trained["discriminator"]
        discriminator.train()
        loss = adversarial_loss(discriminator(hr), True) + adversarial_loss(
            discriminator(fake), False
        )
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.schedulers["discriminator"].step()
        return float(loss.detach())

    def end_epoch(self) -> None:
        """Schedules step per update (in :meth:`train_step`), not per epoch."""

    @torch.no_grad()
    def validate(self, batches: Iterable[torch.Tensor]) -> dict[str, float]:
        generator = self.nets["model"]
        generator.eval()
        scores: dict[str, list[float]] = {}
        through = [("", "bicubic")] + (
            [("through_", "slices-box")] if getattr(generator, "anisotropic", False) else []
        )
        for hr_batch in batches:
            for (prefix, kind), scale in itertools.product(through, self.val_scales):
                pair = make_pair(hr_batch, scale, kind)
                crop = border(float(scale))
                outputs = {
                    prefix: generator(pair["lr"], pair["scale"]),
                    f"{prefix}bicubic_": self.bicubic(pair["lr"], pair["scale"]),
                }
                for name, out in outputs.items():
                    sr = out.clamp(0, 1)
                    scores.setdefault(f"val_{name}psnr", []).extend(
                        psnr(sr, pair["hr"], crop=crop).tolist()
                    )
                    scores.setdefault(f"val_{name}ssim", []).extend(
                        ssim(sr, pair["hr"], crop=crop).tolist()
                    )
                if not prefix:
                    l1 = F.l1_loss(outputs[prefix], pair["hr"], reduction="none")
                    scores.setdefault("val_loss", []).extend(l1.flatten(1).mean(1).tolist())
        return {k: float(np.mean(v)) for k, v in scores.items()}


def _perceptual(
    config: SRLossConfig,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    if config.perceptual == "vgg":
        return PerceptualLoss(load_vgg19(config.vgg_weights, config.vgg_layer))
    if config.perceptual == "gradient":
        return gradient_loss
    if config.perceptual == "none":
        return None
    raise InputError(f"unknown perceptual loss {config.perceptual!r}; use vgg, gradient or none")


def _widened(tensors: dict[str, torch.Tensor], generator: nn.Module) -> dict[str, torch.Tensor]:
    """An isotropic Meta-Upscale checkpoint as the start of an anisotropic generator (the same
    output at equal scales, see :func:`~bioscope.nn.meta_upscale.widen_to_anisotropic`)."""
    key = "nets.model.upscale.predictor.net.0.weight"
    if not getattr(generator, "anisotropic", False) or key not in tensors:
        return tensors
    if tensors[key].shape[1] != 3:
        return tensors
    return {**tensors, key: widen_to_anisotropic(tensors[key])}


def sr_slices(config: SRDataConfig) -> dict[str, list[np.ndarray]]:
    """Train/val/test slices of the configured source."""
    if config.source == "builtin":
        return builtin_slices(config.axis)
    if config.source == "photos":
        return photo_slices()
    if config.images:
        images = image_folder_slices(config.source)
        cut = max(1, len(images) // 10)
        return {"train": images[cut:] or images, "val": images[:cut], "test": []}
    split = split_volumes(volume_paths(config.source, config.modality))
    return {side: volume_slices(paths, config.axis) for side, paths in split.items()}


def train_superres(
    out: str | Path, config: SRTrainConfig, init: str | Path | None = None, resume: bool = False
) -> FitResult:
    """Train an SR model on the configured data; write the run to ``out``."""
    for spec, task in ((config.model, "superres"), (config.discriminator, "discriminator")):
        if spec is not None and model_task(spec.name) != task:
            raise InputError(f"{spec.name!r} is not a {task} model")
    through = [k for k, w in config.data.degradations.items() if k in SLICE_PROFILES and w > 0]
    if through and not config.model.args.get("anisotropic", False):
        raise InputError(
            f"degradations {through} enlarge one axis only; they need model args "
            "{anisotropic: true} (a meta-srgan)"
        )
    slices = sr_slices(config.data)
    train = HRPatches(slices["train"], config.data.patches)
    val = HRPatches(
        slices["val"], PatchConfig(**{**vars(config.data.patches), "per_slice": 2, "seed": 1})
    )
    seed_everything(config.train.seed)
    generator = create_model(config.model.name, **config.model.args)
    if init is not None:
        tensors, meta = load_checkpoint(init)
        if meta.get("task") != "superres":
            raise InputError(
                f"{init}: a {meta.get('task')!r} checkpoint, not a super-resolution one"
            )
        load_nets({"model": generator}, _widened(tensors, generator), str(init))
    discriminator = (
        create_model(config.discriminator.name, **config.discriminator.args)
        if config.discriminator is not None
        else None
    )
    task = SuperResTask(generator, discriminator, config)
    low, high, step = config.data.scales
    task.inference = spec_to_dict(SRSpec(scales=(low, high)))
    run_config = {**to_dict(config), "init": str(init) if init else None}
    trainer = Trainer(
        task,
        train,
        val,
        config.train,
        out,
        run_config,
        collate=ScaleBatch(
            ScaleSampler(low, high, step),
            DegradationSampler(
                config.data.degradations,
                config.data.kspace_windows,
                config.data.noise_snr,
                config.data.noise_probability,
            ),
        ),
    )
    return trainer.fit(resume=resume)
