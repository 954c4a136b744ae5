# DL-FLAIR for the test split, from the stage-2 (cGAN) model and, for comparison, stage 1.


rule infer_dl_flair:
    input:
        model=lambda wc: "results/train/stage-{}/model.pt".format(
            "2" if wc.image == "dl" else "1"
        ),
        mdme=res("nifti", "{subject}", "mdme.nii.gz"),
        mask=synthetic("mask"),
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
        "--mask {input.mask:q} --out {output:q} --device {params.device:q} "
        "--threads {threads} > {log:q} 2>&1"
