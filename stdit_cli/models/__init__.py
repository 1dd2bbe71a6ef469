"""The four backbones, and the blind noise-level estimator of ``--noise real``. Pure ``nn.Module``s:
they know nothing of files, the CLI or schedulers."""

from stdit_cli.models.noise_estimator import NoiseLevelEstimator, NoiseLevelOutput
from stdit_cli.models.segdit import SegDiTTransformer2DModel
from stdit_cli.models.stdit import DiffuserSTDiT, DiffuserSTDiTModelOutput, STDiT
from stdit_cli.models.unet_stic import UNetSTIC, UNetSTICOutput

__all__ = [
    "DiffuserSTDiT",
    "DiffuserSTDiTModelOutput",
    "NoiseLevelEstimator",
    "NoiseLevelOutput",
    "SegDiTTransformer2DModel",
    "STDiT",
    "UNetSTIC",
    "UNetSTICOutput",
]
