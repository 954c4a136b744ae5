"""The paper's networks: the pixel-wise generator and the multi-resolution discriminator."""

from synflair.models.discriminator import MultiResDiscriminator
from synflair.models.generator import PixelGenerator
from synflair.models.init import init_parameters

__all__ = ["MultiResDiscriminator", "PixelGenerator", "init_parameters"]
