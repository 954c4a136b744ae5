"""Plausible MR timing and flip angles, and the unit mix-ups they reveal (issue 11.4)."""

from __future__ import annotations

import math

import pytest

from synflair.errors import SynflairError
from synflair.io.plausibility import (
    MDME_TIME_RANGES,
    check_angle,
    check_mdme_acquisition,
    check_option_ms,
    check_times,
)
from synflair.physics import MDME_PAPER


def _paper(**changes):
    values = dict(
        echo_time=MDME_PAPER.volume_te,
        saturation_delay=MDME_PAPER.volume_td,
        repetition_time=MDME_PAPER.tr,
        flip_angle=90.0,
        saturation_flip_angle=120.0,
    )
    values.update(changes)
    return values


def test_the_papers_protocol_passes():
    check_mdme_acquisition("x.json", **_paper(), refocusing_flip_angle=180.0)
    check_mdme_acquisition("dicom", **_paper(), unit="ms", source="DICOM")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"echo_time": [16900.0, 84500.0]}, "EchoTime [16.9, 84.5] looks like milliseconds"),
        (
            {"saturation_delay": [146e3, 3879e3]},
            "SaturationDelayTime [146, 3879] looks like milliseconds",
        ),
        ({"repetition_time": 4e6}, "RepetitionTime 4000 looks like milliseconds"),
        ({"echo_time": [600000.0]}, "EchoTime [600] s is not plausible"),
        ({"echo_time": [math.nan]}, "EchoTime [nan] s must be finite and positive"),
        (
            {"saturation_delay": [-146.0]},
            "SaturationDelayTime [-0.146] s must be finite and positive",
        ),
        ({"repetition_time": 0.0}, "RepetitionTime 0 s must be finite and positive"),
        ({"repetition_time": 3000.0}, "SaturationDelayTime 3.879 s is not shorter than"),
        ({"flip_angle": 1.5708}, "FlipAngle 1.5708 looks like radians; the sidecar uses deg"),
        ({"saturation_flip_angle": 400.0}, "SaturationFlipAngle 400 degrees is not plausible"),
        ({"saturation_flip_angle": -120.0}, "SaturationFlipAngle -120 must be a finite"),
        ({"flip_angle": math.inf}, "FlipAngle inf must be a finite"),
    ],
)
def test_implausible_sidecar_values_are_named(changes, message):
    with pytest.raises(SynflairError) as info:
        check_mdme_acquisition("x.json", **_paper(**changes))
    assert str(info.value).startswith(f"x.json: {message}"), str(info.value)


def test_dicom_times_in_seconds_are_named():
    with pytest.raises(SynflairError, match=r"^d: TriggerTime \[0.146, 0.546, 1.879, 3.879\] "):
        check_mdme_acquisition(
            "d",
            **_paper(saturation_delay=[0.146, 0.546, 1.879, 3.879]),
            unit="ms",
            source="DICOM",
            keys={"SaturationDelayTime": "TriggerTime"},
        )
    with pytest.raises(SynflairError, match="looks like seconds; DICOM uses milliseconds"):
        check_mdme_acquisition("d", **_paper(echo_time=[0.0169, 0.0845]), unit="ms", source="DICOM")


def test_limits_are_inclusive_and_scalars_print_plainly():
    low, high = MDME_TIME_RANGES["EchoTime"]
    check_times("f", "EchoTime", [low, high], (low, high))
    with pytest.raises(SynflairError, match=r"^f: EchoTime 0.5001 s is not plausible"):
        check_times("f", "EchoTime", high + 0.1, (low, high))
    check_angle("f", "FlipAngle", 180.0)
    with pytest.raises(SynflairError, match="looks like radians"):
        check_angle("f", "FlipAngle", math.pi)


@pytest.mark.parametrize(
    ("option", "value", "kind", "message"),
    [
        ("--flair-te", 0.1, "EchoTime", "--flair-te: EchoTime 0.1 looks like seconds"),
        ("--flair-tr", 15.0, "RepetitionTime", "--flair-tr: RepetitionTime 15 looks like sec"),
        ("--flair-ti", 3.0, "InversionTime", "--flair-ti: InversionTime 3 looks like seconds"),
        ("--t1w-te", -10.0, "EchoTime", "--t1w-te: EchoTime -10 ms must be finite"),
        ("--t1w-tr", 5e6, "RepetitionTime", "--t1w-tr: RepetitionTime 5e\\+06 ms is not plaus"),
    ],
)
def test_command_line_times_in_ms(option, value, kind, message):
    with pytest.raises(SynflairError, match=f"^{message}"):
        check_option_ms(option, value, kind)
    check_option_ms(option, {"EchoTime": 100, "RepetitionTime": 15000}.get(kind, 3000), kind)
