# The self-contained HTML report (results/report.html).


rule report_html:
    input:
        unpack(report_inputs),
    output:
        report("results/report.html", caption="../report/report.rst", category="Report"),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/report.yaml"
    params:
        config=config,
        test=TEST,
        train=TRAIN,
        phantom=IS_PHANTOM,
    script:
        "../scripts/report.py"
