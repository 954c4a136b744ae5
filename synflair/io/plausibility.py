"""Physically plausible MR acquisition parameters, and the unit mix-ups they reveal.

A sidecar with EchoTime in milliseconds where seconds are expected (x1000), or
a DICOM or command-line time in seconds where milliseconds are expected
(x1/1000), fits without complaint and gives wrong maps. Each value is checked
against the range an MDME (or synthetic-contrast) acquisition on a clinical
scanner can have; a value outside it that would be inside it in the other unit
is reported as a unit mix-up::

    sub-01_mdme.json: EchoTime [16.9, 84.5] looks like milliseconds; the sidecar
    uses seconds (expected 1-500 ms, i.e. 0.001-0.5 s)

Flip angles are in degrees; one of at most 2 pi looks like radians.

Every reader of MDME timing (the two sidecar readers, the DICOM importer, the
``quantify`` options) calls these functions, so the ranges are defined once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from synflair.errors import SynflairError

__all__ = [
    "ANGLE_RANGE",
    "MDME_TIME_RANGES",
    "SYNTHETIC_TIME_RANGES",
    "check_angle",
    "check_mdme_acquisition",
    "check_option_ms",
    "check_times",
]

#: Plausible MDME timing, ms: (lowest, highest). MAGiC/SyMRI use TE ~10-100 ms,
#: saturation delays ~100-4000 ms and TR ~4000 ms; the ranges leave a wide margin
#: but no room for a factor of 1000.
MDME_TIME_RANGES = {
    "EchoTime": (1.0, 500.0),
    "SaturationDelayTime": (1.0, 20000.0),
    "RepetitionTime": (100.0, 30000.0),
}

#: Plausible synthetic-contrast timing, ms (spin-echo and inversion-recovery images).
SYNTHETIC_TIME_RANGES = {
    "EchoTime": (1.0, 1000.0),
    "InversionTime": (10.0, 100000.0),
    "RepetitionTime": (100.0, 100000.0),
}

#: Plausible flip angles of the MDME spin-echo pulses (excitation, saturation,
#: refocusing), degrees.
ANGLE_RANGE = (10.0, 180.0)

_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds"}
_TO_MS = {"s": 1000.0, "ms": 1.0}


@dataclass(frozen=True)
class _Shown:
    """Values in the unit of their source, for messages."""

    values: tuple[float, ...]
    scalar: bool

    def __str__(self) -> str:
        text = ", ".join(f"{v:g}" for v in self.values)
        return text if self.scalar else f"[{text}]"


def check_times(
    where: str,
    key: str,
    values_ms: float | Iterable[float],
    limits: tuple[float, float],
    *,
    unit: str = "s",
    source: str = "the sidecar",
) -> None:
    """Refuse times outside ``limits`` (ms), naming a likely s/ms mix-up.

    Parameters
    ----------
    where : str
        The file (or option) named first in the message.
    key : str
        The key, attribute or option.
    values_ms : float or iterable of float
        The time(s) as read, converted to ms.
    limits : (float, float)
        Lowest and highest plausible value, ms (inclusive).
    unit : {"s", "ms"}
        The unit the source states its times in; values are shown in it.
    source : str
        What uses that unit, for the message ("the sidecar", "DICOM", ...).

    Raises
    ------
    SynflairError
        For a non-finite, non-positive or implausible value.
    """
    scalar = isinstance(values_ms, int | float)
    values = (float(values_ms),) if scalar else tuple(float(v) for v in values_ms)
    shown = _Shown(tuple(v / _TO_MS[unit] for v in values), scalar)
    low, high = limits
    expected = f"expected {low:g}-{high:g} ms"
    if unit == "s":
        expected += f", i.e. {low / 1000:g}-{high / 1000:g} s"
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise SynflairError(
            f"{where}: {key} {shown} {unit} must be finite and positive ({expected})"
        )
    if all(low <= v <= high for v in values):
        return
    other = "ms" if unit == "s" else "s"
    factor = _TO_MS[unit] / _TO_MS[other]  # ms per stated value if the value were `other`
    if all(low <= v / factor <= high for v in values):
        raise SynflairError(
            f"{where}: {key} {shown} looks like {_UNIT_NAMES[other]}; {source} uses "
            f"{_UNIT_NAMES[unit]} ({expected})"
        )
    raise SynflairError(f"{where}: {key} {shown} {unit} is not plausible ({expected})")


def check_angle(where: str, key: str, degrees: float, *, source: str = "the sidecar") -> None:
    """Refuse a flip angle outside :data:`ANGLE_RANGE` (degrees); name radians if it looks so."""
    low, high = ANGLE_RANGE
    value = float(degrees)
    if not (math.isfinite(value) and value > 0):
        raise SynflairError(
            f"{where}: {key} {value:g} must be a finite positive angle in degrees "
            f"(expected {low:g}-{high:g})"
        )
    if value <= 2 * math.pi and value < low:
        raise SynflairError(
            f"{where}: {key} {value:g} looks like radians; {source} uses degrees "
            f"(expected {low:g}-{high:g})"
        )
    if not low <= value <= high:
        raise SynflairError(
            f"{where}: {key} {value:g} degrees is not plausible (expected {low:g}-{high:g})"
        )


def check_mdme_acquisition(
    where: str,
    *,
    echo_time: Iterable[float],
    saturation_delay: Iterable[float],
    repetition_time: float,
    flip_angle: float,
    saturation_flip_angle: float | None,
    refocusing_flip_angle: float | None = None,
    unit: str = "s",
    source: str = "the sidecar",
    keys: dict | None = None,
) -> None:
    """Check the timing (ms) and flip angles (degrees) of an MDME acquisition.

    Parameters
    ----------
    where : str
        The sidecar file, or the DICOM folder(s), named in messages.
    echo_time, saturation_delay : iterable of float
        EchoTime and saturation delay of each volume (or each distinct one), ms.
    repetition_time : float
        TR, ms.
    flip_angle, saturation_flip_angle, refocusing_flip_angle : float or None
        Degrees; None skips the check (e.g. not stored).
    unit : {"s", "ms"}
        Unit of the source (the MDME sidecar: s; DICOM: ms).
    source : str
        What uses that unit, for messages.
    keys : dict, optional
        Names to show instead of the sidecar keys ``EchoTime``,
        ``SaturationDelayTime``, ``RepetitionTime``, ``FlipAngle``,
        ``SaturationFlipAngle``, ``RefocusingFlipAngle`` (e.g. the DICOM
        attribute the delays came from).

    Raises
    ------
    SynflairError
        Naming ``where``, the key and the values, and the unit they look like.
    """
    names = {key: key for key in MDME_TIME_RANGES}
    names.update({k: k for k in ("FlipAngle", "SaturationFlipAngle", "RefocusingFlipAngle")})
    names.update(keys or {})
    times = {
        "EchoTime": list(echo_time),
        "SaturationDelayTime": list(saturation_delay),
        "RepetitionTime": float(repetition_time),
    }
    for key, values in times.items():
        check_times(where, names[key], values, MDME_TIME_RANGES[key], unit=unit, source=source)
    tr = float(repetition_time)
    for key in ("EchoTime", "SaturationDelayTime"):
        longest = max(times[key])
        if longest >= tr:
            scale = _TO_MS[unit]
            raise SynflairError(
                f"{where}: {names[key]} {longest / scale:g} {unit} is not shorter than "
                f"{names['RepetitionTime']} {tr / scale:g} {unit}; expected every "
                f"{names[key]} < {names['RepetitionTime']}"
            )
    for key, value in (
        ("FlipAngle", flip_angle),
        ("SaturationFlipAngle", saturation_flip_angle),
        ("RefocusingFlipAngle", refocusing_flip_angle),
    ):
        if value is not None:
            check_angle(where, names[key], value, source=source)


def check_option_ms(option: str, value: float, kind: str) -> None:
    """Check a command-line time given in ms against :data:`SYNTHETIC_TIME_RANGES`.

    ``kind`` is ``"EchoTime"``, ``"InversionTime"`` or ``"RepetitionTime"``;
    ``option`` (e.g. ``--flair-te``) is named in the message.
    """
    limits = SYNTHETIC_TIME_RANGES[kind]
    check_times(option, kind, float(value), limits, unit="ms", source="the option")
