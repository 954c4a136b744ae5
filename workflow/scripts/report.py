"""Build results/report.html from the workflow's outputs."""

import json
import sys
from pathlib import Path

from synflair.report.api import RunRecords, report_file
from synflair.report.build import ReportInputs, SubjectImages

sys.stderr = open(snakemake.log[0], "w")
inputs, params = snakemake.input, snakemake.params

if params.apply:  # a trained model applied (config key `model`): no evaluation to report
    from synflair.report.applied import AppliedSubject, build_applied_report

    build_applied_report(
        [
            AppliedSubject(
                s, inputs[f"flair_synthetic_{s}"], inputs[f"flair_dl_{s}"], inputs[f"mask_{s}"]
            )
            for s in params.test
        ],
        json.loads(Path(inputs.model).read_text()),
        snakemake.output[0],
        title=params.config["report"]["title"],
    )
    raise SystemExit(0)
names = ["synthetic", "dl", "stage1", "conventional"]
phantom = {Path(p).name.removeprefix("sub-"): Path(p) for p in inputs.phantom}


def truth_lesions(subject):
    """The phantom's true lesion mask of a test subject (None for real data)."""
    if subject not in phantom:
        return None
    return str(phantom[subject] / "truth" / f"sub-{subject}_label-lesion_mask.nii.gz")


subjects = [
    SubjectImages(
        subject=s,
        flair={n: inputs[f"flair_{n}_{s}"] for n in names},
        lesions={n: inputs[f"lesions_{n}_{s}"] for n in names},
        mask=inputs[f"mask_{s}"],
        dseg=inputs[f"dseg_{s}"],
        t1w=inputs[f"t1w_{s}"],
        truth_lesions=truth_lesions(s),
    )
    for s in params.test
]
report_inputs = ReportInputs(
    table=inputs.table,
    tests=inputs.tests,
    normality=inputs.normality,
    metrics=list(inputs.metrics),
    losses={f"stage {i + 1}": p for i, p in enumerate(inputs.losses)},
    subjects=subjects,
    truth=list(inputs.truth) if params.phantom else [],
)
report_file(
    report_inputs,
    params.config,
    snakemake.output[0],
    n_train=len(params.train),
    records=RunRecords(inputs.run, inputs.xfm, inputs.dseg_json),
)
