"""The ``ci`` preset through a real SLURM, with a ``scancel`` of stage 1, as a background run.

Most of such a run is waiting (``sbatch``, ``squeue`` polls, jobs queued for the
node), so tests/workflow/conftest.py starts it as soon as pytest has collected a
session that includes tests/workflow/test_slurm.py, and the rest of the suite
runs meanwhile; the module fixture of test_slurm.py joins it (or starts it there,
when the conftest did not). A monitor thread cancels the first running
``train_stage`` job once stage 1's log shows :data:`KILL_AFTER` iterations.
Whatever happens, :meth:`SlurmWorkflowRun.stop` kills Snakemake and
``scancel``s the run's jobs (by the run's SLURM job name) at the end of the session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from workflow_helpers import ROOT, copy_workflow, snakemake_command, write_config

ITERATIONS = 1000  # stage 1, long enough to be killed in the middle (~60 s on 1 core)
KILL_AFTER = 400  # cancel once the log shows this iteration
CHECKPOINT_EVERY = 50
#: Fewer phantom subjects than the ci preset's 5 (each one is ~10 SLURM jobs, most of the
#: run's CPU time): 1 trains, N_TEST are tested; every rule still runs as a SLURM job.
SUBJECTS, TEST_FRACTION, N_TEST = 3, 0.5, 2
# seconds, start to end of Snakemake: 16-18 min were seen beside the rest of the suite on a
# 2-core machine that other work shared
TIMEOUT = 2400
POLL = 0.5  # seconds between looks at squeue and the stage-1 log


def slurm_ready() -> str | None:
    """None when a SLURM controller answers with a GPU node, else why not."""
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


def _train_jobs(run_id: str) -> list[tuple[str, str, str]]:
    """(job id, state, comment) of this run's queued/running train_stage jobs."""
    out = subprocess.run(
        ["squeue", "-h", "--name", run_id, "-o", "%i|%T|%k"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = [line.split("|", 2) for line in out.splitlines() if line.strip()]
    return [tuple(r) for r in rows if len(r) == 3 and "train_stage" in r[2]]


def last_iteration(log: Path) -> int:
    """The last stage-1 iteration in the training log (0 before the first progress line)."""
    if not log.is_file():
        return 0
    # the progress line: "stage 1: 400/1500 (27%), 34.2 it/s, ETA 0:00:32: g_loss ..."
    found = re.findall(r"stage 1: (\d+)/\d+ \(", log.read_text())
    return int(found[-1]) if found else 0


def _gres_of(job_id: str) -> str:
    out = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=60
    ).stdout
    match = re.search(r"TresPerJob=(\S+)", out) or re.search(r"TresPerNode=(\S+)", out)
    return match.group(1) if match else out


def prepare(workdir: Path) -> list[str]:
    """The workflow, the profiles and the run's config in ``workdir``; the command to run."""
    copy_workflow(workdir)
    changes = {"stage1.iterations": ITERATIONS, "checkpoint_every": CHECKPOINT_EVERY}
    write_config(workdir, "config/train/slurm.yaml", base="config/train/ci.yaml", **changes)
    write_config(
        workdir,
        "slurm.yaml",
        **{
            "training.preset": "config/train/slurm.yaml",
            "phantom.subjects": SUBJECTS,
            "phantom.test_fraction": TEST_FRACTION,
        },
    )
    shutil.copytree(ROOT / "profiles", workdir / "profiles")
    return snakemake_command(
        "--profile",
        "profiles/slurm",
        "--workflow-profile",
        "profiles/slurm/local",
        "--configfile",
        "slurm.yaml",
    )


class SlurmWorkflowRun:
    """One Snakemake run through SLURM in ``workdir``, watched by a monitor thread."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log = workdir / "logs" / "train" / "stage-1.log"
        self.out = workdir / "snakemake.out"
        self.killed: dict = {}
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._run_id: str | None = None

    def start(self) -> SlurmWorkflowRun:
        """Prepare the workdir, start Snakemake and the monitor thread; returns at once."""
        command = prepare(self.workdir)
        env = {k: v for k, v in os.environ.items() if k != "FSLDIR"}
        # one thread per job (the jobs inherit this environment): the node's 2 CPUs are
        # shared with the rest of the suite, where multi-threaded torch crawls
        env["OMP_NUM_THREADS"] = "1"
        self._started = time.monotonic()
        with open(self.out, "w") as sink:
            self._process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        self._thread = threading.Thread(target=self._monitor, name="slurm-run", daemon=True)
        self._thread.start()
        return self

    def run_id(self) -> str | None:
        """The SLURM job name of this run's jobs, once Snakemake has printed it."""
        if self._run_id is None:
            match = re.search(r"^SLURM run ID: (\S+)$", self.out.read_text(), re.MULTILINE)
            self._run_id = match.group(1) if match else None
        return self._run_id

    def _monitor(self) -> None:
        try:
            deadline = self._started + TIMEOUT
            while time.monotonic() < deadline and self._process.poll() is None:
                if not self.killed:
                    self._kill_training_once_it_ran()
                time.sleep(POLL)
        except BaseException as error:  # reported by result(), never lost in the thread
            self.error = error
        finally:
            self.seconds = time.monotonic() - self._started
            self.stop()

    def _kill_training_once_it_ran(self) -> None:
        run_id = self.run_id()
        if run_id is None:
            return
        jobs = [j for j in _train_jobs(run_id) if j[1] == "RUNNING"]
        iteration = last_iteration(self.log)
        if jobs and iteration >= KILL_AFTER:
            job_id = jobs[0][0]
            self.killed = {"job": job_id, "gres": _gres_of(job_id), "iteration": iteration}
            subprocess.run(["scancel", job_id], check=True, timeout=60)

    def stop(self) -> None:
        """Kill Snakemake if it still runs, and cancel the run's SLURM jobs (idempotent)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait()
        run_id = self.run_id()
        if run_id is not None:
            subprocess.run(["scancel", "--name", run_id], check=False, timeout=60)

    def result(self) -> dict:
        """Wait for the run (at most until its deadline); what test_slurm.py checks."""
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"monitoring the SLURM run failed: {self.error!r}") from self.error
        return {
            "workdir": self.workdir,
            "returncode": self._process.returncode,
            "output": self.out.read_text(),
            "killed": self.killed,
            "seconds": self.seconds,
        }
