"""``synflair dicom2nifti``: MDME or standard DICOM series to NIfTI + JSON sidecar.

Examples
--------
::

    synflair dicom2nifti --kind mdme --dicom dicom/sub-01/mdme --out sub-01_mdme.nii.gz
    synflair dicom2nifti --kind mdme --dicom s01 s02 s03 --out x.nii.gz --component real
    synflair dicom2nifti --kind standard --dicom dicom/sub-01/flair --out sub-01_FLAIR.nii.gz

Each writes ``OUT.nii.gz`` and ``OUT.json``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synflair.errors import SynflairError
from synflair.io.plausibility import check_angle

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``dicom2nifti`` options to ``parser``."""
    parser.add_argument(
        "--kind",
        required=True,
        choices=("mdme", "standard"),
        help="mdme: the raw MDME series (pydicom sorter); standard: any other one series "
        "(dcm2niix)",
    )
    parser.add_argument(
        "--dicom",
        required=True,
        nargs="+",
        metavar="DIR",
        help="folder(s) of DICOM files; for mdme the images may be spread over several "
        "folders/series, for standard exactly one folder",
    )
    parser.add_argument(
        "--out", required=True, metavar="OUT.nii.gz", help="output NIfTI; OUT.json beside it"
    )
    parser.add_argument(
        "--component",
        choices=("magnitude", "real"),
        default=None,
        help="mdme only: magnitudes (default) or phase-corrected signed real parts",
    )
    parser.add_argument(
        "--delay-attribute",
        default=None,
        metavar="NAME",
        help="mdme only: DICOM keyword or 'gggg,eeee' tag of the saturation delay "
        "(default: TriggerTime, else InversionTime)",
    )
    parser.add_argument(
        "--saturation-angle",
        type=float,
        default=None,
        metavar="DEG",
        help="mdme only: saturation flip angle in degrees, not stored in DICOM (default 120)",
    )


def run(args: argparse.Namespace) -> None:
    """Run the conversion described by ``args``."""
    out = Path(args.out)
    if out.is_dir():
        raise SynflairError(f"--out {out} is a directory; expected a .nii.gz file path")
    if not out.name.endswith((".nii.gz", ".nii")) or out.name in (".nii.gz", ".nii"):
        raise SynflairError(f"--out {out}: expected a .nii.gz (or .nii) file path")
    if args.kind == "standard":
        mdme_only = {
            "--component": args.component,
            "--delay-attribute": args.delay_attribute,
            "--saturation-angle": args.saturation_angle,
        }
        given = [flag for flag, value in mdme_only.items() if value is not None]
        if given:
            raise SynflairError(f"{', '.join(given)} apply to --kind mdme only")
        if len(args.dicom) != 1:
            raise SynflairError(
                f"--kind standard takes one --dicom folder (one series), not {len(args.dicom)}"
            )
        from synflair.io.dcm2niix import standard_to_nifti

        out = standard_to_nifti(args.dicom[0], args.out)
    else:
        from synflair.io.mdme import DEFAULT_SATURATION_ANGLE, mdme_to_nifti

        angle = DEFAULT_SATURATION_ANGLE if args.saturation_angle is None else args.saturation_angle
        check_angle("--saturation-angle", "saturation flip angle", angle, source="the option")
        out = mdme_to_nifti(
            args.dicom,
            args.out,
            component=args.component or "magnitude",
            delay_attribute=args.delay_attribute,
            saturation_angle=angle,
        )
    log.info("wrote %s", out)
