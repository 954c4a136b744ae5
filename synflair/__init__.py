"""synflair: deep-learning-improved synthetic FLAIR from raw MDME data.

An open reproduction of Hagiwara et al., "Improving the Quality of Synthetic
FLAIR Images with Deep Learning Using a Conditional Generative Adversarial
Network for Pixel-by-Pixel Image Translation", AJNR 2019;40:224-230.
"""

from synflair.errors import SynflairError

__version__ = "0.1.0"
__all__ = ["SynflairError", "__version__"]
