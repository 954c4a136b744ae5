# PSNR, NRMSE and lesion Dice per test subject; Wilcoxon statistics; phantom ground-truth QC.


rule evaluate_metrics:
    input:
        reference=res("registration", "{subject}", "space-synthetic_FLAIR.nii.gz"),
        images=lambda wc: [flair_image_path(image, wc.subject) for image in IMAGES],
        mask=synthetic("mask"),
        dseg=res("segmentation", "{subject}", "dseg.nii.gz"),
        lesions=expand(
            res("lesions", "{{subject}}", "desc-{image}_lesions.nii.gz"),
            image=[*IMAGES, "conventional"],
        ),
        truth=get_lesion_truth,
    output:
        res("metrics", "{subject}", "metrics.tsv"),
    log:
        "logs/metrics/sub-{subject}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        # command-line words: --image NAME=PATH ..., each quoted by {params.images:q}
        images=lambda wc, input: [
            word
            for name, path in zip(IMAGES, input.images)
            for word in ("--image", f"{name}={path}")
        ],
        lesions=lambda wc, input: [
            word
            for name, path in zip([*IMAGES, "conventional"], input.lesions)
            for word in ("--lesions", f"{name}={path}")
        ],
        peak=config["metrics"]["peak"],
        # phantom: the true lesion mask on the MDME grid (dice_truth, lesion_contrast_truth)
        truth=lambda wc, input: (
            [
                "--lesion-truth",
                f"{input.truth}/truth/sub-{wc.subject}_label-lesion_mask.nii.gz",
            ]
            if input.truth
            else []
        ),
    shell:
        "python -m synflair metrics --subject {wildcards.subject:q} "
        "--reference {input.reference:q} {params.images:q} --mask {input.mask:q} "
        "--dseg {input.dseg:q} {params.lesions:q} {params.truth:q} --peak {params.peak:q} "
        "--out {output:q} > {log:q} 2>&1"


rule evaluate_stats:
    input:
        expand(res("metrics", "{subject}", "metrics.tsv"), subject=TEST),
    output:
        table=report(
            "results/stats/table.tsv",
            caption="../report/table.rst",
            category="Statistics",
        ),
        tests="results/stats/tests.tsv",
        normality="results/stats/normality.tsv",
    log:
        "logs/stats/stats.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        out=lambda wildcards, output: Path(output.table).parent,
        scaling=config["metrics"]["scaling"],
    shell:
        "python -m synflair stats --metrics {input:q} --out-dir {params.out:q} "
        "--scaling {params.scaling:q} > {log:q} 2>&1"


rule evaluate_truth:
    input:
        truth=subject_dir,
        xfm=res("registration", "{subject}", "from-FLAIR_to-synthetic_xfm.json"),
        maps=multiext(
            res("quantify", "{subject}", ""),
            "T1map.nii.gz",
            "T2map.nii.gz",
            "TB1map.nii.gz",
        ),
        mask=res("quantify", "{subject}", "desc-intracranial_mask.nii.gz"),
        dseg=res("segmentation", "{subject}", "dseg.nii.gz"),
        lesions=res("lesions", "{subject}", "desc-conventional_lesions.nii.gz"),
    output:
        res("qc", "{subject}", "truth.tsv"),
    log:
        "logs/qc/sub-{subject}.log",
    conda:
        "../../envs/evaluation.yaml"
    script:
        "../scripts/evaluate_truth.py"
