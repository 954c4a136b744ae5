# FLAIR-hyperintensity lesion maps, the same method on synthetic, DL and conventional FLAIR.


rule lesions_segment:
    input:
        flair=lesion_flair,
        transform=lesion_transform_input,
        mask=synthetic("mask"),
        seg=multiext(
            res("segmentation", "{subject}", ""),
            "label-GM_probseg.nii.gz",
            "label-WM_probseg.nii.gz",
            "label-CSF_probseg.nii.gz",
        ),
        override=lesion_override_input,
    output:
        mask=res("lesions", "{subject}", "desc-{image}_lesions.nii.gz"),
        belief=res("lesions", "{subject}", "desc-{image}_belief.nii.gz"),
    log:
        "logs/lesions/sub-{subject}_{image}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        override=override_argument,
        transform=transform_argument,
    shell:
        "python -m synflair lesions --flair {input.flair:q} --mask {input.mask:q} "
        "--gm {input.seg[0]:q} --wm {input.seg[1]:q} --csf {input.seg[2]:q} "
        "{params.override:q} {params.transform:q} "
        "--out {output.mask:q} --belief-out {output.belief:q} > {log:q} 2>&1"
