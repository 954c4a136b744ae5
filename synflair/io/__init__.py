"""DICOM in and out.

Modules
-------
dicom_write
    Writes MDME (complex) and magnitude series as DICOM; the digital phantom
    uses it.
dicom_files
    Finds and opens the DICOM files of a folder (unreadable or truncated files
    named) and tells which series they hold.
dicom_formats
    Compressed pixel data (which decoder plugin, named when missing) and
    enhanced multi-frame objects (refused by the MDME importer).
study
    Finds the MDME raw series and the conventional FLAIR in a study folder
    (PACS export) and says why every other series is skipped.
mdme_sort
    Sorts and checks MDME DICOM files: one image per slice, TE, delay and
    complex component.
mdme
    Reads the sorted MDME images, removes the background phase and writes the
    4D NIfTI and its JSON sidecar.
phase
    Complex reconstruction helpers: phase units, background phase estimate.
sidecar
    The MDME JSON sidecar: building, writing, reading and checking it.
dcm2niix
    Standard series (conventional FLAIR, vendor outputs) through dcm2niix.
plausibility
    Physically plausible MR timing and flip angles; names s/ms and
    degree/radian mix-ups.
nifti_input
    NIfTI inputs instead of DICOM (the MDME NIfTI + sidecar, a FLAIR NIfTI):
    checked like converted ones, then copied.
anonymize
    Identifier scrubbing of sidecars and the check that no identifier leaks.
publish
    Writes a converted image and its sidecar: both or neither, leak-checked.
cli
    ``synflair dicom2nifti``.
study_cli
    ``synflair find-series``.

The modules are not imported here, so that ``import synflair.io.dicom_write``
does not pay for nipype.
"""
