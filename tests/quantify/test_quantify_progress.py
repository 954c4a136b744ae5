"""Quantification of a large exam says how far it is: chunks done, rate, ETA."""

import logging
import re

import numpy as np

from synflair.physics import MDME_PAPER
from synflair.quantify.model import FitSettings, MDMEModel


def test_the_fit_logs_chunks_done_with_rate_and_eta(caplog):
    rng = np.random.default_rng(0)
    n = 2500
    t1 = np.exp(rng.uniform(np.log(300), np.log(5000), n))
    t2 = np.exp(rng.uniform(np.log(30), np.log(2000), n))
    signal = np.abs(MDME_PAPER.signal(t1, t2, rng.uniform(0.5, 1, n), rng.uniform(0.8, 1.2, n)))
    settings = FitSettings(pd_reference=1.0, background=0.0, chunk_size=1000, n_threads=1)
    caplog.set_level(logging.INFO, logger="synflair.progress")
    fit = MDMEModel(MDME_PAPER, settings=settings).fit(signal)
    assert fit.valid.all()
    lines = [r.getMessage() for r in caplog.records if r.name == "synflair.progress"]
    # 3 chunks of at most 1000 voxels; the last line is the end of the fit
    assert lines, "no progress line"
    assert re.fullmatch(
        r"quantification fit: 3/3 \(100%\), [0-9.e+]+ chunk/s, ETA 0:00:00", lines[-1]
    ), lines
