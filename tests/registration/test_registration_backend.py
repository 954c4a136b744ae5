"""Backend selection: auto, fsl without FSL, unknown names."""

from __future__ import annotations

import pytest

from synflair.errors import SynflairError
from synflair.registration import backend


@pytest.fixture
def no_fsl(monkeypatch, tmp_path):
    """$FSLDIR pointing at a directory without an FSL installation."""
    monkeypatch.setenv("FSLDIR", str(tmp_path))
    backend.fsl_version.cache_clear()
    yield
    backend.fsl_version.cache_clear()


def test_auto_falls_back_to_ants_without_fsl(no_fsl):
    assert backend.fsl_version() is None
    assert backend.resolve_backend("auto", ("flirt",)) == "ants"
    assert backend.resolve_backend("ants") == "ants"


def test_fsl_without_fsl_names_fsldir(no_fsl):
    with pytest.raises(SynflairError, match=r"\$FSLDIR") as info:
        backend.resolve_backend("fsl", ("flirt",))
    assert "--backend ants" in str(info.value)


def test_unset_fsldir_means_no_fsl(monkeypatch):
    monkeypatch.delenv("FSLDIR", raising=False)
    backend.fsl_version.cache_clear()
    try:
        assert backend.fsl_version() is None
    finally:
        backend.fsl_version.cache_clear()


def test_unknown_backend_is_rejected():
    with pytest.raises(SynflairError, match="backend must be one of auto, fsl, ants, not 'spm'"):
        backend.resolve_backend("spm")


def test_fsl_tool_lookup_prefers_fsldir_bin(monkeypatch, tmp_path):
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "sometool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("FSLDIR", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert backend.fsl_tool("sometool") == tool
    assert backend.fsl_tool("othertool") is None
