# The paper's two training stages (GPU rules; they also run on CPU).
TRAINING = config["training"]


rule train_manifest:
    input:
        mdme=expand(res("nifti", "{subject}", "mdme.nii.gz"), subject=TRAIN),
        mask=[synthetic_path("mask", s) for s in TRAIN],
        target=expand(
            res("preprocess", "{subject}", "desc-csfsuppressed_FLAIR.nii.gz"),
            subject=TRAIN,
        ),
        conventional=expand(
            res("registration", "{subject}", "space-synthetic_FLAIR.nii.gz"),
            subject=TRAIN,
        ),
    output:
        "results/train/manifest.tsv",
    log:
        "logs/train/manifest.log",
    conda:
        "../../envs/train.yaml"
    params:
        subjects=TRAIN,
    script:
        "../scripts/train_manifest.py"


rule train_stage:
    input:
        manifest="results/train/manifest.tsv",
        preset=TRAINING["preset"],
        init=lambda wc: [] if wc.stage == "1" else "results/train/stage-1/model.pt",
    output:
        model="results/train/stage-{stage}/model.pt",
        losses=report(
            "results/train/stage-{stage}/losses.tsv",
            caption="../report/losses.rst",
            category="Training",
        ),
        curve=report(
            "results/train/stage-{stage}/losses.png",
            caption="../report/losses.rst",
            category="Training",
        ),
    log:
        "logs/train/stage-{stage}.log",
    conda:
        "../../envs/train.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=24 * 60,
    params:
        device=TRAINING["device"],
        iterations=TRAINING["iterations"],
    script:
        "../scripts/train.py"
