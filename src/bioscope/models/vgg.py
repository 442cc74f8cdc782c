"""VGG19 features for the perceptual loss, from a local torchvision-format weights file.

No package here ships ImageNet VGG19 weights and bioscope never downloads: the user names a file
(``--vgg-weights PATH`` or ``BIOSCOPE_VGG19_WEIGHTS``) holding torchvision's ``vgg19`` state dict
(``vgg19-dcbb9e9d.pth``, or the same tensors as ``.safetensors``). ``.pth`` files are read with
``torch.load(weights_only=True)``: tensors only, no code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from bioscope.errors import InputError

ENV = "BIOSCOPE_VGG19_WEIGHTS"
#: torchvision's vgg19 ``features``: numbers are conv widths, "M" max-pooling.
CONFIG = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
)
#: ``relu<block>_<conv>`` -> index in ``features`` of that ReLU.
LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_4": 17, "relu4_4": 26, "relu5_4": 35}
HOW_TO = (
    "the perceptual loss needs ImageNet VGG19 weights in torchvision format: on a machine with "
    "internet access save torchvision.models.vgg19(weights='IMAGENET1K_V1').state_dict() "
    "(the file vgg19-dcbb9e9d.pth), copy it here, and pass --vgg-weights PATH or set "
    f"{ENV}=PATH; or train with the weight-free substitute (perceptual: gradient)"
)


def vgg19_features(layer: str = "relu5_4") -> nn.Sequential:
    """torchvision's ``vgg19().features`` up to and including ``layer`` (untrained)."""
    if layer not in LAYERS:
        raise InputError(f"unknown VGG layer {layer!r}; known: {', '.join(LAYERS)}")
    layers: list[nn.Module] = []
    channels = 3
    for item in CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
            channels = int(item)
    return nn.Sequential(*layers[: LAYERS[layer] + 1])


def load_vgg19(path: str | os.PathLike[str] | None, layer: str = "relu5_4") -> nn.Sequential:
    """Frozen VGG19 features up to ``layer``, with ImageNet weights from ``path`` (default:
    ``$BIOSCOPE_VGG19_WEIGHTS``).

    Raises:
        InputError: no path given, the file is missing, or it is not a VGG19 state dict; the
            message says where to get the file.
    """
    path = path or os.environ.get(ENV)
    if not path:
        raise InputError(f"no VGG19 weights given; {HOW_TO}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such VGG19 weights file; {HOW_TO}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"{path}: cannot read VGG19 weights ({exc}); {HOW_TO}") from exc
    features = vgg19_features(layer)
    wanted = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    wanted = {k: v for k, v in wanted.items() if int(k.split(".")[0]) < len(features)}
    try:
        features.load_state_dict(wanted, strict=True)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: not torchvision VGG19 weights ({str(exc).splitlines()[0]})"
        ) from exc
    for parameter in features.parameters():
        parameter.requires_grad_(False)
    return features.eval()
