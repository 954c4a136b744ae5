"""MDME (MAGiC / SyMRI / QRAPMASTER) DICOM to a 4D NIfTI and its JSON sidecar.

dcm2niix has no MDME handling, so this is a pydicom importer:
:mod:`synflair.io.mdme_sort` sorts and checks the files (one image per slice,
TE, saturation delay and complex component, or an error listing what was
found and what was expected); this module reads the pixels, rebuilds the
complex images (real + imaginary, or magnitude + phase), removes the
background phase of each echo time (:mod:`synflair.io.phase`) so that the real
part carries the signed MDME signal, and writes the volumes in delay-major
order ``[TD1 TE1, TD1 TE2, TD2 TE1, ...]`` with the sidecar of
:mod:`synflair.io.sidecar` and no patient identifier.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synflair import __version__
from synflair.errors import SynflairError
from synflair.geometry import slice_normal, stack_affine
from synflair.io.mdme_sort import read_pixels, sort_mdme
from synflair.io.phase import DEFAULT_PHASE_SIGMA_MM, background_phase, phase_to_radians
from synflair.io.plausibility import check_mdme_acquisition
from synflair.io.publish import publish_image
from synflair.io.sidecar import MDMESidecar, sidecar_path
from synflair.physics import MDMEProtocol

__all__ = ["DEFAULT_SATURATION_ANGLE", "MDMEData", "mdme_to_nifti", "read_mdme"]

#: No DICOM attribute holds the saturation flip angle; MAGiC's is 120 degrees.
DEFAULT_SATURATION_ANGLE = 120.0


@dataclass(frozen=True, eq=False)
class MDMEData:
    """An MDME acquisition read from DICOM.

    Attributes
    ----------
    signal : complex64 numpy.ndarray, shape (nx, ny, nz, n_volumes)
        Complex images with the background phase removed: the real part is the
        signed MDME signal. Volumes in delay-major order; array convention of
        :mod:`synflair.geometry`. Rescaled DICOM units.
    background_phase : float32 numpy.ndarray, shape (nx, ny, nz, n_te)
        The removed phase (radians) of each echo time (order of :attr:`protocol`).
    te, td : tuple of float
        EchoTime and saturation delay of each volume, ms.
    tr : float
        RepetitionTime, ms.
    flip_angle, saturation_angle : float
        Excitation and saturation flip angles, degrees.
    affine : (4, 4) numpy.ndarray
        RAS voxel-to-world affine, mm; slices ordered along the slice normal.
    slice_thickness : float
        SliceThickness, mm.
    delay_attribute : str
        The attribute the delays were read from.
    source_components : tuple of str
        ``("real", "imaginary")``, ``("magnitude", "phase")`` or ``("magnitude",)``.
    identifiers : frozenset of str
        Patient identifiers of the source files, kept only to check that no
        output contains them; never written.
    """

    signal: np.ndarray
    background_phase: np.ndarray
    te: tuple[float, ...]
    td: tuple[float, ...]
    tr: float
    flip_angle: float
    saturation_angle: float
    affine: np.ndarray
    slice_thickness: float
    delay_attribute: str
    source_components: tuple[str, ...]
    identifiers: frozenset = field(default=frozenset(), repr=False)

    @property
    def protocol(self) -> MDMEProtocol:
        """The acquisition as an :class:`~synflair.physics.MDMEProtocol`."""
        return MDMEProtocol(
            te=tuple(dict.fromkeys(self.te)),
            td=tuple(dict.fromkeys(self.td)),
            tr=self.tr,
            sat_angle=self.saturation_angle,
            exc_angle=self.flip_angle,
        )

    @property
    def magnitude(self) -> np.ndarray:
        """Magnitude images, float32, shape (nx, ny, nz, n_volumes)."""
        return np.abs(self.signal).astype(np.float32)

    @property
    def real(self) -> np.ndarray:
        """Phase-corrected signed real part, float32, shape (nx, ny, nz, n_volumes)."""
        if "phase" not in self.source_components and "imaginary" not in self.source_components:
            raise SynflairError(
                "the MDME DICOM holds magnitude images only; the signed real part needs "
                "real+imaginary or magnitude+phase images"
            )
        return np.ascontiguousarray(self.signal.real, dtype=np.float32)

    @property
    def raw(self) -> np.ndarray:
        """The complex images as stored (background phase put back), complex64."""
        te_index = np.array([self.protocol.te.index(t) for t in self.te])
        return self.signal * np.exp(1j * self.background_phase[..., te_index]).astype(np.complex64)


def _complex_images(mdme) -> np.ndarray:
    """The sorted images as one complex64 array ``(columns, rows, slices, volumes)``,
    volumes delay-major; magnitude and phase pairs combined (phase scaled to radians)."""
    grid, table, components, where = mdme.grid, mdme.table, mdme.components, mdme.where
    n_te, n_td = len(grid.tes), len(grid.tds)
    rows, columns = next(iter(table.values())).shape
    data = np.zeros((columns, rows, len(grid.slices), n_te * n_td), dtype=np.complex64)
    phase_peak = 0.0
    for (s, e, d, c), image in table.items():
        pixels = read_pixels(image)
        volume = d * n_te + e
        if c == 0:
            data[:, :, s, volume].real = pixels
        else:
            data[:, :, s, volume].imag = pixels
            phase_peak = max(phase_peak, float(np.abs(pixels).max()))
    if components == ("magnitude", "phase"):
        scale = float(phase_to_radians(np.array([phase_peak]), name=f"phase images in {where}")[0])
        scale = scale / phase_peak if phase_peak else 1.0
        data = (data.real * np.exp(1j * scale * data.imag)).astype(np.complex64)
    return data


def read_mdme(
    dicom_dirs,
    delay_attribute: str | None = None,
    *,
    saturation_angle: float = DEFAULT_SATURATION_ANGLE,
    phase_sigma_mm: float = DEFAULT_PHASE_SIGMA_MM,
    files=None,
) -> MDMEData:
    """Sort, check and read the MDME DICOM images in ``dicom_dirs``.

    Parameters
    ----------
    dicom_dirs : path-like or iterable of path-like
        Folder(s) holding the images (searched recursively).
    delay_attribute : str, optional
        DICOM keyword or ``"gggg,eeee"`` tag of the saturation delay (ms);
        default TriggerTime, else InversionTime.
    saturation_angle : float
        Saturation flip angle, degrees (not in the DICOM; default 120).
    phase_sigma_mm : float
        Width of the background-phase low-pass filter (:mod:`synflair.io.phase`).
    files : iterable of path-like, optional
        Read only these files of ``dicom_dirs`` (one series of a study folder).

    Returns
    -------
    MDMEData
    """
    if not np.isfinite(saturation_angle) or not 0 < saturation_angle <= 180:
        raise ValueError(f"saturation_angle must be in (0, 180] degrees, not {saturation_angle!r}")
    mdme = sort_mdme(dicom_dirs, delay_attribute, files=files)
    grid, table, components, where = mdme.grid, mdme.table, mdme.components, mdme.where
    images = list(table.values())
    check_mdme_acquisition(
        where,
        echo_time=grid.tes,
        saturation_delay=grid.tds,
        repetition_time=images[0].tr,
        flip_angle=images[0].flip_angle,
        saturation_flip_angle=None,  # not in DICOM; checked by the caller's option
        unit="ms",
        source="DICOM",
        keys={"SaturationDelayTime": mdme.delay_attribute},
    )
    step = mdme.slice_step

    n_te, n_td = len(grid.tes), len(grid.tds)
    data = _complex_images(mdme)
    spacing_ij = (images[0].spacing[1], images[0].spacing[0])  # i: column, j: row spacing
    phase = np.zeros((*data.shape[:3], n_te), dtype=np.float32)
    if components != ("magnitude",):
        for e in range(n_te):
            reference = data[..., (n_td - 1) * n_te + e]
            phase[..., e] = background_phase(reference, spacing_ij, sigma_mm=phase_sigma_mm)
            data[..., e::n_te] *= np.exp(-1j * phase[..., e])[..., None].astype(np.complex64)

    first = next(image for key, image in table.items() if key[0] == 0)
    normal = slice_normal(first.orientation)
    origin = first.position - (np.dot(first.position, normal) - grid.slices[0]) * normal
    affine = stack_affine(origin, first.orientation, first.spacing, step)
    return MDMEData(
        signal=data,
        background_phase=phase,
        te=tuple(float(round(t, 6)) for t in np.tile(grid.tes, n_td)),
        td=tuple(float(round(t, 6)) for t in np.repeat(grid.tds, n_te)),
        tr=float(images[0].tr),
        flip_angle=float(images[0].flip_angle),
        saturation_angle=float(saturation_angle),
        affine=affine,
        slice_thickness=float(first.thickness or step),
        delay_attribute=mdme.delay_attribute,
        source_components=components,
        identifiers=mdme.identifiers,
    )


def mdme_to_nifti(
    dicom_dirs,
    out_nii: str | os.PathLike,
    *,
    component: str = "magnitude",
    delay_attribute: str | None = None,
    saturation_angle: float = DEFAULT_SATURATION_ANGLE,
    phase_sigma_mm: float = DEFAULT_PHASE_SIGMA_MM,
    files=None,
) -> Path:
    """Convert MDME DICOM to a 4D float32 NIfTI and its JSON sidecar.

    Parameters
    ----------
    dicom_dirs : path-like or iterable of path-like
        See :func:`read_mdme`.
    out_nii : path-like
        ``*.nii.gz`` or ``*.nii``; the sidecar goes to ``*.json`` beside it.
    component : {"magnitude", "real"}
        Magnitudes, or the phase-corrected signed real parts.
    delay_attribute, saturation_angle, phase_sigma_mm, files
        See :func:`read_mdme`.

    Returns
    -------
    pathlib.Path
        ``out_nii``. Volumes in delay-major order; the sidecar holds
        EchoTime, SaturationDelayTime (s), RepetitionTime (s), FlipAngle,
        SaturationFlipAngle and ImageComponent, and no identifier.
    """
    if component not in ("magnitude", "real"):
        raise SynflairError(f"component must be 'magnitude' or 'real', not {component!r}")
    out_nii = Path(out_nii)
    out_json = sidecar_path(out_nii)
    mdme = read_mdme(
        dicom_dirs,
        delay_attribute,
        saturation_angle=saturation_angle,
        phase_sigma_mm=phase_sigma_mm,
        files=files,
    )
    volumes = mdme.magnitude if component == "magnitude" else mdme.real
    sidecar = MDMESidecar(
        echo_time=mdme.te,
        saturation_delay=mdme.td,
        repetition_time=mdme.tr,
        flip_angle=mdme.flip_angle,
        saturation_flip_angle=mdme.saturation_angle,
        image_component=component,
        extra={
            "SliceThickness": mdme.slice_thickness,
            "SaturationDelayAttribute": mdme.delay_attribute,
            "SourceImageComponents": list(mdme.source_components),
            "BackgroundPhaseCorrection": (
                f"phase of the {phase_sigma_mm:g} mm Gaussian low-pass of the longest-delay "
                "complex image of each echo time, removed from every delay of that echo time"
            ),
            "ConversionSoftware": "synflair",
            "ConversionSoftwareVersion": __version__,
        },
    )
    publish_image(volumes, mdme.affine, out_nii, out_json, sidecar.to_json(), mdme.identifiers)
    return out_nii
