"""What a DICOM file's encoding asks of the reader: compressed pixel data, multi-frame objects.

PACS exports often hold pixel data compressed with JPEG Lossless, JPEG-LS or
JPEG 2000. pydicom decodes them through plugins that are separate packages;
synflair depends on ``python-gdcm`` (GDCM's Python bindings, BSD licence), whose
pydicom plugin decodes JPEG baseline and lossless, JPEG-LS and JPEG 2000. (The
``pylibjpeg-libjpeg`` plugin would do the same for JPEG, but it is GPL-3.0,
which synflair's BSD licence does not take on as a dependency.) RLE and deflate
need nothing. :func:`check_decodable` names the file, the transfer
syntax and the packages to install where no decoder is available.

Enhanced (multi-frame) MR objects store a whole series in one file, with the
echo time and delay of each frame in ``PerFrameFunctionalGroupsSequence``. The
MDME importer reads classic single-frame images only; :func:`check_single_frame`
refuses an enhanced object naming the file and saying to export classic images
(dcm2niix, which converts the conventional FLAIR, reads both).
"""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import UID

from synflair.errors import SynflairError

__all__ = [
    "ENHANCED_SOP_CLASSES",
    "check_decodable",
    "check_single_frame",
    "decoder_versions",
    "describe_decoders",
    "enhanced_reason",
]

#: SOP classes that hold a series as one multi-frame object.
ENHANCED_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.3": "Enhanced MR Color Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.4": "Legacy Converted Enhanced MR Image Storage",
}
_GDCM = "python-gdcm"
#: Transfer-syntax UID prefix -> the PyPI package whose pydicom plugin decodes it.
_PACKAGES = {
    "1.2.840.10008.1.2.4.5": _GDCM,  # JPEG baseline/extended (.50, .51) and lossless (.57)
    "1.2.840.10008.1.2.4.70": _GDCM,  # JPEG Lossless, first-order prediction
    "1.2.840.10008.1.2.4.8": _GDCM,  # JPEG-LS lossless (.80) and near-lossless (.81)
    "1.2.840.10008.1.2.4.9": _GDCM,  # JPEG 2000 (.90, .91)
}


def decoder_versions() -> dict[str, str | None]:
    """The installed pixel-data decoder package: PyPI name -> version (None: not installed).

    Logged by the DICOM conversion, and named in the message of a file that
    cannot be decoded.
    """
    try:
        import gdcm

        return {_GDCM: str(gdcm.Version.GetVersion())}
    except ImportError:
        return {_GDCM: None}


def describe_decoders() -> str:
    """``"python-gdcm 3.2.6"`` or ``"python-gdcm not installed"``."""
    return ", ".join(
        f"{name} {version}" if version else f"{name} not installed"
        for name, version in decoder_versions().items()
    )


def _packages_for(uid: str) -> str:
    for prefix, packages in _PACKAGES.items():
        if uid.startswith(prefix):
            return packages
    return "a pydicom pixel-data plugin for it"


def check_decodable(path: Path, ds: Dataset) -> None:
    """Refuse a file whose pixel data no installed pydicom plugin can decode.

    Parameters
    ----------
    path : pathlib.Path
        The file, named in the message.
    ds : pydicom.Dataset
        Its dataset (header; the pixel data need not be read).

    Raises
    ------
    SynflairError
        Naming the file, the transfer syntax and the package(s) to install.
    """
    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None)
    if uid is None:
        return
    uid = UID(str(uid))
    if not uid.is_compressed:
        return
    from pydicom.pixels import get_decoder

    name = f"{uid.name} (TransferSyntaxUID {uid})"
    try:
        decoder = get_decoder(uid)
    except NotImplementedError as error:
        raise SynflairError(
            f"{path}: pixel data compressed as {name}, which pydicom cannot decode; expected "
            "uncompressed, JPEG Lossless, JPEG-LS, JPEG 2000 or RLE pixel data (export the "
            "series uncompressed)"
        ) from error
    if not decoder.is_available:
        packages = _packages_for(str(uid))
        raise SynflairError(
            f"{path}: pixel data compressed as {name} but no decoder is installed: install "
            f"{packages} (pip install {packages}; found: "
            f"{describe_decoders()}; pydicom's plugins missing: "
            f"{'; '.join(decoder.missing_dependencies)})"
        )


def enhanced_reason(ds: Dataset) -> str | None:
    """Why ``ds`` is a multi-frame (enhanced) object, or None for a classic image."""
    sop = str(ds.get("SOPClassUID", ""))
    if sop in ENHANCED_SOP_CLASSES:
        return f"{ENHANCED_SOP_CLASSES[sop]} (SOPClassUID {sop}), a multi-frame object"
    if "PerFrameFunctionalGroupsSequence" in ds:
        return "a multi-frame object (PerFrameFunctionalGroupsSequence)"
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        frames = 1
    if frames > 1:
        return f"a multi-frame object (NumberOfFrames {frames})"
    return None


def check_single_frame(path: Path, ds: Dataset) -> None:
    """Refuse an enhanced multi-frame object (the MDME importer reads single-frame images).

    Raises
    ------
    SynflairError
        Naming the file and saying to export classic single-frame images.
    """
    reason = enhanced_reason(ds)
    if reason is not None:
        raise SynflairError(
            f"{path}: {reason}; the MDME importer reads classic single-frame MR images only: "
            "export the series from the scanner or PACS as classic (single-frame) MR Image "
            "Storage"
        )
