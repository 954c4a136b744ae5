"""Open MDME quantification: T1, T2, PD and B1 maps, synthetic contrasts, intracranial mask.

Modules: :mod:`~synflair.quantify.model` (``MDMEModel`` / ``MDMEFit``),
:mod:`~synflair.quantify.solver` (the vectorized per-voxel solver),
:mod:`~synflair.quantify.precision` (Cramér-Rao bounds),
:mod:`~synflair.quantify.synthetic` (synthetic FLAIR and T1w),
:mod:`~synflair.quantify.mask` (intracranial mask), :mod:`~synflair.quantify.api` (the
file-level :func:`~synflair.quantify.api.quantify_file`, reading the MDME JSON sidecar with
:func:`synflair.io.sidecar.read_mdme_sidecar`) and :mod:`~synflair.quantify.cli`
(``synflair quantify``).
"""

from synflair.quantify.mask import MaskSettings, intracranial_mask
from synflair.quantify.model import FitSettings, MDMEFit, MDMEModel
from synflair.quantify.synthetic import synthetic_flair, synthetic_t1w

__all__ = [
    "FitSettings",
    "MDMEFit",
    "MDMEModel",
    "MaskSettings",
    "intracranial_mask",
    "synthetic_flair",
    "synthetic_t1w",
]
