"""DICOM in and out.

Modules
-------
dicom_write
    Writes MDME (complex) and magnitude series as DICOM; the digital phantom
    uses it.
mdme
    Sorts MDME DICOM and writes the 4D NIfTI and its JSON sidecar.
sidecar
    The MDME JSON sidecar: building, writing, reading and checking it.
dcm2niix
    Standard series (conventional FLAIR, vendor outputs) through dcm2niix.
anonymize
    Identifier scrubbing of sidecars and the check that no identifier leaks.
cli
    ``synflair dicom2nifti``.

The modules are not imported here, so that ``import synflair.io.dicom_write``
does not pay for nipype.
"""
