"""The MDME JSON sidecar: round trip, protocol, and bad files."""

from __future__ import annotations

import json

import pytest

from synflair.errors import SynflairError
from synflair.io.sidecar import MDMESidecar, read_mdme_sidecar, sidecar_path, write_mdme_sidecar
from synflair.physics import MDME_PAPER, MDMEProtocol


def _paper(component="magnitude", **extra):
    return MDMESidecar(
        echo_time=MDME_PAPER.volume_te,
        saturation_delay=MDME_PAPER.volume_td,
        repetition_time=MDME_PAPER.tr,
        flip_angle=90,
        saturation_flip_angle=120,
        image_component=component,
        extra=extra,
    )


def test_round_trip_in_seconds_on_disk(tmp_path):
    path = write_mdme_sidecar(tmp_path / "x.json", _paper("real", SliceThickness=4.0))
    meta = json.loads(path.read_text())
    assert meta["EchoTime"] == [0.0169, 0.0845] * 4
    assert meta["SaturationDelayTime"][::2] == [0.146, 0.546, 1.879, 3.879]
    assert meta["RepetitionTime"] == 4.0 and meta["SliceThickness"] == 4.0
    back = read_mdme_sidecar(path, n_volumes=8)
    assert back == _paper("real")
    assert back.echo_time == (16.9, 84.5) * 4  # exact ms again, no float residue
    assert back.extra == {"SliceThickness": 4.0}
    assert back.protocol() == MDME_PAPER


def test_protocol_of_other_grids():
    protocol = MDMEProtocol(te=(10.0, 50.0, 90.0), td=(200.0, 2500.0), tr=3000.0)
    sidecar = MDMESidecar(protocol.volume_te, protocol.volume_td, 3000, 90, 120, "magnitude")
    assert sidecar.protocol() == MDMEProtocol(
        te=(10.0, 50.0, 90.0), td=(200.0, 2500.0), tr=3000.0, sat_angle=120.0, exc_angle=90.0
    )


def test_echo_major_order_is_rejected():
    sidecar = MDMESidecar(
        echo_time=[16.9] * 4 + [84.5] * 4,
        saturation_delay=[146, 546, 1879, 3879] * 2,
        repetition_time=4000,
        flip_angle=90,
        saturation_flip_angle=120,
        image_component="magnitude",
    )
    with pytest.raises(SynflairError, match="not a TE x TD grid in delay-major order"):
        sidecar.protocol()


def test_volume_count_mismatch(tmp_path):
    path = write_mdme_sidecar(tmp_path / "x.json", _paper())
    with pytest.raises(SynflairError, match="EchoTime has 8 entries but the image has 6 volumes"):
        read_mdme_sidecar(path, n_volumes=6)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("SaturationFlipAngle"), r"missing key\(s\) SaturationFlipAngle;"),
        (lambda m: m.update(EchoTime=0.0169), "EchoTime must be a non-empty list of times in s"),
        (lambda m: m.update(EchoTime=["a"] * 8), r"EchoTime must be a number \(s\), not 'a'"),
        (
            lambda m: m.update(EchoTime=[0.0169] * 7),
            "EchoTime has 7 entries but SaturationDelayTime has 8",
        ),
        (lambda m: m.update(ImageComponent="phase"), "ImageComponent must be one of"),
        (lambda m: m.update(RepetitionTime=-4), "RepetitionTime -4 s must be finite"),
    ],
)
def test_bad_sidecars_name_the_file_and_key(tmp_path, edit, message):
    meta = _paper().to_json()
    edit(meta)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(meta))
    with pytest.raises(SynflairError, match=message) as info:
        read_mdme_sidecar(path)
    assert str(path) in str(info.value)


def test_unreadable_or_missing_sidecar(tmp_path):
    with pytest.raises(SynflairError, match="no such file"):
        read_mdme_sidecar(tmp_path / "none.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(SynflairError, match="not a readable JSON file"):
        read_mdme_sidecar(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(SynflairError, match="expected a JSON object"):
        read_mdme_sidecar(tmp_path / "list.json")


def test_sidecar_path(tmp_path):
    assert sidecar_path(tmp_path / "sub-01_mdme.nii.gz") == tmp_path / "sub-01_mdme.json"
    assert sidecar_path("a/b.c.nii") == sidecar_path("a/b.c.nii.gz")
    assert sidecar_path("a/b.c.nii").name == "b.c.json"
    with pytest.raises(SynflairError, match="ending in"):
        sidecar_path("x.mgz")
