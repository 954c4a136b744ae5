"""The paper's reported values, to be shown beside this run's.

Hagiwara et al., AJNR 2019;40:224-230, Table (PSNR and NRMSE of synthetic and
DL-FLAIR against conventional FLAIR, mean +- SD over 10 test subjects) and
Results (lesion Dice against conventional FLAIR). The paper gives
``P < .001`` for every synthetic-vs-DL comparison of the Table (the smallest
exact two-sided p with 10 pairs is 2/1024 = 0.00195, so this was presumably
the normal approximation) and ``P = 1`` for the Dice comparison.
"""

from __future__ import annotations

#: The paper's Table, one row per region and metric. ``percent_change`` is DL vs synthetic
#: as printed in the paper; ``p`` is the paper's text (not a number).
PAPER_TABLE: tuple[dict, ...] = (
    {"region": "GM", "metric": "psnr", "synthetic_mean": 27.16, "synthetic_sd": 0.54,
     "dl_mean": 34.03, "dl_sd": 1.33, "percent_change": 25.31, "p": "< .001"},
    {"region": "GM", "metric": "nrmse", "synthetic_mean": 0.47, "synthetic_sd": 0.039,
     "dl_mean": 0.33, "dl_sd": 0.028, "percent_change": -30.44, "p": "< .001"},
    {"region": "WM", "metric": "psnr", "synthetic_mean": 29.51, "synthetic_sd": 0.44,
     "dl_mean": 35.45, "dl_sd": 1.48, "percent_change": 20.14, "p": "< .001"},
    {"region": "WM", "metric": "nrmse", "synthetic_mean": 0.37, "synthetic_sd": 0.025,
     "dl_mean": 0.27, "dl_sd": 0.024, "percent_change": -27.32, "p": "< .001"},
    {"region": "CSF", "metric": "psnr", "synthetic_mean": 34.83, "synthetic_sd": 1.37,
     "dl_mean": 40.47, "dl_sd": 1.37, "percent_change": 16.21, "p": "< .001"},
    {"region": "CSF", "metric": "nrmse", "synthetic_mean": 0.29, "synthetic_sd": 0.027,
     "dl_mean": 0.21, "dl_sd": 0.017, "percent_change": -27.36, "p": "< .001"},
    {"region": "intracranial", "metric": "psnr", "synthetic_mean": 29.79, "synthetic_sd": 0.71,
     "dl_mean": 35.90, "dl_sd": 1.21, "percent_change": 20.54, "p": "< .001"},
    {"region": "intracranial", "metric": "nrmse", "synthetic_mean": 0.38,
     "synthetic_sd": 0.024, "dl_mean": 0.27, "dl_sd": 0.016, "percent_change": -28.66,
     "p": "< .001"},
    {"region": "lesions", "metric": "dice_conventional", "synthetic_mean": 0.55,
     "synthetic_sd": 0.14, "dl_mean": 0.57, "dl_sd": 0.17, "percent_change": None, "p": "1"},
)  # fmt: skip

#: Lesion Dice against conventional FLAIR's lesion maps: (mean, SD) per image, and the p-value.
PAPER_DICE: dict = {"synthetic": (0.55, 0.14), "dl": (0.57, 0.17), "p": 1.0}

#: The paper's number of test subjects (paired values in every comparison).
PAPER_N_TEST = 10
