"""The phantom cohort's subjects: ids, train/test split, per-subject seeds and fake identifiers.

The workflow imports this module when it parses the Snakefile, so it imports
nothing beyond the standard library (the DICOM writer's ``PatientInfo`` is
imported inside :func:`patient_info`).

A subject's data depend only on the cohort seed, the preset and the subject id,
not on the cohort size: ``ph03`` is the same in a cohort of 12 and of 40, and
generating it alone (``--only ph03``) gives the same bytes as generating the
whole cohort.
"""

from __future__ import annotations

import hashlib
import math
import re

__all__ = [
    "INSTITUTION",
    "patient_info",
    "subject_ids",
    "subject_seed",
    "subject_splits",
    "uid_seed",
]

#: InstitutionName written into the phantom's DICOM.
INSTITUTION = "Synflair Phantom Hospital"
_ID = re.compile(r"^ph(\d{2,})$")


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of subjects must be a positive integer, not {n!r}")
    return n


def subject_ids(n: int) -> list[str]:
    """Ids ``["ph01", "ph02", ...]`` of a cohort of ``n`` subjects (3 digits when n > 99)."""
    width = 3 if _check_n(n) > 99 else 2
    return [f"ph{i:0{width}d}" for i in range(1, n + 1)]


def subject_splits(n: int, test_fraction: float = 0.25) -> dict[str, str]:
    """``{id: "train" | "test"}``: the last ``ceil(test_fraction n)`` subjects test, the rest train.

    The default (0.25) keeps the first ``floor(0.75 n)`` subjects for training. For
    ``n >= 2`` both splits have at least one subject (n = 40: 30/10 as in the
    paper; n = 12: 9/3; n = 2: 1/1; n = 14 with ``test_fraction`` 0.4: 8/6). A
    single subject is a test subject.
    """
    ids = subject_ids(n)
    if isinstance(test_fraction, bool) or not (
        isinstance(test_fraction, int | float) and 0 < test_fraction < 1
    ):
        raise ValueError(f"test_fraction must be a number in (0, 1), not {test_fraction!r}")
    n_test = math.ceil(test_fraction * n - 1e-9)
    n_train = n - n_test
    if n >= 2:
        n_train = min(max(n_train, 1), n - 1)
    return {sid: ("train" if i < n_train else "test") for i, sid in enumerate(ids)}


def _check_id(subject_id) -> int:
    match = _ID.match(subject_id) if isinstance(subject_id, str) else None
    if match is None:
        raise ValueError(f"subject id must look like 'ph01', not {subject_id!r}")
    return int(match.group(1))


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return seed


def subject_seed(seed: int, subject_id: str) -> int:
    """The seed of one subject's generator, from the cohort seed and the subject id.

    A hash (SHA-256) of both, so it is the same in every process and Python
    version (unlike :func:`hash`), and independent of the cohort size.

    Returns
    -------
    int
        In ``[0, 2**63)``; use as ``numpy.random.default_rng(subject_seed(...))``.
    """
    _check_id(subject_id)
    text = f"synflair-phantom:{_check_seed(seed)}:{subject_id}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") >> 1


def uid_seed(seed: int, preset: str, subject_id: str) -> str:
    """Seed of all DICOM UIDs of one subject (study, frame of reference, series, images)."""
    _check_id(subject_id)
    return f"synflair-phantom/{preset}/{_check_seed(seed)}/{subject_id}"


def patient_info(subject_id: str):
    """Fake patient identifiers of a phantom subject, derivable from its id.

    ``ph07`` -> PatientName ``Phantom^Subject07``, PatientID ``SYNFLAIR-PH07``,
    AccessionNumber ``ACC-PH07``, InstitutionName :data:`INSTITUTION` and a
    birth date in 1960-1999 that is a function of the number. Later stages must
    drop all of them; tests search their outputs for these strings.

    Returns
    -------
    synflair.io.dicom_write.PatientInfo
    """
    from synflair.io.dicom_write import PatientInfo

    number = _check_id(subject_id)
    digits = subject_id[2:]
    birth = f"{1960 + (number * 7) % 40:04d}{1 + number % 12:02d}{1 + (number * 5) % 28:02d}"
    return PatientInfo(
        name=f"Phantom^Subject{digits}",
        patient_id=f"SYNFLAIR-{subject_id.upper()}",
        birth_date=birth,
        accession=f"ACC-{subject_id.upper()}",
        institution=INSTITUTION,
    )
