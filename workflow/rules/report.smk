# The self-contained HTML report (results/report.html): the evaluation, or, applying a trained
# model (config key `model`), what was made with which model.
from synflair.report.methods import report_config


rule report_html:
    input:
        unpack(report_inputs),
        # phantom subject folders of the test subjects: their true lesion masks are counted
        phantom=lambda wildcards: (
            [f"{PHANTOM_DIR}/sub-{subject}" for subject in TEST] if IS_PHANTOM else []
        ),
    output:
        report("results/report.html", caption="../report/report.rst", category="Report"),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    params:
        config=report_config(config),
        test=TEST,
        train=TRAIN,
        phantom=IS_PHANTOM,
        # applying a model: the report of the DL-FLAIRs made (synflair.report.applied)
        apply=APPLY,
    script:
        "../scripts/report.py"
