import json

import pytest

from synflair.errors import SynflairError
from synflair.io.sidecar import MDMESidecar, read_mdme_sidecar, sidecar_path
from synflair.physics import MDME_PAPER


def paper_sidecar(**changes) -> dict:
    data = {
        "EchoTime": [t / 1000 for t in MDME_PAPER.volume_te],
        "SaturationDelayTime": [t / 1000 for t in MDME_PAPER.volume_td],
        "RepetitionTime": 4.0,
        "FlipAngle": 90.0,
        "SaturationFlipAngle": 120.0,
        "ImageComponent": "magnitude",
    }
    data.update(changes)
    return data


def write(tmp_path, data, name="sub-01_mdme.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_round_trip_gives_the_papers_protocol(tmp_path):
    sidecar = read_mdme_sidecar(write(tmp_path, paper_sidecar()), n_volumes=8)
    assert sidecar.image_component == "magnitude"
    p = sidecar.protocol()
    assert p.te == pytest.approx(MDME_PAPER.te)
    assert p.td == pytest.approx(MDME_PAPER.td)
    assert p.tr == pytest.approx(4000.0)
    assert (p.sat_angle, p.exc_angle) == (120.0, 90.0)


def test_real_component_and_other_grid_sizes(tmp_path):
    te = [0.01, 0.08, 0.01, 0.08, 0.01, 0.08]
    td = [0.1, 0.1, 0.5, 0.5, 2.0, 2.0]
    data = paper_sidecar(EchoTime=te, SaturationDelayTime=td, ImageComponent="real")
    sidecar = read_mdme_sidecar(write(tmp_path, data), n_volumes=6)
    assert sidecar.image_component == "real"
    assert sidecar.protocol().td == pytest.approx((100.0, 500.0, 2000.0))


def test_sidecar_path():
    assert sidecar_path("/a/sub-01_mdme.nii.gz").name == "sub-01_mdme.json"
    assert sidecar_path("x.nii").name == "x.json"
    with pytest.raises(SynflairError, match="nii"):
        sidecar_path("x.mgz")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"EchoTime": [0.0169] * 7}, "EchoTime"),
        ({"SaturationDelayTime": "0.146"}, "SaturationDelayTime"),
        ({"RepetitionTime": -4}, "RepetitionTime"),
        ({"FlipAngle": "90"}, "FlipAngle"),
        ({"SaturationFlipAngle": 400}, "SaturationFlipAngle"),
        ({"ImageComponent": "phase"}, "ImageComponent"),
        ({"EchoTime": [0.0169, None] * 4}, "EchoTime"),
    ],
)
def test_bad_field_names_the_file_and_key(tmp_path, changes, key):
    path = write(tmp_path, paper_sidecar(**changes))
    with pytest.raises(SynflairError, match=key) as info:
        read_mdme_sidecar(path, n_volumes=8)
    assert str(path) in str(info.value)


def test_missing_key(tmp_path):
    data = paper_sidecar()
    del data["RepetitionTime"]
    with pytest.raises(SynflairError, match="RepetitionTime"):
        read_mdme_sidecar(write(tmp_path, data))


def test_volume_count_mismatch_names_the_key(tmp_path):
    with pytest.raises(SynflairError, match="EchoTime has 8 entries but the image has 6"):
        read_mdme_sidecar(write(tmp_path, paper_sidecar()), n_volumes=6)


def test_echo_major_order_is_rejected(tmp_path):
    te = [0.0169] * 4 + [0.0845] * 4
    td = [0.146, 0.546, 1.879, 3.879] * 2
    with pytest.raises(SynflairError, match="delay-major"):
        read_mdme_sidecar(write(tmp_path, paper_sidecar(EchoTime=te, SaturationDelayTime=td)))


def test_incomplete_grid_is_rejected():
    td = [0.146, 0.146, 0.546, 0.546, 0.546, 1.879, 3.879, 3.879]
    with pytest.raises(SynflairError, match="grid"):
        MDMESidecar.from_json(paper_sidecar(SaturationDelayTime=td), name="x.json")


def test_delay_longer_than_tr_is_rejected():
    with pytest.raises(
        SynflairError,
        match=r"x\.json: SaturationDelayTime 3\.879 s is not shorter than RepetitionTime 3 s",
    ):
        MDMESidecar.from_json(paper_sidecar(RepetitionTime=3.0), name="x.json")


def test_times_in_milliseconds_are_named(tmp_path):
    """Issue 11.4: a sidecar in ms (x1000) was fitted; now each key names the mix-up."""
    ms = paper_sidecar(EchoTime=[t * 1000 for t in paper_sidecar()["EchoTime"]])
    path = write(tmp_path, ms)
    with pytest.raises(SynflairError) as info:
        read_mdme_sidecar(path, n_volumes=8)
    assert str(info.value) == (
        f"{path}: EchoTime [16.9, 84.5, 16.9, 84.5, 16.9, 84.5, 16.9, 84.5] looks like "
        "milliseconds; the sidecar uses seconds (expected 1-500 ms, i.e. 0.001-0.5 s)"
    )
    for key, value in (("SaturationDelayTime", [146, 146, 546, 546] * 2), ("RepetitionTime", 4000)):
        with pytest.raises(SynflairError, match=f"{key} .* looks like milliseconds"):
            MDMESidecar.from_json(paper_sidecar(**{key: value}), name="x.json")
    with pytest.raises(SynflairError, match=r"FlipAngle 1\.5708 looks like radians"):
        MDMESidecar.from_json(paper_sidecar(FlipAngle=1.5708), name="x.json")
    with pytest.raises(SynflairError, match="RefocusingFlipAngle 250 degrees is not plausible"):
        MDMESidecar.from_json(paper_sidecar(RefocusingFlipAngle=250), name="x.json")


def test_volume_mismatch_names_the_sidecar_and_the_image(tmp_path):
    path = write(tmp_path, paper_sidecar())
    with pytest.raises(SynflairError) as info:
        read_mdme_sidecar(path, n_volumes=6, image=tmp_path / "sub-01_mdme.nii.gz")
    assert str(info.value) == (
        f"{path}: EchoTime has 8 entries but the image has 6 volumes (4th dimension of "
        f"{tmp_path / 'sub-01_mdme.nii.gz'}); expected one per volume"
    )


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(SynflairError, match="no such file"):
        read_mdme_sidecar(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SynflairError, match=r"bad\.json: not a readable JSON"):
        read_mdme_sidecar(bad)
    with pytest.raises(SynflairError, match="JSON object"):
        MDMESidecar.from_json([1, 2], name="list.json")
