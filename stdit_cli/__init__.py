"""stdit: command-line video denoising with spatio-temporal diffusion models."""

__version__ = "0.1.0"
