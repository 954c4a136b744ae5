"""Run one training stage; a resubmitted (e.g. preempted) job resumes from its checkpoint.

The checkpoint directory is keyed by the run's inputs and settings
(synflair.provenance.run_key), so a job rerun because something changed starts afresh.
"""

import logging
import shutil
import sys
from pathlib import Path

from synflair.errors import SynflairError
from synflair.provenance import run_key
from synflair.train.api import train_stage_files
from synflair.train.session import EXIT_INTERRUPTED, TrainingInterrupted

sys.stderr = sys.stdout = open(snakemake.log[0], "a")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
stage = snakemake.wildcards.stage
inputs, params = snakemake.input, snakemake.params
validation = list(inputs.validation)
files = [inputs.manifest, *validation, inputs.preset, *([inputs.init] if inputs.init else [])]
key = run_key(files, {"stage": stage, "iterations": params.iterations})
workdir = Path(snakemake.output.model).parent / f"run-{key}"

try:
    train_stage_files(
        stage=int(stage),
        manifest=inputs.manifest,
        config=inputs.preset,
        out=snakemake.output.model,
        workdir=workdir,
        init=inputs.init or None,
        validation=validation[0] if validation else None,
        iterations=params.iterations or None,
        device=params.device,
        resume=True,
        threads=snakemake.threads,
    )
except SynflairError as error:
    print(f"synflair train: error: {error}", file=sys.stderr)
    raise SystemExit(2) from None
except TrainingInterrupted as interrupted:  # SIGTERM (preemption): checkpoint written
    print(f"synflair train: {interrupted}", file=sys.stderr)
    raise SystemExit(EXIT_INTERRUPTED) from None
shutil.copyfile(workdir / "losses.tsv", snakemake.output.losses)
shutil.copyfile(workdir / "losses.png", snakemake.output.curve)
