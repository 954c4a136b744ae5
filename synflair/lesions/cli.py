"""``synflair lesions``: FLAIR-hyperintensity lesion map of one FLAIR image.

For a user with a FLAIR and a T1 (skull-stripped or not)::

    synflair lesions --flair FLAIR.nii.gz --t1 T1.nii.gz --out lesions.nii.gz

segments the T1 into GM/WM/CSF itself (inside ``--mask``, or a brain mask it
estimates) and writes the lesion mask, the belief map (``--belief-out``,
default ``<out>_belief.nii.gz``) and a JSON sidecar with the parameters. The
workflow passes ``--mask --gm --wm --csf`` (maps of the synthetic T1w or R1
map) instead of ``--t1``.
"""

from __future__ import annotations

import argparse
import dataclasses

from synflair.errors import SynflairError
from synflair.lesions.api import LesionInputs, segment_lesions_file
from synflair.lesions.params import LesionParams

#: One-line help per :class:`LesionParams` field (the class docstring has the details).
PARAM_HELP = {
    "z_low": "hyperintensity score (SDs above the brighter of GM/WM) where the belief starts",
    "z_high": "score where the belief reaches 1",
    "heterogeneity": "relative SD of normal tissue added to the measured WM spread",
    "kappa": "initial threshold: belief that seeds a lesion",
    "grow_threshold": "belief a neighbouring voxel needs for the lesion to grow into it",
    "t1_growth_z": "score a T1-hypointense neighbouring voxel needs for growth",
    "purity": "tissue probability of the voxels used for tissue intensity statistics",
    "max_csf_prob": "voxels with a higher CSF probability never seed a lesion",
    "boundary_fraction": "trim each lesion to this fraction of its peak score (0: off)",
    "min_volume_mm3": "smallest lesion kept, mm^3",
    "connectivity": "neighbourhood: 1 face, 2 edge, 3 corner",
    "bias_degree": "polynomial degree of the removed intensity bias (0: no correction)",
    "smoothing_mm": "Gaussian denoising of the FLAIR before scoring, mm (0: none)",
    "min_tissue_voxels": "fewest pure voxels per tissue",
    "local_mm": "neighbourhood (Gaussian SD, mm) of the regional WM reference (0: global)",
    "ribbon_mm": "voxels this close to sulcal CSF or the brain surface never seed a lesion",
    "ventricle_depth_mm": "thick CSF this deep (median mm from the surface) is ventricle",
    "wm_shell_fraction": "fraction of WM or ventricle a lesion's surroundings need",
    "shell_mm": "width of those surroundings, mm",
    "shell_exempt_z": "peak score from which a lesion is kept whatever surrounds it",
    "gm_peak_z": "peak score a lesion mostly outside WM needs",
    "min_mean_z": "mean score a lesion needs",
    "local_seed_score": "local contrast (robust SDs) that also seeds a lesion below kappa (0: off)",
    "local_seed_z": "least score of such a local-contrast seed",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair lesions``; every :class:`LesionParams` field is an option."""
    parser.add_argument("--flair", required=True, help="FLAIR image (NIfTI)")
    parser.add_argument(
        "--mask",
        help="brain (intracranial) mask on the FLAIR grid (with --transform: on the tissue maps' "
        "grid); default: estimated from the T1 and FLAIR",
    )
    parser.add_argument(
        "--t1",
        help="T1w image or R1 map on the FLAIR grid, segmented into GM/WM/CSF when no "
        "--gm/--wm/--csf are given",
    )
    parser.add_argument("--backend", choices=("auto", "ants", "fsl"), default="auto",
                        help="tissue segmentation of --t1 (default auto: FAST if FSL, else "
                             "Atropos)")  # fmt: skip
    parser.add_argument(
        "--transform",
        help="registration transform JSON (fixed_to_moving_world) from the mask's and tissue maps' "
        "grid (fixed) to the FLAIR (moving): the FLAIR is then segmented on its own grid, the "
        "maps carried there, and the lesion and belief maps written on the mask's grid",
    )
    parser.add_argument("--gm", help="GM probability (*_label-GM_probseg.nii.gz)")
    parser.add_argument("--wm", help="WM probability (*_label-WM_probseg.nii.gz)")
    parser.add_argument("--csf", help="CSF probability (*_label-CSF_probseg.nii.gz)")
    parser.add_argument("--out", required=True, help="output lesion mask (NIfTI, 0/1)")
    parser.add_argument("--belief-out", help="output belief map of lesion, in [0, 1] (NIfTI; "
                        "default <out>_belief.nii.gz)")  # fmt: skip
    parser.add_argument(
        "--override",
        help="a lesion mask (e.g. manually corrected) written instead of the automatic one",
    )
    defaults = LesionParams()
    group = parser.add_argument_group("segmentation parameters")
    for field in dataclasses.fields(LesionParams):
        default = getattr(defaults, field.name)
        flag = f"--{field.name.replace('_', '-')}"
        text = f"{PARAM_HELP[field.name]} (default {default})"
        if isinstance(default, bool):
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction,
                               default=default, help=text)  # fmt: skip
        else:
            group.add_argument(flag, dest=field.name, type=type(default), default=default,
                               help=text)  # fmt: skip


def run(args: argparse.Namespace) -> None:
    """Run ``synflair lesions``."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(LesionParams)}
    try:
        params = LesionParams(**values)
    except ValueError as error:
        raise SynflairError(f"synflair lesions options: {error}") from error
    inputs = LesionInputs(
        flair=args.flair, mask=args.mask, t1=args.t1, backend=args.backend,
        transform=args.transform, gm=args.gm, wm=args.wm, csf=args.csf, override=args.override,
    )  # fmt: skip
    segment_lesions_file(inputs, args.out, belief_out=args.belief_out, params=params)
