"""The ``ci`` preset through a real SLURM (``--executor slurm``, profiles/slurm), with preemption.

Needs a running SLURM with a GPU gres (``profiles/slurm/local/start-cluster.sh``
brings one up on this machine; CI does so before the tests). Skipped, with the
reason, where there is none, unless ``SYNFLAIR_REQUIRE_SLURM=1`` (CI) makes that
a failure.

One workflow run (tests/workflow/slurm_workflow.py; 3 phantom subjects, 1 of them
training, instead of the preset's 5): while stage 1 trains, its SLURM job is
cancelled (``scancel``: SIGTERM, then SIGKILL after ``KillWait``). Snakemake
resubmits it (``retries`` in the profile) and the new job resumes from the last
checkpoint; the run still ends in the report. Checked: every rule but the local
ones ran as SLURM jobs, the training jobs asked SLURM for a GPU, the failed job's
SLURM log path is in Snakemake's error, and how many iterations the kill cost.

The run starts in the background as soon as pytest has collected this module
(tests/workflow/conftest.py), so most of its waiting overlaps the rest of the
suite; the module fixture below joins it.
"""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
from slurm_workflow import (
    CHECKPOINT_EVERY,
    ITERATIONS,
    KILL_AFTER,
    N_TEST,
    SlurmWorkflowRun,
    slurm_ready,
)
from workflow_helpers import job_counts

pytestmark = [pytest.mark.slow, pytest.mark.workflow, pytest.mark.slurm]


@pytest.fixture(scope="module")
def cluster():
    reason = slurm_ready()
    if reason is not None:
        if os.environ.get("SYNFLAIR_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm_run(cluster, background_slurm_run, tmp_path_factory):
    """The run started at collection (tests/workflow/conftest.py), else one started here."""
    run = background_slurm_run
    if run is None:
        run = SlurmWorkflowRun(tmp_path_factory.mktemp("slurm") / "wf").start()
    try:
        return run.result()
    finally:
        run.stop()


def test_slurm_run_makes_the_report(slurm_run):
    workdir, output = slurm_run["workdir"], slurm_run["output"]
    assert slurm_run["returncode"] == 0, output[-6000:]
    assert (workdir / "results" / "report.html").is_file()
    table = pd.read_csv(workdir / "results" / "stats" / "table.tsv", sep="\t")
    quality = table[table["metric"].isin(["psnr", "nrmse"])]
    assert len(quality) == 8
    assert set(quality["n"]) == {N_TEST}
    print(f"SLURM ci run: {slurm_run['seconds']:.0f} s")


def test_every_rule_ran_as_a_slurm_job(slurm_run):
    """Each planned job of each rule (but the local ones) was submitted with sbatch."""
    output = slurm_run["output"]
    planned = job_counts(output)
    assert planned, output[:3000]
    local = {"all", "derivatives_description", "derivatives_dseg_table"}
    submitted = re.findall(
        r"has been submitted with SLURM jobid \d+ \(log: \S*/slurm_logs/rule_(\w+)/", output
    )
    for rule, count in planned.items():
        if rule not in local:
            assert submitted.count(rule) >= count, (rule, count, sorted(set(submitted)))
    assert not local & set(submitted)
    # the cancelled stage-1 job was submitted again (retries: 1)
    assert submitted.count("train_stage") == planned["train_stage"] + 1


def test_training_job_requested_a_gpu(slurm_run):
    killed = slurm_run["killed"]
    assert killed, "the training job was never seen running"
    assert "gpu:1" in killed["gres"], killed["gres"]


def test_failed_job_shows_its_slurm_log(slurm_run):
    output = slurm_run["output"]
    job = slurm_run["killed"]["job"]
    assert re.search(rf"\.snakemake/slurm_logs/rule_train_stage/\S*{job}\.log", output), output[
        -6000:
    ]


def test_cancelled_training_resumes_from_its_checkpoint(slurm_run):
    workdir, killed = slurm_run["workdir"], slurm_run["killed"]
    text = (workdir / "logs" / "train" / "stage-1.log").read_text()
    resumed = re.findall(r"resuming stage 1 from \S+ at iteration (\d+)", text)
    assert resumed, text[-3000:]
    start = int(resumed[-1])
    lost = killed["iteration"] - start
    print(
        f"scancel at logged iteration {killed['iteration']}, resumed at {start}: "
        f"{max(lost, 0)} iteration(s) lost (checkpoint every {CHECKPOINT_EVERY}, and on SIGTERM)"
    )
    assert start >= KILL_AFTER - CHECKPOINT_EVERY
    assert lost < CHECKPOINT_EVERY
    losses = pd.read_csv(next((workdir / "results" / "train").glob("stage-1/losses.tsv")), sep="\t")
    assert losses["iteration"].max() == ITERATIONS
    # one loss row per logged iteration: nothing duplicated by the resume
    assert losses["iteration"].is_unique
