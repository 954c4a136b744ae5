"""``synflair metrics``: PSNR, NRMSE and lesion Dice of one subject into a tidy TSV."""

from __future__ import annotations

import argparse
import re

from synflair.errors import SynflairError
from synflair.metrics.api import MetricsFiles, subject_metrics_file
from synflair.metrics.subject import DEFAULT_METRICS, NORMALIZERS, SCALINGS, MetricsConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def parse_named_paths(values: list[str] | None, option: str) -> dict[str, str]:
    """``["synthetic=a.nii.gz", "dl=b.nii.gz"]`` -> ``{"synthetic": "a.nii.gz", ...}``.

    Raises
    ------
    SynflairError
        For an entry without ``=``, a bad name or a name given twice.
    """
    named: dict[str, str] = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not path:
            raise SynflairError(f"{option} {value!r}: expected NAME=PATH")
        if not _NAME.match(name):
            raise SynflairError(f"{option} {value!r}: the name must be letters, digits, '_' or '-'")
        if name in named:
            raise SynflairError(f"{option}: the name {name!r} is given twice")
        named[name] = path
    return named


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair metrics``."""
    parser.add_argument("--subject", required=True, help="subject label (without 'sub-')")
    parser.add_argument(
        "--reference",
        required=True,
        help="conventional FLAIR registered to synthetic space (NIfTI)",
    )
    parser.add_argument(
        "--image",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="FLAIR under test, e.g. synthetic=F.nii.gz (repeatable)",
    )
    parser.add_argument("--mask", required=True, help="intracranial mask (NIfTI)")
    parser.add_argument(
        "--dseg", required=True, help="tissue labels, 1 CSF, 2 GM, 3 WM (*_dseg.nii.gz)"
    )
    parser.add_argument(
        "--lesions",
        action="append",
        metavar="NAME=PATH",
        help="lesion map of an image (repeatable); the one named "
        "'conventional' is the reference of the dice_conventional rows",
    )
    parser.add_argument("--lesion-truth", help="true lesion mask (phantom) for dice_truth rows")
    parser.add_argument("--out", required=True, help="output TSV")
    parser.add_argument("--peak", type=float, default=DEFAULT_METRICS.peak,
                        help="PSNR peak intensity (default: %(default)g)")  # fmt: skip
    parser.add_argument(
        "--scaling",
        action="append",
        choices=SCALINGS,
        help="intensity scaling(s) to report (repeatable; default: "
        f"{' and '.join(DEFAULT_METRICS.scalings)})",
    )
    parser.add_argument("--nrmse-normalizer", choices=NORMALIZERS,
                        default=DEFAULT_METRICS.nrmse_normalizer,
                        help="mask of the NRMSE denominator, the mean of the image under "
                        "test (default: %(default)s)")  # fmt: skip


def run(args: argparse.Namespace) -> None:
    """Run ``synflair metrics``."""
    try:
        config = MetricsConfig(
            peak=args.peak,
            scalings=tuple(args.scaling or DEFAULT_METRICS.scalings),
            nrmse_normalizer=args.nrmse_normalizer,
        )
    except ValueError as error:
        raise SynflairError(f"synflair metrics options: {error}") from error
    files = MetricsFiles(
        subject=args.subject,
        reference=args.reference,
        images=parse_named_paths(args.image, "--image"),
        mask=args.mask,
        dseg=args.dseg,
        lesions=parse_named_paths(args.lesions, "--lesions"),
        lesion_truth=args.lesion_truth,
    )
    subject_metrics_file(files, args.out, config)
