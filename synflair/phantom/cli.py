"""``synflair phantom``: generate the digital phantom cohort as DICOM plus ground truth."""

from __future__ import annotations

import argparse

from synflair.phantom.generate import generate_cohort


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``synflair phantom``."""
    parser.add_argument("--out", help="cohort folder (created; required unless --template-only)")
    parser.add_argument(
        "--subjects",
        type=int,
        default=None,
        metavar="N",
        help="cohort size; first 75%% train, the rest test (default: the preset's, paper 40)",
    )
    parser.add_argument("--seed", type=int, default=2019, metavar="S", help="cohort seed")
    parser.add_argument(
        "--preset",
        default="demo",
        metavar="{demo,ci,paper}",
        help="geometry: paper (30 slices, 512x512), demo (12, 192x192) or ci (6, 96x96)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        default=None,
        metavar="ID",
        help="generate just these subjects (e.g. ph03); identical to a full run",
    )
    parser.add_argument("--jobs", type=int, default=1, metavar="J", help="worker processes")
    parser.add_argument(
        "--template",
        default=None,
        metavar="FILE",
        help="template anatomy cache (.npz): read when it holds this version's template, "
        "else built once and written there (saves 10-13 s per subject)",
    )
    parser.add_argument(
        "--template-only",
        action="store_true",
        help="write the --template cache and no subject",
    )


def run(args: argparse.Namespace) -> None:
    """Generate the cohort described by ``args``."""
    from synflair.errors import SynflairError
    from synflair.phantom.presets import PRESETS

    if args.template_only:
        if args.template is None:
            raise SynflairError("--template-only needs --template FILE (the cache to write)")
        from synflair.phantom.template_cache import cached_template

        cached_template(args.template)
        return
    if args.out is None:
        raise SynflairError("--out is required: the cohort folder to write")
    n = args.subjects
    if n is None and args.preset in PRESETS:
        n = PRESETS[args.preset].n_subjects
    generate_cohort(
        args.out, n, args.seed, args.preset, only=args.only, jobs=args.jobs, template=args.template
    )
