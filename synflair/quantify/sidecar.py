"""The JSON sidecar of an MDME NIfTI: reading and checking the acquisition.

The MDME importer (:mod:`synflair.io`) writes ``x.nii.gz`` with ``x.json`` next
to it (docs/design.md, Conventions)::

    {"EchoTime": [8 x s], "SaturationDelayTime": [8 x s], "RepetitionTime": s,
     "FlipAngle": deg, "SaturationFlipAngle": deg, "ImageComponent": "magnitude" | "real"}

The file's name (:func:`~synflair.io.sidecar.sidecar_path`) and its writer
(:func:`~synflair.io.sidecar.write_mdme_sidecar`) are :mod:`synflair.io.sidecar`'s.
Times are in seconds (BIDS style) and are converted to milliseconds here. The
volumes must form a full echo-time x saturation-delay grid in delay-major order
``[TD1 TE1, TD1 TE2, TD2 TE1, ..., TDn TEm]``: the delay is constant over each
block of ``m`` consecutive volumes, and every block repeats the same echo times.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from synflair.errors import SynflairError
from synflair.io.plausibility import check_mdme_acquisition
from synflair.io.sidecar import sidecar_path
from synflair.physics import MDMEProtocol

__all__ = ["COMPONENTS", "MDMESidecar", "protocol_from_sidecar", "read_sidecar", "sidecar_path"]

#: Accepted values of ``ImageComponent``.
COMPONENTS = ("magnitude", "real")


@dataclass(frozen=True)
class MDMESidecar:
    """The checked content of an MDME sidecar.

    Attributes
    ----------
    path : pathlib.Path
        The JSON file.
    protocol : synflair.physics.MDMEProtocol
        Echo times, delays and TR in ms; flip angles in degrees.
    component : str
        ``"magnitude"`` or ``"real"`` (phase-corrected signed real parts).
    """

    path: Path
    protocol: MDMEProtocol
    component: str


def _number(path: Path, key: str, value, *, unit: str) -> float:
    """A finite JSON number; its range is checked by :mod:`synflair.io.plausibility`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SynflairError(f"{path}: {key} must be a number ({unit}), not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise SynflairError(f"{path}: {key} must be a finite number ({unit}), not {value!r}")
    return value


def _seconds_list(
    path: Path, data: dict, key: str, n_volumes: int | None, image: str | os.PathLike | None
) -> list[float]:
    value = data[key]
    if not isinstance(value, list) or not value:
        raise SynflairError(f"{path}: {key} must be a non-empty list of times in s, not {value!r}")
    times = [_number(path, key, v, unit="s") for v in value]
    if n_volumes is not None and len(times) != n_volumes:
        raise SynflairError(
            f"{path}: {key} has {len(times)} entries but the image has {n_volumes} volumes "
            f"(4th dimension{'' if image is None else f' of {image}'}); expected one per volume"
        )
    return times


def protocol_from_sidecar(
    data: dict,
    path: str | os.PathLike,
    n_volumes: int | None = None,
    image: str | os.PathLike | None = None,
):
    """Build the :class:`~synflair.physics.MDMEProtocol` a sidecar describes.

    Parameters
    ----------
    data : dict
        The parsed JSON.
    path : path-like
        Named in error messages.
    n_volumes : int, optional
        Number of volumes of the image; the lists must have this length.
    image : path-like, optional
        The image, named in the message of a length mismatch.

    Returns
    -------
    protocol : synflair.physics.MDMEProtocol
    component : str

    Raises
    ------
    SynflairError
        Naming the file and the key that is missing or wrong.
    """
    path = Path(path)
    if not isinstance(data, dict):
        raise SynflairError(f"{path}: expected a JSON object, not {type(data).__name__}")
    keys = (
        "EchoTime",
        "SaturationDelayTime",
        "RepetitionTime",
        "FlipAngle",
        "SaturationFlipAngle",
        "ImageComponent",
    )
    missing = [k for k in keys if k not in data]
    if missing:
        raise SynflairError(f"{path}: missing key(s) {', '.join(missing)}; expected all of {keys}")
    te = _seconds_list(path, data, "EchoTime", n_volumes, image)
    td = _seconds_list(path, data, "SaturationDelayTime", n_volumes, image)
    if len(te) != len(td):
        raise SynflairError(
            f"{path}: EchoTime has {len(te)} entries but SaturationDelayTime has {len(td)}"
        )
    tr = _number(path, "RepetitionTime", data["RepetitionTime"], unit="s")
    exc = _number(path, "FlipAngle", data["FlipAngle"], unit="degrees")
    sat = _number(path, "SaturationFlipAngle", data["SaturationFlipAngle"], unit="degrees")
    refocusing = data.get("RefocusingFlipAngle")
    if refocusing is not None:
        refocusing = _number(path, "RefocusingFlipAngle", refocusing, unit="degrees")
    check_mdme_acquisition(
        str(path),
        echo_time=[1000.0 * t for t in te],
        saturation_delay=[1000.0 * t for t in td],
        repetition_time=1000.0 * tr,
        flip_angle=exc,
        saturation_flip_angle=sat,
        refocusing_flip_angle=refocusing,
    )
    component = data["ImageComponent"]
    if component not in COMPONENTS:
        raise SynflairError(
            f"{path}: ImageComponent must be one of {COMPONENTS}, not {component!r}"
        )

    # Delay-major grid: the first block of equal delays gives the number of echoes.
    n_te = 1
    while n_te < len(td) and td[n_te] == td[0]:
        n_te += 1
    echoes = te[:n_te]
    if len(set(echoes)) != n_te or len(td) % n_te:
        raise SynflairError(
            f"{path}: EchoTime {te} / SaturationDelayTime {td} do not form a full TE x TD grid in "
            "delay-major order [TD1 TE1, TD1 TE2, TD2 TE1, ...]"
        )
    delays = td[::n_te]
    for v in range(len(td)):
        if td[v] != delays[v // n_te] or te[v] != echoes[v % n_te]:
            raise SynflairError(
                f"{path}: volume {v + 1} has EchoTime {te[v]} s, SaturationDelayTime {td[v]} s; "
                f"expected a full TE x TD grid in delay-major order (echo times {echoes} s "
                "repeated for each delay)"
            )
    if len(set(delays)) != len(delays):
        raise SynflairError(
            f"{path}: SaturationDelayTime repeats a delay across blocks ({delays} s); "
            "expected distinct delays in delay-major order"
        )
    try:
        protocol = MDMEProtocol(
            te=tuple(1000.0 * t for t in echoes),
            td=tuple(1000.0 * t for t in delays),
            tr=1000.0 * tr,
            sat_angle=sat,
            exc_angle=exc,
        )
    except ValueError as error:
        raise SynflairError(f"{path}: {error}") from error
    return protocol, component


def read_sidecar(
    path: str | os.PathLike,
    n_volumes: int | None = None,
    image: str | os.PathLike | None = None,
) -> MDMESidecar:
    """Read and check an MDME sidecar.

    Parameters
    ----------
    path : path-like
        The ``.json`` file (see :func:`sidecar_path` to find it from the NIfTI).
    n_volumes : int, optional
        Number of volumes of the image it describes.
    image : path-like, optional
        That image, named in messages.

    Returns
    -------
    MDMESidecar
    """
    path = Path(path)
    of = "" if image is None else f" of {image}"
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected the MDME JSON sidecar{of})")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SynflairError(f"{path}: not a readable JSON file ({error})") from error
    protocol, component = protocol_from_sidecar(data, path, n_volumes, image)
    return MDMESidecar(path=path, protocol=protocol, component=component)
