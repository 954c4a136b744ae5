"""What a model was trained on, and the check that a new exam was acquired the same way.

A model maps the 8 MDME signals of a voxel to FLAIR. The mapping holds only
for the acquisition it was trained on: other echo times, saturation delays or
TR change every signal ratio the generator has learnt. Training therefore
records, in the model file, the MDME protocol(s) of its training subjects
(read from their MDME sidecars, :mod:`synflair.io.sidecar`) and, where known,
the FLAIR targets' TE/TI/TR; inference refuses an exam whose protocol matches
none of the recorded ones.

**Tolerance** (:data:`TIME_TOLERANCE`, :data:`ANGLE_TOLERANCE`): every echo
time, saturation delay and the TR may differ by 1 % or 0.5 ms, whichever is
larger (DICOM rounds times, and scanners report TR and delays to a few tenths
of a millisecond); flip angles by 1 degree. The number of echo times and of
delays, and the image component (magnitude or real), must be equal.

Times are in ms, as everywhere in synflair's Python (the sidecars hold seconds).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synflair.errors import SynflairError
from synflair.io.sidecar import MDMESidecar, read_mdme_sidecar, sidecar_path

__all__ = [
    "ANGLE_TOLERANCE",
    "TIME_TOLERANCE",
    "FlairRecord",
    "MDMEProtocolRecord",
    "TrainingRecord",
    "check_exam_protocol",
    "training_record",
]

#: Allowed difference of a time: (relative, absolute ms); the larger one applies.
TIME_TOLERANCE = (0.01, 0.5)
#: Allowed difference of a flip angle, degrees.
ANGLE_TOLERANCE = 1.0


@dataclass(frozen=True)
class MDMEProtocolRecord:
    """One MDME protocol: the parameters the generator's input depends on (ms, degrees).

    The names are the sidecar's keys, so that a refusal names what the user
    finds in the exam's ``mdme.json``.
    """

    EchoTime: tuple[float, ...]
    SaturationDelayTime: tuple[float, ...]
    RepetitionTime: float
    FlipAngle: float
    SaturationFlipAngle: float
    ImageComponent: str

    @classmethod
    def of(cls, sidecar: MDMESidecar) -> MDMEProtocolRecord:
        """The protocol of an MDME sidecar (distinct echo times and delays, in order)."""
        return cls(
            tuple(dict.fromkeys(sidecar.echo_time)),
            tuple(dict.fromkeys(sidecar.saturation_delay)),
            sidecar.repetition_time,
            sidecar.flip_angle,
            sidecar.saturation_flip_angle,
            sidecar.image_component,
        )

    def difference(self, exam: MDMEProtocolRecord) -> str | None:
        """The first parameter of ``exam`` outside the tolerance, in words; None if it fits."""
        for key in ("EchoTime", "SaturationDelayTime"):
            ours, theirs = getattr(self, key), getattr(exam, key)
            if len(ours) != len(theirs):
                return (
                    f"{key}: the exam has {len(theirs)} distinct values {_ms(theirs)}, "
                    f"the model's protocol {len(ours)} {_ms(ours)}"
                )
            for index, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
                if not _time_close(a, b):
                    return (
                        f"{key} {index} of {len(ours)} is {b:g} ms in the exam, "
                        f"{a:g} ms in the model's protocol"
                    )
        if not _time_close(self.RepetitionTime, exam.RepetitionTime):
            return (
                f"RepetitionTime is {exam.RepetitionTime:g} ms in the exam, "
                f"{self.RepetitionTime:g} ms in the model's protocol"
            )
        for key in ("FlipAngle", "SaturationFlipAngle"):
            a, b = getattr(self, key), getattr(exam, key)
            if abs(a - b) > ANGLE_TOLERANCE:
                return f"{key} is {b:g} degrees in the exam, {a:g} degrees in the model's protocol"
        if self.ImageComponent != exam.ImageComponent:
            return (
                f"ImageComponent is {exam.ImageComponent!r} in the exam, "
                f"{self.ImageComponent!r} in the model's protocol"
            )
        return None

    def to_dict(self) -> dict:
        return {
            "EchoTime": list(self.EchoTime),
            "SaturationDelayTime": list(self.SaturationDelayTime),
            "RepetitionTime": self.RepetitionTime,
            "FlipAngle": self.FlipAngle,
            "SaturationFlipAngle": self.SaturationFlipAngle,
            "ImageComponent": self.ImageComponent,
        }

    @classmethod
    def from_dict(cls, mapping: Any, name: str) -> MDMEProtocolRecord:
        if not isinstance(mapping, Mapping):
            raise SynflairError(f"{name}: expected a mapping, not {type(mapping).__name__}")
        return cls(
            _times(mapping, "EchoTime", name),
            _times(mapping, "SaturationDelayTime", name),
            _positive(mapping, "RepetitionTime", name),
            _positive(mapping, "FlipAngle", name),
            _positive(mapping, "SaturationFlipAngle", name),
            _text(mapping, "ImageComponent", name),
        )


@dataclass(frozen=True)
class FlairRecord:
    """A FLAIR target's acquisition (ms): the stage-1 synthetic or the conventional FLAIR."""

    EchoTime: float
    InversionTime: float
    RepetitionTime: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("EchoTime", "InversionTime", "RepetitionTime")}

    @classmethod
    def from_dict(cls, mapping: Any, name: str) -> FlairRecord:
        if not isinstance(mapping, Mapping):
            raise SynflairError(f"{name}: expected a mapping, not {type(mapping).__name__}")
        keys = ("EchoTime", "InversionTime", "RepetitionTime")
        return cls(*(_positive(mapping, key, name) for key in keys))

    def describe(self) -> str:
        return (
            f"TE {self.EchoTime:g} ms, TI {self.InversionTime:g} ms, TR {self.RepetitionTime:g} ms"
        )


@dataclass(frozen=True)
class TrainingRecord:
    """What a model was trained on.

    Attributes
    ----------
    subjects : tuple of str
        The training subjects (those fitted; validation subjects are in the
        model's ``selection``).
    protocols : tuple of MDMEProtocolRecord
        The distinct MDME protocols of their sidecars (usually one); empty when
        no training subject had a sidecar.
    flair : tuple of FlairRecord
        The distinct acquisitions of the conventional FLAIR targets, where their
        sidecars say (empty when unknown).
    """

    subjects: tuple[str, ...]
    protocols: tuple[MDMEProtocolRecord, ...]
    flair: tuple[FlairRecord, ...] = ()

    def to_dict(self) -> dict:
        return {
            "subjects": list(self.subjects),
            "protocols": [p.to_dict() for p in self.protocols],
            "flair": [f.to_dict() for f in self.flair],
        }

    @classmethod
    def from_dict(cls, mapping: Any, name: str = "trained_on") -> TrainingRecord:
        """Inverse of :meth:`to_dict`; errors name ``name`` and the entry."""
        if not isinstance(mapping, Mapping):
            raise SynflairError(f"{name}: expected a mapping, not {type(mapping).__name__}")
        subjects = mapping.get("subjects", [])
        if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
            raise SynflairError(f"{name}: 'subjects' is {subjects!r}, expected a list of names")
        lists = {}
        for key in ("protocols", "flair"):
            value = mapping.get(key, [])
            if not isinstance(value, list):
                raise SynflairError(f"{name}: {key!r} is {value!r}, expected a list")
            lists[key] = value
        return cls(
            tuple(subjects),
            tuple(
                MDMEProtocolRecord.from_dict(p, f"{name}: protocols[{i}]")
                for i, p in enumerate(lists["protocols"])
            ),
            tuple(
                FlairRecord.from_dict(f, f"{name}: flair[{i}]")
                for i, f in enumerate(lists["flair"])
            ),
        )

    def describe(self) -> str:
        """One line for logs and the report."""
        if self.protocols:
            p = self.protocols[0]
            protocol = (
                f"MDME TE {_ms(p.EchoTime)} ms, TD {_ms(p.SaturationDelayTime)} ms, "
                f"TR {p.RepetitionTime:g} ms"
            )
            if len(self.protocols) > 1:
                protocol += f" (and {len(self.protocols) - 1} other protocol(s))"
        else:
            protocol = "MDME protocol not recorded"
        text = f"{len(self.subjects)} subject(s) ({', '.join(self.subjects)}); {protocol}"
        if self.flair:
            text += "; FLAIR target " + "; ".join(f.describe() for f in self.flair)
        return text


def check_exam_protocol(
    record: TrainingRecord, exam: MDMESidecar, *, model: str | os.PathLike, name: str
) -> None:
    """Raise unless the exam's MDME protocol fits one the model was trained on.

    Parameters
    ----------
    record : TrainingRecord
        The model's record; with no protocol recorded nothing is checked.
    exam : MDMESidecar
        The new exam's sidecar.
    model, name : path-like, str
        The model file and the exam's sidecar, named in the message.

    Raises
    ------
    SynflairError
        Naming the exam, the model and the first parameter that differs
        (against the first recorded protocol), with both values.
    """
    if not record.protocols:
        return
    ours = MDMEProtocolRecord.of(exam)
    differences = [protocol.difference(ours) for protocol in record.protocols]
    if any(d is None for d in differences):
        return
    low, high = TIME_TOLERANCE
    raise SynflairError(
        f"{name}: MDME protocol differs from the one model {model} was trained on: "
        f"{differences[0]} (tolerance {100 * low:g} % or {high:g} ms for times, "
        f"{ANGLE_TOLERANCE:g} degree for flip angles); train a model on this protocol"
    )


def training_record(
    subjects: Iterable[str],
    mdme: Iterable[str | os.PathLike],
    flair_sidecars: Iterable[str | os.PathLike | None] = (),
) -> TrainingRecord:
    """The record of a training run from its subjects' MDME NIfTIs (their sidecars beside them).

    A subject whose MDME NIfTI has no sidecar adds no protocol; a FLAIR
    sidecar (``EchoTime``, ``InversionTime``, ``RepetitionTime`` in s, as
    dcm2niix writes) that is missing or lacks a key adds no FLAIR record.

    Raises
    ------
    SynflairError
        For a sidecar that exists but is not a valid MDME sidecar.
    """
    protocols: dict[MDMEProtocolRecord, None] = {}
    for path in mdme:
        json_path = sidecar_path(path)
        if json_path.is_file():
            protocols[MDMEProtocolRecord.of(read_mdme_sidecar(json_path, image=path))] = None
    flairs: dict[FlairRecord, None] = {}
    for path in flair_sidecars:
        record = _flair_record(Path(path)) if path else None
        if record is not None:
            flairs[record] = None
    return TrainingRecord(tuple(subjects), tuple(protocols), tuple(flairs))


def _flair_record(path: Path) -> FlairRecord | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    keys = ("EchoTime", "InversionTime", "RepetitionTime")
    values = [meta.get(k) if isinstance(meta, dict) else None for k in keys]
    if not all(_number(v) and v > 0 for v in values):
        return None
    return FlairRecord(*(round(1000.0 * v, 6) for v in values))


def _time_close(a: float, b: float) -> bool:
    low, high = TIME_TOLERANCE
    return abs(a - b) <= max(low * abs(a), high)


def _ms(values: Iterable[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(mapping: Mapping, key: str, name: str) -> float:
    value = mapping.get(key)
    if not (_number(value) and value > 0):
        raise SynflairError(f"{name}: {key} is {value!r}, expected a positive number")
    return float(value)


def _times(mapping: Mapping, key: str, name: str) -> tuple[float, ...]:
    value = mapping.get(key)
    if not isinstance(value, list) or not value or not all(_number(v) and v > 0 for v in value):
        raise SynflairError(f"{name}: {key} is {value!r}, expected a list of positive ms")
    return tuple(float(v) for v in value)


def _text(mapping: Mapping, key: str, name: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str):
        raise SynflairError(f"{name}: {key} is {value!r}, expected a string")
    return value
