"""``synflair dicom2nifti``: MDME or standard DICOM series to NIfTI + JSON sidecar.

Examples
--------
::

    synflair dicom2nifti --kind mdme --dicom dicom/sub-01/mdme --out sub-01_mdme.nii.gz
    synflair dicom2nifti --kind mdme --dicom s01 s02 s03 --out x.nii.gz --component real
    synflair dicom2nifti --kind standard --dicom dicom/sub-01/flair --out sub-01_FLAIR.nii.gz
    synflair dicom2nifti --kind mdme --study exports/patient01 --out sub-01_mdme.nii.gz
    synflair dicom2nifti --kind standard --study exports/patient01 --series 7 --out x.nii.gz
    synflair dicom2nifti --kind mdme --nifti bids/sub-01/anat/sub-01_mdme.nii.gz --out x.nii.gz

Each writes ``OUT.nii.gz`` and ``OUT.json``. The source is one of ``--dicom``
(the series' own folder(s)), ``--study`` (a study folder holding many series:
:mod:`synflair.io.study` finds the MDME raw series for ``--kind mdme`` and the
conventional FLAIR for ``--kind standard``; ``--series`` chooses when several
fit) and ``--nifti`` (an already converted NIfTI, checked and copied:
:mod:`synflair.io.nifti_input`).
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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--dicom",
        nargs="+",
        metavar="DIR",
        help="folder(s) of DICOM files; for mdme the images may be spread over several "
        "folders/series, for standard exactly one folder",
    )
    source.add_argument(
        "--study",
        metavar="DIR",
        help="a study folder of many series: convert its MDME raw series (--kind mdme) or its "
        "conventional FLAIR (--kind standard); see synflair find-series",
    )
    source.add_argument(
        "--nifti",
        metavar="FILE",
        help="an MDME NIfTI with its synflair JSON sidecar (--kind mdme) or a FLAIR NIfTI "
        "(--kind standard): checked and copied instead of converted",
    )
    parser.add_argument(
        "--series",
        default=None,
        metavar="UID|NUMBER",
        help="with --study: the SeriesInstanceUID or SeriesNumber of the series to convert",
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
    if args.series is not None and args.study is None:
        raise SynflairError("--series applies to --study only")
    if args.nifti is not None:
        _import_nifti(args, out)
        return
    files, folders = None, args.dicom
    if args.study is not None:
        files, folders = _study_series(args), [args.study]
    if args.kind == "standard":
        mdme_only = {
            "--component": args.component,
            "--delay-attribute": args.delay_attribute,
            "--saturation-angle": args.saturation_angle,
        }
        given = [flag for flag, value in mdme_only.items() if value is not None]
        if given:
            raise SynflairError(f"{', '.join(given)} apply to --kind mdme only")
        if len(folders) != 1:
            raise SynflairError(
                f"--kind standard takes one --dicom folder (one series), not {len(args.dicom)}"
            )
        from synflair.io.dcm2niix import standard_to_nifti

        out = standard_to_nifti(folders[0], args.out, files=files)
    else:
        from synflair.io.dicom_formats import describe_decoders
        from synflair.io.mdme import DEFAULT_SATURATION_ANGLE, mdme_to_nifti

        log.info("pixel-data decoders: %s", describe_decoders())

        angle = DEFAULT_SATURATION_ANGLE if args.saturation_angle is None else args.saturation_angle
        check_angle("--saturation-angle", "saturation flip angle", angle, source="the option")
        out = mdme_to_nifti(
            folders,
            args.out,
            component=args.component or "magnitude",
            delay_attribute=args.delay_attribute,
            saturation_angle=angle,
            files=files,
        )
    log.info("wrote %s", out)


def _study_series(args: argparse.Namespace) -> list:
    """The files of the MDME series (--kind mdme) or the FLAIR (--kind standard) of --study."""
    from synflair.io.study import choose, find_series

    study = find_series(args.study, args.delay_attribute if args.kind == "mdme" else None)
    role = "mdme" if args.kind == "mdme" else "flair"
    return list(choose(study, role, args.series).files)


def _import_nifti(args: argparse.Namespace, out: Path) -> None:
    from synflair.io.nifti_input import import_flair_nifti, import_mdme_nifti

    dicom_only = {"--delay-attribute": args.delay_attribute}
    dicom_only["--saturation-angle"] = args.saturation_angle
    given = [flag for flag, value in dicom_only.items() if value is not None]
    if given:
        raise SynflairError(f"{', '.join(given)} apply to DICOM sources only, not --nifti")
    if args.kind == "mdme":
        import_mdme_nifti(args.nifti, out, component=args.component)
    else:
        if args.component is not None:
            raise SynflairError("--component applies to --kind mdme only")
        import_flair_nifti(args.nifti, out)
    log.info("checked %s; wrote %s", args.nifti, out)
