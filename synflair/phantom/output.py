"""Write one simulated subject: the DICOM series and the ground truth beside them.

Layout of ``<dir>`` (the subject folder ``sub-<id>``)::

    dicom/mdme/*.dcm     MDME raw series, real and imaginary images (series 1)
    dicom/flair/*.dcm    conventional FLAIR magnitude (series 2, same study)
    truth/sub-<id>_label-{WM,GM,CSF,lesion}_probseg.nii.gz
    truth/sub-<id>_label-lesion_mask.nii.gz
    truth/sub-<id>_space-FLAIR_label-lesion_{probseg,mask}.nii.gz
    truth/sub-<id>_label-intracranial_mask.nii.gz
    truth/sub-<id>_{T1map,T2map,PDmap}.nii.gz
    truth/sub-<id>_B1map.nii.gz
    truth/sub-<id>_desc-noisefree_FLAIR.nii.gz
    truth/sub-<id>_motion.json
    truth/sub-<id>_tissues.tsv

Truth definitions (all on the MDME reconstruction grid, with the affine of the
MDME DICOM geometry):

- intracranial mask: the voxel's intracranial fraction (WM + GM + CSF + lesion,
  slice-profile weighted and averaged over the voxel) is at least 0.5;
- ``probseg``: the intracranial fractions normalised to sum to 1 inside the
  intracranial mask, 0 outside;
- lesion mask: lesion ``probseg`` >= 0.5;
- ``space-FLAIR`` lesion ``probseg`` and mask: the same for the moved head as the
  conventional FLAIR's slices cut it (same grid and affine as the FLAIR DICOM,
  which shares the MDME prescription). With head motion a lesion that fills an
  MDME slice can straddle two FLAIR slices: this is the lesion truth of what the
  FLAIR images, and carried into synthetic space with the registration it is
  what a segmentation of the registered FLAIR can recover;
- T1, T2 (ms) and PD maps: the values of the voxel's dominant compartment
  (largest fraction, extracranial tissues included); 0 where less than half the
  voxel holds tissue (bone, air);
- B1 map: the B1 ratio at the voxel centre;
- noise-free FLAIR: the conventional FLAIR signal chain (receive bias, slice
  profile, 224x320-type k-space truncation) without noise and head motion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synflair.atomic import write_json, write_tsv
from synflair.nifti import save
from synflair.phantom.cohort import patient_info
from synflair.phantom.presets import PhantomPreset
from synflair.phantom.subject import SubjectImages, SubjectParameters
from synflair.phantom.tissues import COMPARTMENTS, INTRACRANIAL
from synflair.physics import CONVENTIONAL_FLAIR, MDME_PAPER

__all__ = ["intracranial_probseg", "truth_maps", "write_subject"]


def truth_maps(images: SubjectImages, params: SubjectParameters) -> dict[str, np.ndarray]:
    """The ground-truth maps of a subject (see the module docstring).

    Returns
    -------
    dict
        Keys ``label-<tissue>_probseg`` and ``space-FLAIR_label-lesion_probseg``
        (float32), ``label-lesion_mask``, ``space-FLAIR_label-lesion_mask`` and
        ``label-intracranial_mask`` (uint8), ``T1map``, ``T2map``, ``PDmap``,
        ``B1map`` and ``desc-noisefree_FLAIR`` (float32), each (M_i, M_j, K).
    """
    fractions = images.fractions
    probseg, mask = intracranial_probseg(fractions)
    maps: dict[str, np.ndarray] = {f"label-{n}_probseg": p for n, p in probseg.items()}
    maps["label-lesion_mask"] = (probseg["lesion"] >= 0.5).astype(np.uint8)
    maps["label-intracranial_mask"] = mask.astype(np.uint8)
    lesion_flair = intracranial_probseg(images.fractions_flair)[0]["lesion"]
    maps["space-FLAIR_label-lesion_probseg"] = lesion_flair
    maps["space-FLAIR_label-lesion_mask"] = (lesion_flair >= 0.5).astype(np.uint8)
    dominant = np.argmax(fractions, axis=0)
    tissue = fractions.sum(axis=0) >= 0.5
    for key, values in zip(("T1map", "T2map", "PDmap"), params.tissues.arrays(), strict=True):
        maps[key] = np.where(tissue, values[dominant], 0.0)
    maps["B1map"] = images.b1
    maps["desc-noisefree_FLAIR"] = images.flair_noisefree
    return maps


def intracranial_probseg(fractions: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Intracranial fractions normalised to sum to 1 where the voxel is >= half intracranial.

    Parameters
    ----------
    fractions : numpy.ndarray, shape (len(COMPARTMENTS), ...)

    Returns
    -------
    probseg : dict of str -> numpy.ndarray
        One map per :data:`~synflair.phantom.tissues.INTRACRANIAL` compartment, 0
        outside the mask.
    mask : numpy.ndarray of bool
    """
    intracranial = fractions[[COMPARTMENTS.index(c) for c in INTRACRANIAL]]
    icv = intracranial.sum(axis=0)
    mask = icv >= 0.5
    probseg = {
        name: np.where(mask, values / np.maximum(icv, 1e-6), 0.0)
        for name, values in zip(INTRACRANIAL, intracranial, strict=True)
    }
    return probseg, mask


def motion_record(params: SubjectParameters) -> dict:
    """The JSON record of the head motion between the MDME and the FLAIR series."""
    matrix = params.motion_matrix()
    return {
        "flair_from_mdme": matrix.tolist(),
        "rotation_deg": list(params.motion.rotation_deg),
        "translation_mm": matrix[:3, 3].tolist(),
        "center_mm": params.head_center.tolist(),
        "center_translation_mm": list(params.motion.translation_mm),
        "convention": (
            "x_flair_world = flair_from_mdme @ x_mdme_world (RAS mm, homogeneous) for a point "
            "of the head; flair_from_mdme[:3, :3] = R = Rz @ Ry @ Rx with rotation_deg about "
            "the RAS x, y, z axes; translation_mm = flair_from_mdme[:3, 3] (rotation about the "
            "world origin, as synflair.registration reports it); the head centre center_mm "
            "moves by center_translation_mm"
        ),
    }


def write_subject(
    directory: str | Path,
    subject_id: str,
    images: SubjectImages,
    params: SubjectParameters,
    preset: PhantomPreset,
    uid_seed: str,
) -> Path:
    """Write the DICOM series and the truth of one subject into ``directory``.

    Parameters
    ----------
    directory : path-like
        The subject folder (created).
    subject_id : str
        E.g. ``"ph01"``; names the files and gives the fake patient identifiers.
    images : SubjectImages
    params : SubjectParameters
    preset : PhantomPreset
    uid_seed : str
        Seed of every DICOM UID.

    Returns
    -------
    pathlib.Path
        ``directory``.
    """
    from synflair.io.dicom_write import uids_for, write_magnitude_dicom, write_mdme_dicom

    directory = Path(directory)
    patient = patient_info(subject_id)
    thickness = preset.geometry.slice_thickness
    write_mdme_dicom(
        images.mdme,
        images.affine,
        directory / "dicom" / "mdme",
        protocol=MDME_PAPER,
        patient=patient,
        uid_seed=uid_seed,
        slice_thickness=thickness,
        series_number=1,
        series_description="MDME raw",
    )
    study = uids_for(uid_seed)
    write_magnitude_dicom(
        images.flair,
        images.affine,
        directory / "dicom" / "flair",
        patient=patient,
        uid_seed=uid_seed,
        slice_thickness=thickness,
        tr=CONVENTIONAL_FLAIR.tr,
        te=CONVENTIONAL_FLAIR.te,
        ti=CONVENTIONAL_FLAIR.ti,
        series_number=2,
        series_description="FLAIR",
        study_uid=study["StudyInstanceUID"],
        frame_of_reference_uid=study["FrameOfReferenceUID"],
    )
    truth = directory / "truth"
    prefix = f"sub-{subject_id}"
    for key, data in truth_maps(images, params).items():
        dtype = np.uint8 if key.endswith("_mask") else np.float32
        save(data, images.affine, truth / f"{prefix}_{key}.nii.gz", dtype=dtype)
    write_json(truth / f"{prefix}_motion.json", motion_record(params))

    import pandas as pd

    write_tsv(truth / f"{prefix}_tissues.tsv", pd.DataFrame(params.tissues.rows()))
    return directory
