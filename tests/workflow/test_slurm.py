"""The ``ci`` preset through a real SLURM (``--executor slurm``, profiles/slurm), with preemption.

Needs a running SLURM with a GPU gres (``profiles/slurm/local/start-cluster.sh``
brings one up on this machine; CI does so before the tests). Skipped, with the
reason, where there is none, unless ``SYNFLAIR_REQUIRE_SLURM=1`` (CI) makes that
a failure.

One workflow run: while stage 1 trains, its SLURM job is cancelled (``scancel``:
SIGTERM, then SIGKILL after ``KillWait``). Snakemake resubmits it (``retries`` in
the profile) and the new job resumes from the last checkpoint; the run still
ends in the report. Checked: the training jobs asked SLURM for a GPU, the
failed job's SLURM log path is in Snakemake's error, and how many iterations
the kill cost.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pandas as pd
import pytest
from workflow_helpers import ROOT, copy_workflow, snakemake_command, write_config

pytestmark = [pytest.mark.slow, pytest.mark.workflow, pytest.mark.slurm]

ITERATIONS = 1500  # stage 1, long enough to be killed in the middle (~40 s on 2 cores)
KILL_AFTER = 400  # cancel once the log shows this iteration
CHECKPOINT_EVERY = 50


def _slurm_ready() -> str | None:
    """None when a SLURM controller answers with an idle GPU node, else why not."""
    for tool in ("sbatch", "squeue", "scancel", "scontrol", "sinfo"):
        if shutil.which(tool) is None:
            return f"needs SLURM: {tool} not on PATH (profiles/slurm/local/start-cluster.sh)"
    try:
        info = subprocess.run(
            ["sinfo", "-h", "-o", "%T %G"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "needs SLURM: sinfo did not answer in 20 s"
    if info.returncode != 0:
        return f"needs SLURM: sinfo failed ({info.stderr.strip()})"
    if "gpu" not in info.stdout:
        return f"needs a SLURM node with a GPU gres, sinfo says {info.stdout.strip()!r}"
    return None


@pytest.fixture(scope="module")
def cluster():
    reason = _slurm_ready()
    if reason is not None:
        if os.environ.get("SYNFLAIR_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _train_jobs() -> list[tuple[str, str, str]]:
    """(job id, state, comment) of the queued/running train_stage jobs."""
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i|%T|%k"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split("|", 2) for line in out.splitlines() if line.strip()]
    return [tuple(r) for r in rows if len(r) == 3 and "train_stage" in r[2]]


def _last_iteration(log) -> int:
    if not log.is_file():
        return 0
    # the progress line: "stage 1: 400/1500 (27%), 34.2 it/s, ETA 0:00:32: g_loss ..."
    found = re.findall(r"stage 1: (\d+)/\d+ \(", log.read_text())
    return int(found[-1]) if found else 0


def _gres_of(job_id: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    match = re.search(r"TresPerJob=(\S+)", out) or re.search(r"TresPerNode=(\S+)", out)
    return match.group(1) if match else out


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm") / "wf")
    changes = {"stage1.iterations": ITERATIONS, "checkpoint_every": CHECKPOINT_EVERY}
    write_config(workdir, "config/train/slurm.yaml", base="config/train/ci.yaml", **changes)
    write_config(workdir, "slurm.yaml", **{"training.preset": "config/train/slurm.yaml"})
    shutil.copytree(ROOT / "profiles", workdir / "profiles")

    command = snakemake_command(
        "--profile",
        "profiles/slurm",
        "--workflow-profile",
        "profiles/slurm/local",
        "--configfile",
        "slurm.yaml",
    )
    env = {k: v for k, v in os.environ.items() if k != "FSLDIR"}
    log = workdir / "logs" / "train" / "stage-1.log"
    started = time.monotonic()
    with open(workdir / "snakemake.out", "w") as sink:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True
        )
        killed = {}
        try:
            deadline = time.monotonic() + 1500
            while time.monotonic() < deadline and process.poll() is None:
                jobs = [j for j in _train_jobs() if j[1] == "RUNNING"]
                iteration = _last_iteration(log)
                if not killed and jobs and iteration >= KILL_AFTER:
                    job_id = jobs[0][0]
                    killed = {"job": job_id, "gres": _gres_of(job_id), "iteration": iteration}
                    subprocess.run(["scancel", job_id], check=True)
                time.sleep(0.5)
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if process.poll() is None:
                process.kill()
                subprocess.run(["scancel", "--me"], check=False)
    output = (workdir / "snakemake.out").read_text()
    return {
        "workdir": workdir,
        "returncode": process.returncode,
        "output": output,
        "killed": killed,
        "seconds": time.monotonic() - started,
    }


def test_slurm_run_makes_the_report(slurm_run):
    workdir, output = slurm_run["workdir"], slurm_run["output"]
    assert slurm_run["returncode"] == 0, output[-6000:]
    assert (workdir / "results" / "report.html").is_file()
    table = pd.read_csv(workdir / "results" / "stats" / "table.tsv", sep="\t")
    assert len(table[table["metric"].isin(["psnr", "nrmse"])]) == 8
    print(f"SLURM ci run: {slurm_run['seconds']:.0f} s")


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
