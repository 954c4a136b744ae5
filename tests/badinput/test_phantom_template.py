"""Bad input of ``synflair phantom --template``: refused by name, before the template is built."""

from __future__ import annotations

import time

from badinput_harness import assert_refused


def test_template_cache_under_a_regular_file(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    cache = blocker / "template.npz"
    start = time.perf_counter()
    line = assert_refused(
        ["phantom", "--template", cache, "--template-only"],
        capsys,
        names=[str(cache), "cannot write"],
        outputs=[cache],
        inputs=[blocker],
    )
    assert line.startswith("synflair phantom: error:"), line
    assert time.perf_counter() - start < 5  # refused before the 10-15 s template build


def test_template_only_needs_the_cache_path(tmp_path, capsys):
    assert_refused(
        ["phantom", "--out", tmp_path / "cohort", "--template-only"],
        capsys,
        names=["--template-only needs --template FILE"],
    )
    assert not (tmp_path / "cohort").exists()


def test_out_is_required_to_write_subjects(capsys):
    assert_refused(["phantom", "--subjects", "2", "--preset", "ci"], capsys, names=["--out"])
