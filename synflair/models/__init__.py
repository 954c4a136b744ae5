"""The paper's networks and the saved-model contract.

* :mod:`synflair.models.generator`, :mod:`synflair.models.discriminator`,
  :mod:`synflair.models.init`: the pixel-wise generator, the multi-resolution
  discriminator and their initialization (torch).
* :mod:`synflair.models.normalization`: the input representation and scaling a
  model was trained with (numpy only).
* :mod:`synflair.models.modelfile`: the model file ``model.pt`` (what training
  writes and inference reads) and :mod:`synflair.models.record`, what a model
  was trained on (subjects, MDME protocol) and the protocol check.
* :mod:`synflair.models.device`: the torch device a job runs on.

The networks are served lazily (PEP 562), so that the light modules
(normalization, the training record) can be imported without torch.
"""

__all__ = ["MultiResDiscriminator", "PixelGenerator", "init_parameters"]


def __getattr__(name: str):
    if name == "MultiResDiscriminator":
        from synflair.models.discriminator import MultiResDiscriminator

        return MultiResDiscriminator
    if name == "PixelGenerator":
        from synflair.models.generator import PixelGenerator

        return PixelGenerator
    if name == "init_parameters":
        from synflair.models.init import init_parameters

        return init_parameters
    raise AttributeError(f"module 'synflair.models' has no attribute {name!r}")
