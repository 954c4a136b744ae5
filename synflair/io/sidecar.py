"""The JSON sidecar of an MDME NIfTI (docs/design.md, "MDME NIfTI"): class, reader and writer.

The converter writes it, and NIfTI inputs and quantification read it, through this module.

``sub-01_mdme.nii.gz`` has the sidecar ``sub-01_mdme.json``::

    {
      "EchoTime": [0.0169, 0.0845, 0.0169, ...],           # s, one per volume
      "SaturationDelayTime": [0.146, 0.146, 0.546, ...],   # s, one per volume
      "RepetitionTime": 4.0,                               # s
      "FlipAngle": 90.0,                                   # degrees, excitation
      "SaturationFlipAngle": 120.0,                        # degrees
      "ImageComponent": "magnitude",                       # or "real"
      ...                                                  # provenance, no identifiers
    }

Times are in seconds in the file (BIDS) and in milliseconds in Python, like
the rest of synflair. Volumes are in delay-major order
``[TD1 TE1, TD1 TE2, TD2 TE1, ...]``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.io.plausibility import check_mdme_acquisition
from synflair.physics import MDMEProtocol

__all__ = [
    "IMAGE_COMPONENTS",
    "MDMESidecar",
    "read_mdme_sidecar",
    "sidecar_path",
    "write_mdme_sidecar",
]

#: Values of ``ImageComponent``.
IMAGE_COMPONENTS = ("magnitude", "real")


def sidecar_path(nifti_path: str | os.PathLike) -> Path:
    """The sidecar of a NIfTI file: ``x.nii.gz`` or ``x.nii`` -> ``x.json``."""
    path = Path(nifti_path)
    for suffix in (".nii.gz", ".nii"):
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)] + ".json")
    raise SynflairError(f"{path}: expected a NIfTI file name ending in .nii.gz or .nii")


@dataclass(frozen=True)
class MDMESidecar:
    """Acquisition parameters of the volumes of an MDME NIfTI (times in ms).

    Attributes
    ----------
    echo_time : tuple of float
        EchoTime of each volume, ms.
    saturation_delay : tuple of float
        Saturation delay TD of each volume, ms.
    repetition_time : float
        TR, ms.
    flip_angle : float
        Excitation flip angle, degrees.
    saturation_flip_angle : float
        Saturation flip angle, degrees.
    image_component : str
        ``"magnitude"`` or ``"real"`` (phase-corrected signed real part).
    extra : dict
        Further (non-identifying) keys written to and read from the JSON.
    """

    echo_time: tuple[float, ...]
    saturation_delay: tuple[float, ...]
    repetition_time: float
    flip_angle: float
    saturation_flip_angle: float
    image_component: str
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for name in ("echo_time", "saturation_delay"):
            values = tuple(float(v) for v in getattr(self, name))
            if not values or not all(np.isfinite(v) and v > 0 for v in values):
                raise ValueError(f"{name} must be a non-empty list of positive ms, not {values!r}")
            object.__setattr__(self, name, values)
        if len(self.echo_time) != len(self.saturation_delay):
            raise ValueError(
                f"echo_time ({len(self.echo_time)} values) and saturation_delay "
                f"({len(self.saturation_delay)} values) must have one value per volume each"
            )
        for name in ("repetition_time", "flip_angle", "saturation_flip_angle"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, not {value!r}")
            object.__setattr__(self, name, value)
        if self.image_component not in IMAGE_COMPONENTS:
            raise ValueError(
                f"image_component must be one of {IMAGE_COMPONENTS}, not {self.image_component!r}"
            )

    @property
    def n_volumes(self) -> int:
        """Number of volumes described."""
        return len(self.echo_time)

    def protocol(self) -> MDMEProtocol:
        """The :class:`~synflair.physics.MDMEProtocol` of these volumes.

        Raises
        ------
        SynflairError
            If the volumes are not a full TE x TD grid in delay-major order.
        """
        te = tuple(dict.fromkeys(self.echo_time))
        td = tuple(dict.fromkeys(self.saturation_delay))
        expected_te = np.tile(te, len(td))
        expected_td = np.repeat(td, len(te))
        if (
            len(expected_te) != self.n_volumes
            or not np.allclose(expected_te, self.echo_time)
            or not np.allclose(expected_td, self.saturation_delay)
        ):
            raise SynflairError(
                f"EchoTime {list(self.echo_time)} and SaturationDelayTime "
                f"{list(self.saturation_delay)} (ms) are not a TE x TD grid in delay-major "
                "order [TD1 TE1, TD1 TE2, TD2 TE1, ...]"
            )
        return MDMEProtocol(
            te=te,
            td=td,
            tr=self.repetition_time,
            sat_angle=self.saturation_flip_angle,
            exc_angle=self.flip_angle,
        )

    def to_json(self) -> dict:
        """The JSON object (times in seconds)."""

        def seconds(ms):
            return round(float(ms) / 1000.0, 9)

        return {
            "EchoTime": [seconds(v) for v in self.echo_time],
            "SaturationDelayTime": [seconds(v) for v in self.saturation_delay],
            "RepetitionTime": seconds(self.repetition_time),
            "FlipAngle": self.flip_angle,
            "SaturationFlipAngle": self.saturation_flip_angle,
            "ImageComponent": self.image_component,
            **self.extra,
        }

    @classmethod
    def from_json(
        cls,
        meta: dict,
        *,
        name: str = "sidecar",
        n_volumes: int | None = None,
        image: str | os.PathLike | None = None,
    ) -> MDMESidecar:
        """Parse and check a JSON object (times in seconds).

        Parameters
        ----------
        meta : dict
            The parsed JSON.
        name : str
            The file, named in errors.
        n_volumes : int, optional
            Number of volumes of the image; the lists must have this length.
        image : path-like, optional
            The image, named in the message of a length mismatch.

        Raises
        ------
        SynflairError
            Naming the file and the key that is missing or wrong: types, list
            lengths, physical plausibility (:mod:`synflair.io.plausibility`), the
            image component, and the full TE x TD grid in delay-major order.
        """
        if not isinstance(meta, dict):
            raise SynflairError(f"{name}: expected a JSON object, not {type(meta).__name__}")
        missing = [key for key in _REQUIRED if key not in meta]
        if missing:
            raise SynflairError(
                f"{name}: missing key(s) {', '.join(missing)}; expected all of {_REQUIRED}"
            )
        te = _seconds_list(name, meta, "EchoTime", n_volumes, image)
        td = _seconds_list(name, meta, "SaturationDelayTime", n_volumes, image)
        if len(te) != len(td):
            raise SynflairError(
                f"{name}: EchoTime has {len(te)} entries but SaturationDelayTime has {len(td)}"
            )
        tr = _number(name, "RepetitionTime", meta["RepetitionTime"], unit="s")
        exc = _number(name, "FlipAngle", meta["FlipAngle"], unit="degrees")
        sat = _number(name, "SaturationFlipAngle", meta["SaturationFlipAngle"], unit="degrees")
        refocusing = meta.get("RefocusingFlipAngle")
        if refocusing is not None:
            refocusing = _number(name, "RefocusingFlipAngle", refocusing, unit="degrees")
        check_mdme_acquisition(
            name,
            echo_time=[1000.0 * t for t in te],
            saturation_delay=[1000.0 * t for t in td],
            repetition_time=1000.0 * tr,
            flip_angle=exc,
            saturation_flip_angle=sat,
            refocusing_flip_angle=refocusing,
        )
        component = meta["ImageComponent"]
        if component not in IMAGE_COMPONENTS:
            raise SynflairError(
                f"{name}: ImageComponent must be one of {IMAGE_COMPONENTS}, not {component!r}"
            )
        _check_delay_major_grid(name, te, td)
        try:
            return cls(
                echo_time=tuple(_ms(t) for t in te),
                saturation_delay=tuple(_ms(t) for t in td),
                repetition_time=_ms(tr),
                flip_angle=exc,
                saturation_flip_angle=sat,
                image_component=component,
                extra={k: v for k, v in meta.items() if k not in _REQUIRED},
            )
        except ValueError as error:
            raise SynflairError(f"{name}: {error}") from error


#: The keys every MDME sidecar has.
_REQUIRED = (
    "EchoTime",
    "SaturationDelayTime",
    "RepetitionTime",
    "FlipAngle",
    "SaturationFlipAngle",
    "ImageComponent",
)


def _ms(seconds: float) -> float:
    """Seconds to milliseconds, rounded to 1e-6 ms (no float residue: 0.0169 s -> 16.9)."""
    return round(float(seconds) * 1000.0, 6)


def _number(name: str, key: str, value, *, unit: str) -> float:
    """A finite JSON number; its range is checked by :mod:`synflair.io.plausibility`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SynflairError(f"{name}: {key} must be a number ({unit}), not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise SynflairError(f"{name}: {key} must be a finite number ({unit}), not {value!r}")
    return value


def _seconds_list(
    name: str, meta: dict, key: str, n_volumes: int | None, image: str | os.PathLike | None
) -> list[float]:
    value = meta[key]
    if not isinstance(value, list) or not value:
        raise SynflairError(f"{name}: {key} must be a non-empty list of times in s, not {value!r}")
    times = [_number(name, key, v, unit="s") for v in value]
    if n_volumes is not None and len(times) != n_volumes:
        raise SynflairError(
            f"{name}: {key} has {len(times)} entries but the image has {n_volumes} volumes "
            f"(4th dimension{'' if image is None else f' of {image}'}); expected one per volume"
        )
    return times


def _check_delay_major_grid(name: str, te: list[float], td: list[float]) -> None:
    """The volumes form a full TE x TD grid in delay-major order, with distinct delays (s)."""
    n_te = 1  # the first block of equal delays gives the number of echoes
    while n_te < len(td) and td[n_te] == td[0]:
        n_te += 1
    echoes = te[:n_te]
    if len(set(echoes)) != n_te or len(td) % n_te:
        raise SynflairError(
            f"{name}: EchoTime {te} / SaturationDelayTime {td} do not form a full TE x TD grid in "
            "delay-major order [TD1 TE1, TD1 TE2, TD2 TE1, ...]"
        )
    delays = td[::n_te]
    for v in range(len(td)):
        if td[v] != delays[v // n_te] or te[v] != echoes[v % n_te]:
            raise SynflairError(
                f"{name}: volume {v + 1} has EchoTime {te[v]} s, SaturationDelayTime {td[v]} s; "
                f"expected a full TE x TD grid in delay-major order (echo times {echoes} s "
                "repeated for each delay)"
            )
    if len(set(delays)) != len(delays):
        raise SynflairError(
            f"{name}: SaturationDelayTime repeats a delay across blocks ({delays} s); "
            "expected distinct delays in delay-major order"
        )


def write_mdme_sidecar(path: str | os.PathLike, sidecar: MDMESidecar) -> Path:
    """Write ``sidecar`` as JSON to ``path``, atomically."""
    return write_json(path, sidecar.to_json())


def read_mdme_sidecar(
    path: str | os.PathLike,
    *,
    n_volumes: int | None = None,
    image: str | os.PathLike | None = None,
) -> MDMESidecar:
    """Read and check an MDME sidecar (the one reader: conversion, NIfTI inputs, quantification).

    Parameters
    ----------
    path : path-like
        The ``.json`` file (use :func:`sidecar_path` to find it from the NIfTI).
    n_volumes : int, optional
        Number of volumes of the NIfTI it belongs to; a mismatch is an error.
    image : path-like, optional
        That NIfTI, named in messages.

    Raises
    ------
    SynflairError
        Naming the file: missing, unreadable, or any check of :meth:`MDMESidecar.from_json`.
    """
    path = Path(path)
    of = "" if image is None else f" of {image}"
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected the MDME JSON sidecar{of})")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SynflairError(f"{path}: not a readable JSON file ({error})") from error
    return MDMESidecar.from_json(meta, name=str(path), n_volumes=n_volumes, image=image)
