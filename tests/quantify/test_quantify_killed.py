"""``synflair quantify`` killed mid-write: none of its outputs appears; a rerun cleans up."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import nibabel as nib
import numpy as np
from test_quantify_cli import AFFINE, FILES, sidecar

#: quantify with its NIfTI writer dying (SIGKILL) on the 4th of its 8 files
KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import synflair.quantify.api as q
    from synflair.cli import main
    real_save, calls = q.save, []
    def dying_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_save(*args, **kwargs)
    q.save = dying_save
    sys.exit(main(sys.argv[1:]))
    """
)


def test_killed_mid_write_leaves_no_output_and_the_rerun_no_leftover(head, tmp_path):
    mdme = tmp_path / "in" / "sub-01_mdme.nii.gz"
    mdme.parent.mkdir()
    signals = np.abs(head.signals[:, :, 4:7]).astype(np.float32)
    nib.save(nib.Nifti1Image(signals, AFFINE), mdme)
    (tmp_path / "in" / "sub-01_mdme.json").write_text(json.dumps(sidecar()))
    out = tmp_path / "out"
    argv = ["quantify", "--mdme", str(mdme), "--out", str(out), "--prefix", "sub-01"]
    killed = subprocess.run([sys.executable, "-c", KILLED, *argv], check=False)
    assert killed.returncode == -signal.SIGKILL
    names = [p.name for p in out.iterdir()]
    assert names and all(n.startswith(".sub-01_") for n in names), names  # temporaries only
    rerun = subprocess.run([sys.executable, "-m", "synflair", *argv], check=False)
    assert rerun.returncode == 0
    assert {p.name for p in out.iterdir()} == FILES | {f.replace(".nii.gz", ".json") for f in FILES}
