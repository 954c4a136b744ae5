"""The template cache: a round trip gives the same template; a stale or broken file is not used."""

from __future__ import annotations

import logging
from dataclasses import fields

import numpy as np
import pytest

from synflair.phantom.anatomy import AnatomySettings, SurfaceBand, Template
from synflair.phantom.template_cache import (
    cached_template,
    read_template,
    template_key,
    write_template,
)


def _assert_same(a: Template, b: Template):
    for field in fields(Template):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, SurfaceBand):
            for part in fields(SurfaceBand):
                np.testing.assert_array_equal(getattr(x, part.name), getattr(y, part.name))
        else:
            assert x.dtype == y.dtype, field.name
            np.testing.assert_array_equal(x, y, err_msg=field.name)


def test_round_trip(template, tmp_path):
    path = write_template(template, tmp_path / "t.npz")
    _assert_same(read_template(path), template)
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]  # no temporary left


def test_other_settings_are_refused_by_name(template, tmp_path):
    other = AnatomySettings(closing_mm=5.0)
    assert template_key(other) != template_key()
    path = write_template(template, tmp_path / "t.npz", other)
    with pytest.raises(ValueError, match=r"t\.npz: written by another synflair version"):
        read_template(path)
    read_template(path, other)  # the settings it was written with


def test_a_broken_file_is_refused_by_name(tmp_path):
    path = tmp_path / "t.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"t\.npz: not a readable template cache"):
        read_template(path)


def test_cached_template_rebuilds_a_stale_file_and_rewrites_it(template, tmp_path, caplog):
    path = write_template(template, tmp_path / "t.npz", AnatomySettings(closing_mm=5.0))
    with caplog.at_level(logging.WARNING, logger="synflair.phantom.template_cache"):
        built = cached_template(path)
    assert "building the template again" in caplog.text and "t.npz" in caplog.text
    _assert_same(built, template)
    _assert_same(read_template(path), template)  # rewritten with this version's key
    missing = tmp_path / "sub" / "new.npz"
    _assert_same(cached_template(missing), template)
    assert missing.is_file()
