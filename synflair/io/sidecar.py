"""The JSON sidecar of an MDME NIfTI (docs/design.md, "MDME NIfTI").

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
    def from_json(cls, meta: dict, *, name: str = "sidecar") -> MDMESidecar:
        """Parse a JSON object (times in seconds); ``name`` is used in errors."""
        required = (
            "EchoTime",
            "SaturationDelayTime",
            "RepetitionTime",
            "FlipAngle",
            "SaturationFlipAngle",
            "ImageComponent",
        )
        if not isinstance(meta, dict):
            raise SynflairError(f"{name}: expected a JSON object, not {type(meta).__name__}")
        missing = [key for key in required if key not in meta]
        if missing:
            raise SynflairError(f"{name}: missing key(s) {missing}; expected all of {required}")

        def ms(value, key):
            try:
                return round(float(value) * 1000.0, 6)
            except (TypeError, ValueError) as error:
                raise SynflairError(f"{name}: {key} must hold numbers, not {value!r}") from error

        def ms_list(key):
            values = meta[key]
            if not isinstance(values, list):
                raise SynflairError(f"{name}: {key} must be a list, not {values!r}")
            return tuple(ms(v, key) for v in values)

        try:
            sidecar = cls(
                echo_time=ms_list("EchoTime"),
                saturation_delay=ms_list("SaturationDelayTime"),
                repetition_time=ms(meta["RepetitionTime"], "RepetitionTime"),
                flip_angle=meta["FlipAngle"],
                saturation_flip_angle=meta["SaturationFlipAngle"],
                image_component=meta["ImageComponent"],
                extra={k: v for k, v in meta.items() if k not in required},
            )
        except (TypeError, ValueError) as error:
            if isinstance(error, SynflairError):
                raise
            raise SynflairError(f"{name}: {error}") from error
        refocusing = meta.get("RefocusingFlipAngle")
        if refocusing is not None:
            try:
                refocusing = float(refocusing)
            except (TypeError, ValueError) as error:
                raise SynflairError(
                    f"{name}: RefocusingFlipAngle must be a number of degrees, not {refocusing!r}"
                ) from error
        check_mdme_acquisition(
            name,
            echo_time=sidecar.echo_time,
            saturation_delay=sidecar.saturation_delay,
            repetition_time=sidecar.repetition_time,
            flip_angle=sidecar.flip_angle,
            saturation_flip_angle=sidecar.saturation_flip_angle,
            refocusing_flip_angle=refocusing,
        )
        return sidecar


def write_mdme_sidecar(path: str | os.PathLike, sidecar: MDMESidecar) -> Path:
    """Write ``sidecar`` as JSON to ``path``, atomically."""
    return write_json(path, sidecar.to_json())


def read_mdme_sidecar(
    path: str | os.PathLike,
    *,
    n_volumes: int | None = None,
    image: str | os.PathLike | None = None,
) -> MDMESidecar:
    """Read and check an MDME sidecar.

    Parameters
    ----------
    path : path-like
        The ``.json`` file (use :func:`sidecar_path` to find it from the NIfTI).
    n_volumes : int, optional
        Number of volumes of the NIfTI it belongs to; a mismatch is an error.
    image : path-like, optional
        That NIfTI, named in messages.
    """
    path = Path(path)
    if not path.is_file():
        raise SynflairError(f"{path}: no such file (expected the MDME JSON sidecar)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SynflairError(f"{path}: not a readable JSON file ({error})") from error
    sidecar = MDMESidecar.from_json(meta, name=str(path))
    if n_volumes is not None and sidecar.n_volumes != n_volumes:
        raise SynflairError(
            f"{path}: EchoTime/SaturationDelayTime list {sidecar.n_volumes} volumes but the "
            f"image has {n_volumes} (4th dimension{'' if image is None else f' of {image}'}); "
            "expected one value per volume"
        )
    return sidecar
