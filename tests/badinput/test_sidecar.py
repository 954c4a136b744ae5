"""Bad MDME sidecars and synthetic-contrast options to ``synflair quantify`` (issue 11.4).

Each case writes a tiny 4D MDME NIfTI (4 x 4 x 2 voxels, the paper's 8 volumes)
and a sidecar that is wrong in one way, and checks that ``quantify`` refuses it
with one line naming the sidecar (and the NIfTI where the two disagree) and the
key, writes none of its eight outputs and leaves its inputs unchanged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from badinput_harness import assert_refused

from synflair.nifti import save
from synflair.physics import MDME_PAPER
from synflair.quantify.api import output_paths

TE = [t / 1000 for t in MDME_PAPER.volume_te]  # s
TD = [t / 1000 for t in MDME_PAPER.volume_td]  # s


def _good() -> dict:
    return {
        "EchoTime": list(TE),
        "SaturationDelayTime": list(TD),
        "RepetitionTime": 4.0,
        "FlipAngle": 90.0,
        "SaturationFlipAngle": 120.0,
        "ImageComponent": "magnitude",
    }


def _with(**changes) -> dict:
    data = _good()
    data.update(changes)
    return data


def _without(key: str) -> dict:
    data = _good()
    del data[key]
    return data


#: id -> (sidecar text or None for no file, what the line must name besides the sidecar)
CASES = {
    "echo-time-in-ms": (
        json.dumps(_with(EchoTime=[1000 * t for t in TE])),
        ["EchoTime [16.9, 84.5", "looks like milliseconds; the sidecar uses seconds"],
    ),
    "delay-in-ms": (
        json.dumps(_with(SaturationDelayTime=[1000 * t for t in TD])),
        ["SaturationDelayTime [146, 146, 546", "looks like milliseconds"],
    ),
    "tr-in-ms": (
        json.dumps(_with(RepetitionTime=4000)),
        ["RepetitionTime 4000 looks like milliseconds"],
    ),
    "flip-in-radians": (
        json.dumps(_with(FlipAngle=math.pi / 2)),
        ["FlipAngle 1.5708 looks like radians; the sidecar uses degrees"],
    ),
    "saturation-angle-over-180": (
        json.dumps(_with(SaturationFlipAngle=400)),
        ["SaturationFlipAngle 400 degrees is not plausible"],
    ),
    "refocusing-angle-zero": (
        json.dumps(_with(RefocusingFlipAngle=0)),
        ["RefocusingFlipAngle 0 must be a finite positive angle"],
    ),
    "echo-time-nan": (
        json.dumps(_with(EchoTime=[math.nan, *TE[1:]])),
        ["EchoTime must be a finite number (s), not nan"],
    ),
    "delay-infinite": (
        json.dumps(_with(SaturationDelayTime=[*TD[:-1], math.inf])),
        ["SaturationDelayTime must be a finite number"],
    ),
    "delay-negative": (
        json.dumps(_with(SaturationDelayTime=[-t for t in TD])),
        ["SaturationDelayTime [-0.146", "must be finite and positive"],
    ),
    "tr-zero": (json.dumps(_with(RepetitionTime=0)), ["RepetitionTime 0 s must be finite"]),
    "tr-shorter-than-delay": (
        json.dumps(_with(RepetitionTime=3.0)),
        ["SaturationDelayTime 3.879 s is not shorter than RepetitionTime 3 s"],
    ),
    "flip-angle-string": (
        json.dumps(_with(FlipAngle="90")),
        ["FlipAngle must be a number (degrees), not '90'"],
    ),
    "echo-time-scalar": (
        json.dumps(_with(EchoTime=0.0169)),
        ["EchoTime must be a non-empty list of times in s"],
    ),
    "echo-time-empty": (json.dumps(_with(EchoTime=[])), ["EchoTime must be a non-empty list"]),
    "arrays-shorter-than-image": (
        json.dumps(_with(EchoTime=TE[:6], SaturationDelayTime=TD[:6])),
        ["EchoTime has 6 entries but the image has 8 volumes (4th dimension of"],
    ),
    "arrays-longer-than-image": (
        json.dumps(_with(EchoTime=TE + TE[:2], SaturationDelayTime=[*TD, 5.0, 5.0])),
        ["EchoTime has 10 entries but the image has 8 volumes (4th dimension of"],
    ),
    "echo-major-order": (
        json.dumps(_with(EchoTime=sorted(TE), SaturationDelayTime=TD[::2] * 2)),
        ["expected a full TE x TD grid in delay-major order"],
    ),
    "missing-repetition-time": (
        json.dumps(_without("RepetitionTime")),
        ["missing key(s) RepetitionTime"],
    ),
    "missing-echo-time": (json.dumps(_without("EchoTime")), ["missing key(s) EchoTime"]),
    "component-phase": (
        json.dumps(_with(ImageComponent="phase")),
        ["ImageComponent must be one of ('magnitude', 'real'), not 'phase'"],
    ),
    "no-sidecar": (None, ["no such file (expected the MDME JSON sidecar of"]),
    "not-json": ("{EchoTime: [0.0169,", ["not a readable JSON file"]),
    "empty-file": ("", ["not a readable JSON file"]),
    "json-list": (json.dumps([_good()]), ["expected a JSON object, not list"]),
    "json-null": ("null", ["expected a JSON object, not NoneType"]),
    "not-utf8": ("\udcff", ["not a readable JSON file"]),
}


def _write_inputs(folder: Path, text: str | None) -> tuple[Path, Path]:
    folder.mkdir()
    nii = folder / "sub-01_mdme.nii.gz"
    rng = np.random.default_rng(11)
    save(rng.uniform(100, 1000, (4, 4, 2, 8)).astype(np.float32), np.eye(4), nii)
    sidecar = folder / "sub-01_mdme.json"
    if text == "\udcff":
        sidecar.write_bytes(b'{"EchoTime": [\xff\xfe]}')
    elif text is not None:
        sidecar.write_text(text)
    return nii, sidecar


@pytest.mark.parametrize("case", list(CASES))
def test_bad_sidecar_is_refused(tmp_path, capsys, case):
    text, names = CASES[case]
    nii, sidecar = _write_inputs(tmp_path / "in", text)
    out = tmp_path / "out"
    if "image" in " ".join(names) or case == "no-sidecar":
        names = [*names, str(nii)]
    assert_refused(
        ["quantify", "--mdme", nii, "--out", out],
        capsys,
        names=[str(sidecar), *names],
        outputs=list(output_paths(out, "sub-01").values()),
        inputs=[tmp_path / "in"],
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--flair-te", "0.1", "--flair-te: EchoTime 0.1 looks like seconds"),
        ("--flair-tr", "15", "--flair-tr: RepetitionTime 15 looks like seconds"),
        ("--flair-ti", "3", "--flair-ti: InversionTime 3 looks like seconds"),
        ("--t1w-tr", "0.5", "--t1w-tr: RepetitionTime 0.5 looks like seconds"),
        ("--t1w-te", "-10", "--t1w-te: EchoTime -10 ms must be finite and positive"),
        ("--flair-te", "nan", "--flair-te: EchoTime nan ms must be finite and positive"),
    ],
)
def test_synthetic_times_in_seconds_are_refused(tmp_path, capsys, option, value, message):
    nii, _ = _write_inputs(tmp_path / "in", json.dumps(_good()))
    out = tmp_path / "out"
    assert_refused(
        ["quantify", "--mdme", nii, "--out", out, option, value],
        capsys,
        names=[message, "the option uses milliseconds" if "looks" in message else "ms"],
        outputs=list(output_paths(out, "sub-01").values()),
        inputs=[tmp_path / "in"],
    )
