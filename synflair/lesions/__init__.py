"""FLAIR-hyperintensity lesion segmentation in the spirit of LST's lesion growth algorithm.

LST-LPA, which the paper used, runs only in MATLAB/SPM; synflair implements an
unsupervised method after Schmidt et al. (NeuroImage 2012;59:3774-3783):
belief maps of FLAIR hyperintensity relative to the GM/WM/CSF intensity
distributions, an initial threshold kappa, growth into neighbouring voxels of
lower belief, and a minimum lesion size, applied with the same parameters to
synthetic, DL and conventional FLAIR. A supplied mask overrides it per subject.

Public API
----------
- :class:`LesionParams`, :func:`segment_lesions` -> ``(lesion_mask, belief)``;
- :func:`synflair.lesions.api.segment_lesions_file` (files in, files out: ``synflair lesions``);
- :func:`belief_map`, :func:`grow_lesions` (the two steps);
- :func:`load_override`, :func:`apply_override` (supplied masks);
- :func:`lesion_detection`, :func:`label_lesions` (lesion-wise TPR/FPR);
- :class:`GridPair` (segment a FLAIR on its own grid with tissue maps from another).
"""

from synflair.lesions.belief import BeliefMaps, belief_map
from synflair.lesions.detection import label_lesions, lesion_detection
from synflair.lesions.growth import grow_lesions
from synflair.lesions.override import apply_override, load_override
from synflair.lesions.params import LesionParams
from synflair.lesions.reference import TissueStats
from synflair.lesions.segment import DEFAULT_PARAMS, LesionSegmentation, segment, segment_lesions
from synflair.lesions.space import GridPair

__all__ = [
    "DEFAULT_PARAMS",
    "BeliefMaps",
    "GridPair",
    "LesionParams",
    "LesionSegmentation",
    "TissueStats",
    "apply_override",
    "belief_map",
    "grow_lesions",
    "label_lesions",
    "lesion_detection",
    "load_override",
    "segment",
    "segment_lesions",
]
