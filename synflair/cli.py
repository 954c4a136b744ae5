"""The ``synflair`` command line.

Each subcommand lives in the module that implements it and provides two
functions, ``add_arguments(parser)`` and ``run(args)``. The modules are
imported lazily so that ``synflair phantom`` does not pay for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from synflair import __version__
from synflair.errors import SynflairError

#: subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "phantom": ("synflair.phantom.cli", "generate the digital phantom cohort as DICOM"),
    "figure": ("synflair.phantom.figure_cli", "show one slice of each phantom image"),
    "dicom2nifti": ("synflair.io.cli", "convert MDME and conventional DICOM to NIfTI"),
    "find-series": ("synflair.io.study_cli", "list a study folder's series: MDME, FLAIR, skipped"),
    "quantify": ("synflair.quantify.cli", "fit T1/T2/PD/B1; synthetic FLAIR, T1w, mask"),
    "preprocess": ("synflair.preprocess.cli", "CSF-suppress the synthetic FLAIR (stage-1 target)"),
    "train": ("synflair.train.cli", "train the generator (stage 1) or the cGAN (stage 2)"),
    "infer": ("synflair.infer_cli", "make DL-FLAIR from an MDME NIfTI with a trained model"),
    "register": ("synflair.registration.cli", "register conventional FLAIR to synthetic space"),
    "segment": ("synflair.segmentation.cli", "GM/WM/CSF segmentation of the R1 map or a T1w"),
    "lesions": ("synflair.lesions.cli", "FLAIR-hyperintensity lesion segmentation"),
    "metrics": ("synflair.metrics.cli", "PSNR, NRMSE and Dice per subject and region"),
    "stats": ("synflair.stats.cli", "Wilcoxon statistics and the paper's table"),
    "report": ("synflair.report.cli", "the self-contained HTML results report"),
}


def build_parser() -> argparse.ArgumentParser:
    """Top-level parser; subcommand parsers are filled by their modules."""
    parser = argparse.ArgumentParser(
        prog="synflair",
        description="Deep-learning-improved synthetic FLAIR (Hagiwara et al., AJNR 2019).",
    )
    parser.add_argument("--version", action="version", version=f"synflair {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``synflair`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    first, _ = top.parse_known_args(argv)
    if first.command is None:
        top.print_help()
        return 2
    module_name, text = SUBCOMMANDS[first.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"synflair {first.command}", description=text)
    module.add_arguments(parser)
    index = argv.index(first.command)
    args = parser.parse_args(argv[index + 1 :])
    logging.basicConfig(
        level=logging.DEBUG if first.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        module.run(args)
    except SynflairError as error:
        print(f"synflair {first.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file system refusal: name the file, not a traceback
        where = f"{error.filename}: " if error.filename else ""
        other = f" -> {error.filename2}" if error.filename2 else ""
        reason = error.strerror or str(error)
        print(f"synflair {first.command}: error: {where}{reason}{other}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
