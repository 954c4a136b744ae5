"""DICOM in and out.

Modules
-------
dicom_write
    Writes MDME (complex) and magnitude series as DICOM; the digital phantom
    uses it.
dicom_files
    Finds and opens the DICOM files of a folder (unreadable or truncated files
    named) and tells which series they hold.
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
anonymize
    Identifier scrubbing of sidecars and the check that no identifier leaks.
cli
    ``synflair dicom2nifti``.

The modules are not imported here, so that ``import synflair.io.dicom_write``
does not pay for nipype.
"""
