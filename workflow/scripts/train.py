"""Run one training stage; a resubmitted (e.g. preempted) job resumes from its checkpoint.

The checkpoint directory is keyed by the run's inputs and settings
(synflair.provenance.run_key), so a job rerun because something changed starts afresh.
"""

import shutil
import sys
from pathlib import Path

from synflair.cli import main
from synflair.provenance import run_key

sys.stderr = sys.stdout = open(snakemake.log[0], "a")
stage = snakemake.wildcards.stage
inputs, params = snakemake.input, snakemake.params
validation = list(inputs.validation)
files = [inputs.manifest, *validation, inputs.preset, *([inputs.init] if inputs.init else [])]
key = run_key(files, {"stage": stage, "iterations": params.iterations})
workdir = Path(snakemake.output.model).parent / f"run-{key}"

argv = ["train", "--stage", stage, "--manifest", inputs.manifest, "--config", inputs.preset]
argv += ["--out", snakemake.output.model, "--workdir", str(workdir), "--resume"]
argv += ["--device", params.device]
if inputs.init:
    argv += ["--init", inputs.init]
if validation:
    argv += ["--validation", validation[0]]
if params.iterations:
    argv += ["--iterations", str(params.iterations)]
status = main(argv)
if status:
    raise SystemExit(status)
shutil.copyfile(workdir / "losses.tsv", snakemake.output.losses)
shutil.copyfile(workdir / "losses.png", snakemake.output.curve)
