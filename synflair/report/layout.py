"""Find the report's inputs in a results folder laid out as the workflow writes it."""

from __future__ import annotations

from pathlib import Path

from synflair.errors import SynflairError
from synflair.report.build import ReportInputs, SubjectImages

IMAGES = ("synthetic", "dl", "stage1")


def subject_images(results: Path, subject: str, phantom: Path | None = None) -> SubjectImages:
    """Paths of one test subject's images under ``results`` (and its phantom truth, if any)."""

    def path(stage, suffix):
        return str(results / stage / f"sub-{subject}" / f"sub-{subject}_{suffix}")

    flair = {
        "synthetic": path("quantify", "desc-synthetic_FLAIR.nii.gz"),
        "dl": path("infer", "desc-dl_FLAIR.nii.gz"),
        "stage1": path("infer", "desc-stage1_FLAIR.nii.gz"),
        "conventional": path("registration", "space-synthetic_FLAIR.nii.gz"),
    }
    lesions = {name: path("lesions", f"desc-{name}_lesions.nii.gz") for name in flair}
    truth = None
    if phantom is not None:
        found = phantom / f"sub-{subject}" / "truth" / f"sub-{subject}_label-lesion_mask.nii.gz"
        truth = str(found) if found.is_file() else None
    return SubjectImages(
        subject=subject,
        flair=flair,
        lesions=lesions,
        mask=path("quantify", "desc-intracranial_mask.nii.gz"),
        dseg=path("segmentation", "dseg.nii.gz"),
        t1w=path("quantify", "desc-synthetic_T1w.nii.gz"),
        truth_lesions=truth,
    )


def discover(results: str | Path, phantom: str | Path | None = None) -> ReportInputs:
    """Build :class:`ReportInputs` from ``results`` (the test subjects are those with metrics).

    ``phantom`` is the phantom cohort folder (default: ``resources/phantom`` beside
    ``results``, where the workflow writes it); its true lesion masks, when present,
    are counted in the lesion table.
    """
    results = Path(results)
    if phantom is not None and not Path(phantom).is_dir():
        raise SynflairError(f"--phantom {phantom}: not a folder (the phantom cohort's)")
    phantom = Path(phantom) if phantom else results.parent / "resources" / "phantom"
    if not phantom.is_dir():
        phantom = None
    metrics = sorted(results.glob("metrics/sub-*/sub-*_metrics.tsv"))
    if not metrics:
        raise SynflairError(f"{results}/metrics: no per-subject metrics; run the workflow first")
    subjects = [p.parent.name.removeprefix("sub-") for p in metrics]
    missing = [
        p
        for s in subjects
        for group in (subject_images(results, s).flair, subject_images(results, s).lesions)
        for p in group.values()
        if not Path(p).is_file()
    ]
    if missing:
        raise SynflairError(f"missing report input(s): {', '.join(missing[:5])}")
    return ReportInputs(
        table=str(results / "stats" / "table.tsv"),
        tests=str(results / "stats" / "tests.tsv"),
        normality=str(results / "stats" / "normality.tsv"),
        metrics=[str(p) for p in metrics],
        losses={
            f"stage {s}": str(results / "train" / f"stage-{s}" / "losses.tsv") for s in ("1", "2")
        },
        subjects=[subject_images(results, s, phantom) for s in subjects],
        truth=[str(p) for p in sorted(results.glob("qc/sub-*/sub-*_truth.tsv"))],
    )
