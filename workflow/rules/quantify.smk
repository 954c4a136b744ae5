# Open quantification (T1, T2, PD, B1) -> synthetic FLAIR, synthetic T1w, intracranial mask
# (the CSF suppression of the synthetic FLAIR is preprocess.smk).

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
            "R1map.nii.gz",
            "desc-synthetic_FLAIR.nii.gz",
            "desc-synthetic_T1w.nii.gz",
            "desc-intracranial_mask.nii.gz",
            "T1map.json",
            "T2map.json",
            "PDmap.json",
            "TB1map.json",
            "R1map.json",
            "desc-synthetic_FLAIR.json",
            "desc-synthetic_T1w.json",
            "desc-intracranial_mask.json",
        ),
    log:
        "logs/quantify/sub-{subject}.log",
    conda:
        "../../envs/quantify.yaml"
    threads: 2
    params:
        out=lambda wc: f"results/quantify/sub-{wc.subject}",
        # scalars, not the config dicts: reordering keys in a YAML file must not rerun jobs
        flair_tr=QUANT["synthetic_flair"]["tr"],
        flair_te=QUANT["synthetic_flair"]["te"],
        flair_ti=QUANT["synthetic_flair"]["ti"],
        t1w_tr=QUANT["synthetic_t1w"]["tr"],
        t1w_te=QUANT["synthetic_t1w"]["te"],
    shell:
        "python -m synflair quantify --mdme {input.mdme:q} --out {params.out:q} "
        "--prefix sub-{wildcards.subject:q} "
        "--flair-tr {params.flair_tr:q} --flair-te {params.flair_te:q} "
        "--flair-ti {params.flair_ti:q} "
        "--t1w-tr {params.t1w_tr:q} --t1w-te {params.t1w_te:q} --threads {threads} "
        "> {log:q} 2>&1"
