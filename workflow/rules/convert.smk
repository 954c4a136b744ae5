# DICOM -> NIfTI: the MDME raw series (pydicom sorter) and conventional FLAIR (dcm2niix), from
# their own folders (--dicom) or found in a study folder (--study, synflair.io.study); NIfTI
# inputs (sheet or BIDS) are checked and copied (--nifti, synflair.io.nifti_input).


rule convert_mdme:
    input:
        get_mdme_dicom,
    output:
        nii=res("nifti", "{subject}", "mdme.nii.gz"),
        json=res("nifti", "{subject}", "mdme.json"),
    log:
        "logs/convert/sub-{subject}_mdme.log",
    conda:
        "../../envs/dicom.yaml"
    params:
        source=conversion_source("mdme"),
        component=config["conversion"]["mdme_component"],
        delay=delay_argument,
    shell:
        "python -m synflair dicom2nifti --kind mdme {params.source:q} "
        "--out {output.nii:q} --component {params.component:q} {params.delay:q} "
        "> {log:q} 2>&1"


rule convert_flair:
    input:
        get_flair_dicom,
    output:
        nii=res("nifti", "{subject}", "FLAIR.nii.gz"),
        json=res("nifti", "{subject}", "FLAIR.json"),
    log:
        "logs/convert/sub-{subject}_FLAIR.log",
    conda:
        "../../envs/dicom.yaml"
    params:
        source=conversion_source("flair"),
    shell:
        "python -m synflair dicom2nifti --kind standard {params.source:q} "
        "--out {output.nii:q} > {log:q} 2>&1"


rule convert_vendor:
    input:
        lambda wc: SUBJECTS[wc.subject].vendor[wc.kind],
    output:
        nii=res("nifti", "{subject}", "desc-vendor_{kind}.nii.gz"),
        json=res("nifti", "{subject}", "desc-vendor_{kind}.json"),
    log:
        "logs/convert/sub-{subject}_vendor-{kind}.log",
    wildcard_constraints:
        kind="flair|t1w|mask",
    conda:
        "../../envs/dicom.yaml"
    shell:
        "python -m synflair dicom2nifti --kind standard --dicom {input:q} "
        "--out {output.nii:q} > {log:q} 2>&1"
