# DICOM -> NIfTI: the MDME raw series (pydicom sorter) and conventional FLAIR (dcm2niix).


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
        folders=mdme_folders,
        component=config["conversion"]["mdme_component"],
        delay=delay_argument(),
    shell:
        "python -m synflair dicom2nifti --kind mdme --dicom {params.folders:q} "
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
        folder=flair_folder,
    shell:
        "python -m synflair dicom2nifti --kind standard --dicom {params.folder:q} "
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
