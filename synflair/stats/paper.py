"""The paper's reported values, to be shown beside this run's.

Hagiwara et al., AJNR 2019;40:224-230, Table (PSNR and NRMSE of synthetic and
DL-FLAIR against conventional FLAIR, mean +- SD over 10 test subjects) and
Results (lesion Dice against conventional FLAIR). The paper gives
``P < .001`` for every synthetic-vs-DL comparison of the Table (the smallest
exact two-sided p with 10 pairs is 2/1024 = 0.00195, so this was presumably
the normal approximation) and ``P = 1`` for the Dice comparison.
"""

from __future__ import annotations

#: Lesion Dice against conventional FLAIR's lesion maps: (mean, SD) per image, and the p-value.
PAPER_DICE: dict = {"synthetic": (0.55, 0.14), "dl": (0.57, 0.17), "p": 1.0}

#: The paper's number of test subjects (paired values in every comparison).
PAPER_N_TEST = 10

#: The keys of a :data:`PAPER_TABLE` row.
PAPER_TABLE_KEYS = (
    "region", "metric", "synthetic_mean", "synthetic_sd", "dl_mean", "dl_sd", "percent_change", "p"
)  # fmt: skip

#: The paper's Table, one row per region and metric (keys :data:`PAPER_TABLE_KEYS`), and the
#: Dice of :data:`PAPER_DICE`. ``percent_change`` is DL vs synthetic as printed in the paper;
#: ``p`` is the paper's text (not a number).
PAPER_TABLE: tuple[dict, ...] = tuple(
    dict(zip(PAPER_TABLE_KEYS, row, strict=True))
    for row in (
        ("GM", "psnr", 27.16, 0.54, 34.03, 1.33, 25.31, "< .001"),
        ("GM", "nrmse", 0.47, 0.039, 0.33, 0.028, -30.44, "< .001"),
        ("WM", "psnr", 29.51, 0.44, 35.45, 1.48, 20.14, "< .001"),
        ("WM", "nrmse", 0.37, 0.025, 0.27, 0.024, -27.32, "< .001"),
        ("CSF", "psnr", 34.83, 1.37, 40.47, 1.37, 16.21, "< .001"),
        ("CSF", "nrmse", 0.29, 0.027, 0.21, 0.017, -27.36, "< .001"),
        ("intracranial", "psnr", 29.79, 0.71, 35.90, 1.21, 20.54, "< .001"),
        ("intracranial", "nrmse", 0.38, 0.024, 0.27, 0.016, -28.66, "< .001"),
        ("lesions", "dice_conventional", *PAPER_DICE["synthetic"], *PAPER_DICE["dl"], None, "1"),
    )
)
