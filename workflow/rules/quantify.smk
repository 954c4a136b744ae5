# Open quantification (T1, T2, PD, B1) -> synthetic FLAIR, synthetic T1w, intracranial mask;
# then the paper's CSF suppression of the synthetic FLAIR (the stage-1 training target).

QUANT = config["quantification"]


rule quantify_maps:
    input:
        mdme=res("nifti", "{subject}", "mdme.nii.gz"),
        json=res("nifti", "{subject}", "mdme.json"),
    output:
        multiext(
            res("quantify", "{subject}", ""),
            "T1map.nii.gz",
            "T2map.nii.gz",
            "PDmap.nii.gz",
            "TB1map.nii.gz",
            "desc-synthetic_FLAIR.nii.gz",
            "desc-synthetic_T1w.nii.gz",
            "desc-intracranial_mask.nii.gz",
        ),
    log:
        "logs/quantify/sub-{subject}.log",
    conda:
        "../../envs/quantify.yaml"
    params:
        out=lambda wc: f"results/quantify/sub-{wc.subject}",
        flair=QUANT["synthetic_flair"],
        t1w=QUANT["synthetic_t1w"],
    shell:
        "python -m synflair quantify --mdme {input.mdme} --out {params.out} "
        "--prefix sub-{wildcards.subject} "
        "--flair-tr {params.flair[tr]} --flair-te {params.flair[te]} --flair-ti {params.flair[ti]} "
        "--t1w-tr {params.t1w[tr]} --t1w-te {params.t1w[te]} > {log} 2>&1"


rule quantify_csf_suppress:
    input:
        flair=synthetic("flair"),
        mdme=res("nifti", "{subject}", "mdme.nii.gz"),
    output:
        target=res("preprocess", "{subject}", "desc-csfsuppressed_FLAIR.nii.gz"),
        mask=res("preprocess", "{subject}", "desc-csfsuppressed_mask.nii.gz"),
    log:
        "logs/preprocess/sub-{subject}.log",
    conda:
        "../../envs/quantify.yaml"
    params:
        rule=config["preprocess"],
    shell:
        "python -m synflair preprocess --flair {input.flair} --mdme {input.mdme} "
        "--out {output.target} --mask-out {output.mask} "
        "--ir-index {params.rule[ir_index][0]} {params.rule[ir_index][1]} "
        "--t2-index {params.rule[t2_index][0]} {params.rule[t2_index][1]} "
        "--ir-threshold {params.rule[ir_threshold]} --t2-threshold {params.rule[t2_threshold]} "
        "> {log} 2>&1"
