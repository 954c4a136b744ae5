# DL-FLAIR for the test split, from the stage-2 (cGAN) model and, for comparison, stage 1; or,
# applying a trained model (config key `model`), from that model for every subject.


rule infer_dl_flair:
    input:
        model=model_file,
        mdme=res("nifti", "{subject}", "mdme.nii.gz"),
        # the exam's protocol is checked against the one the model was trained on
        sidecar=res("nifti", "{subject}", "mdme.json"),
        mask=synthetic("mask"),
        # data.relative models: the output is relative to the synthetic FLAIR
        synthetic_flair=synthetic("flair"),
    output:
        res("infer", "{subject}", "desc-{image}_FLAIR.nii.gz"),
    log:
        "logs/infer/sub-{subject}_{image}.log",
    wildcard_constraints:
        image="dl|stage1",
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        device=config["training"]["device"],
    shell:
        "python -m synflair infer --model {input.model:q} --mdme {input.mdme:q} "
        "--sidecar {input.sidecar:q} --mask {input.mask:q} "
        "--synthetic {input.synthetic_flair:q} --out {output:q} "
        "--device {params.device:q} --threads {threads} > {log:q} 2>&1"


rule infer_model_description:
    input:
        model=MODEL or [],
    output:
        "results/infer/model.json",
    log:
        "logs/infer/model.log",
    conda:
        "../../envs/train.yaml"
    script:
        "../scripts/describe_model.py"
