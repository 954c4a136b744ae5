"""GM/WM/CSF segmentation of the skull-stripped synthetic T1w (FSL FAST or ANTs Atropos).

The public API is :func:`segment`; see :mod:`synflair.segmentation.api` for the
output contract. Heavy tools (nipype, antspyx) are imported only when a step
runs.
"""

from synflair.segmentation.api import CLASSES, SegmentationResult, output_paths, segment

__all__ = ["CLASSES", "SegmentationResult", "output_paths", "segment"]
