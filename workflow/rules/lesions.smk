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
        "python -m synflair lesions --flair {input.flair} --mask {input.mask} "
        "--gm {input.seg[0]} --wm {input.seg[1]} --csf {input.seg[2]} {params.override} "
        "{params.transform} "
        "--out {output.mask} --belief-out {output.belief} > {log} 2>&1"
