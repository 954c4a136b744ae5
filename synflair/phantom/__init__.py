"""The digital phantom: a cohort of virtual MS patients scanned like the paper's.

Modules (one concept each; nothing heavy is imported here, so that the workflow
can import :mod:`synflair.phantom.cohort` cheaply):

presets
    Geometry and model settings of the ``paper``, ``demo`` and ``ci`` presets.
anatomy
    The template head from nilearn's bundled MNI152 2009a maps.
tissues, scalp
    Relaxation values per compartment; skull and scalp layers.
deformation, atrophy, lesions
    Head pose, smooth deformation and motion; atrophy; white-matter lesions
    (geometry and tissue composition).
contrast
    The lesion / normal-appearing WM ratio the lesions are calibrated on.
fields, flow
    B1, receive bias and background phase; CSF flow perturbations.
acquisition
    Slice profile, multi-compartment signal summation and k-space truncation.
subject
    Draw a subject's parameters (random) and simulate its images (deterministic).
output, generate, cli
    Write a subject folder; generate a cohort; ``synflair phantom``.
cohort
    Subject ids, splits, seeds and fake patient identifiers (standard library only).
figure
    ``synflair figure``: one slice of each phantom image.
"""
