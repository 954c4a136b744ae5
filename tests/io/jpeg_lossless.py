"""A minimal JPEG Lossless encoder (ITU T.81 process 14, selection value 1), for test data.

pydicom encodes JPEG-LS (pyjpegls) and JPEG 2000 (pylibjpeg-openjpeg) but has no
encoder for JPEG Lossless, the syntax many PACS use. This writes it: one
component, predictor 1 (the left neighbour; the first row from the left, the
first column from above, the first sample from 2^(P-1)), no point transform,
one fixed Huffman table over the 17 difference categories. Decoders
(GDCM through pydicom, dcm2niix) read it back; the tests check the round trip
value for value.
"""

from __future__ import annotations

import struct

import numpy as np
import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGLosslessSV1

#: Code lengths: categories 0-13 get 4 bits, 14-16 get 5 (no all-ones code).
_BITS = [0, 0, 0, 14, 3] + [0] * 11
_VALUES = list(range(17))


def _huffman_codes() -> tuple[np.ndarray, np.ndarray]:
    codes, lengths = np.zeros(17, np.int64), np.zeros(17, np.int64)
    code, symbol = 0, 0
    for length, count in enumerate(_BITS, start=1):
        for _ in range(count):
            codes[_VALUES[symbol]], lengths[_VALUES[symbol]] = code, length
            code += 1
            symbol += 1
        code <<= 1
    return codes, lengths


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def encode_frame(pixels: np.ndarray, precision: int = 16) -> bytes:
    """One 2D frame of unsigned ``precision``-bit samples as a JPEG Lossless stream."""
    x = np.asarray(pixels, dtype=np.int64)
    rows, columns = x.shape
    modulus = 1 << precision
    predicted = np.empty_like(x)
    predicted[:, 1:] = x[:, :-1]  # left neighbour
    predicted[1:, 0] = x[:-1, 0]  # first column: the sample above
    predicted[0, 0] = 1 << (precision - 1)
    diff = (x - predicted) % modulus
    diff = np.where(diff >= modulus // 2, diff - modulus, diff).ravel()
    size = np.zeros_like(diff)
    nonzero = diff != 0
    size[nonzero] = np.floor(np.log2(np.abs(diff[nonzero]))).astype(np.int64) + 1
    size[diff == -32768] = 16
    extra = np.where(diff >= 0, diff, diff - 1) & ((1 << size) - 1)
    extra[size == 16] = 0
    extra_len = np.where(size == 16, 0, size)
    codes, lengths = _huffman_codes()
    value = (codes[size] << extra_len) | extra
    total = lengths[size] + extra_len
    width = int(total.max())
    shifts = np.arange(width - 1, -1, -1)
    bits = (value[:, None] >> shifts) & 1
    keep = shifts[None, :] < total[:, None]
    stream = bits[keep].astype(np.uint8)
    stream = np.concatenate([stream, np.ones((-len(stream)) % 8, np.uint8)])
    data = np.packbits(stream).tobytes().replace(b"\xff", b"\xff\x00")
    header = b"\xff\xd8"
    header += _segment(0xFFC3, struct.pack(">BHHB", precision, rows, columns, 1) + b"\x01\x11\x00")
    header += _segment(0xFFC4, b"\x00" + bytes(_BITS) + bytes(_VALUES))
    header += _segment(0xFFDA, b"\x01\x01\x00" + bytes([1, 0, 0]))
    return header + data + b"\xff\xd9"


def compress_jpeg_lossless(path) -> None:
    """Rewrite the single-frame DICOM file ``path`` with JPEG Lossless SV1 pixel data."""
    ds = pydicom.dcmread(path)
    stored = ds.pixel_array
    unsigned = stored.astype(np.int64) % (1 << int(ds.BitsStored))
    ds.PixelData = encapsulate([encode_frame(unsigned, int(ds.BitsStored))])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    ds.save_as(path, enforce_file_format=True)
