"""synflair stats' options: each sets the StatsConfig field of its name, defaults read once."""

import argparse
import dataclasses

import pytest

from synflair.stats import cli
from synflair.stats.analysis import DEFAULT_STATS, StatsConfig


def parse(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(["--metrics", "m.tsv", "--out-dir", "o", *argv])


def test_defaults_are_the_configs():
    args = parse()
    fields = {f.name for f in dataclasses.fields(StatsConfig)}
    for option in cli.CONFIG_OPTIONS:
        name = option.removeprefix("--").replace("-", "_")
        assert name in fields
        assert getattr(args, name) == getattr(DEFAULT_STATS, name)


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--scaling", "raw"], "scaling", "raw"),
        (["--baseline", "stage1"], "baseline", "stage1"),
        (["--compare", "stage1"], "compare", "stage1"),
        (["--method", "normal"], "method", "normal"),
        (["--exact-max-n", "10"], "exact_max_n", 10),
        (["--nan-policy", "omit"], "nan_policy", "omit"),
    ],
)
def test_each_option_reaches_its_field(argv, field, value):
    config = cli.stats_config(parse(*argv))
    assert getattr(config, field) == value
    others = {f.name for f in dataclasses.fields(StatsConfig)} - {field}
    assert all(getattr(config, o) == getattr(DEFAULT_STATS, o) for o in others)


def test_metric_and_continuity_options():
    config = cli.stats_config(parse("--metric", "psnr", "--no-continuity-correction"))
    assert config.metrics == ("psnr",) and config.correction is False
