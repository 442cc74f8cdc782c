"""Models: a registry of builders; importing this package registers them all."""

from bioscope.models import discriminator, edsr, fft_unet, srresnet, unet  # noqa: F401  (registration)
from bioscope.models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
