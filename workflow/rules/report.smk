# The self-contained HTML report (results/report.html).


def report_inputs(wildcards):
    """Everything the report shows, per test subject and for the cohort."""
    inputs = {
        "table": "results/stats/table.tsv",
        "tests": "results/stats/tests.tsv",
        "normality": "results/stats/normality.tsv",
        "metrics": expand(res("metrics", "{subject}", "metrics.tsv"), subject=TEST),
        "losses": expand("results/train/stage-{stage}/losses.tsv", stage=["1", "2"]),
    }
    for subject in TEST:
        for image in [*IMAGES, "conventional"]:
            inputs[f"flair_{image}_{subject}"] = flair_image_path(image, subject)
            inputs[f"lesions_{image}_{subject}"] = res(
                "lesions", subject, f"desc-{image}_lesions.nii.gz"
            )
        inputs[f"mask_{subject}"] = synthetic_path("mask", subject)
        inputs[f"dseg_{subject}"] = res("segmentation", subject, "dseg.nii.gz")
        inputs[f"t1w_{subject}"] = synthetic_path("t1w", subject)
    if IS_PHANTOM:
        inputs["truth"] = expand(res("qc", "{subject}", "truth.tsv"), subject=sorted(SUBJECTS))
    return inputs


rule report_html:
    input:
        unpack(report_inputs),
    output:
        report("results/report.html", caption="../report/report.rst", category="Report"),
    params:
        config=config,
        test=TEST,
        train=TRAIN,
        phantom=IS_PHANTOM,
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/report.py"
