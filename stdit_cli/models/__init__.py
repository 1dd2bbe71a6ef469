"""The four backbones. Pure ``nn.Module``s: they know nothing of files, the CLI or schedulers."""

from stdit_cli.models.segdit import SegDiTTransformer2DModel
from stdit_cli.models.stdit import DiffuserSTDiT, DiffuserSTDiTModelOutput, STDiT
from stdit_cli.models.unet_stic import UNetSTIC, UNetSTICOutput

__all__ = [
    "DiffuserSTDiT",
    "DiffuserSTDiTModelOutput",
    "SegDiTTransformer2DModel",
    "STDiT",
    "UNetSTIC",
    "UNetSTICOutput",
]
