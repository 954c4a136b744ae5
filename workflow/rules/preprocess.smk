# The paper's CSF suppression of the synthetic FLAIR (the stage-1 training target): config key
# `preprocess`, this rule, `synflair preprocess`, synflair.preprocess (one name for the stage).


rule preprocess_csf_suppress:
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
        ir_index=config["preprocess"]["ir_index"],
        t2_index=config["preprocess"]["t2_index"],
        ir_threshold=config["preprocess"]["ir_threshold"],
        t2_threshold=config["preprocess"]["t2_threshold"],
    shell:
        "python -m synflair preprocess --flair {input.flair:q} --mdme {input.mdme:q} "
        "--out {output.target:q} --mask-out {output.mask:q} "
        "--ir-index {params.ir_index:q} --t2-index {params.t2_index:q} "
        "--ir-threshold {params.ir_threshold:q} --t2-threshold {params.t2_threshold:q} "
        "> {log:q} 2>&1"
