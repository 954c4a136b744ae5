"""``synflair.atomic``: whole outputs or none, no leftovers of killed writers, the umask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from synflair.atomic import atomic_directory, atomic_output, atomic_outputs, remove_stale
from synflair.nifti import save


@pytest.fixture()
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_files_and_folders_follow_the_umask(tmp_path, umask_027):
    image = save(np.zeros((2, 2, 2), np.float32), np.eye(4), tmp_path / "a" / "img.nii.gz")
    with atomic_directory(tmp_path / "folder") as tmp:
        (tmp / "x.txt").write_text("x")
    assert _mode(image) == 0o640
    assert _mode(tmp_path / "a") == 0o750
    assert _mode(tmp_path / "folder") == 0o750


def test_a_set_appears_together_or_not_at_all(tmp_path):
    paths = {k: tmp_path / f"{k}.txt" for k in "abc"}
    with pytest.raises(RuntimeError, match="disk full"), atomic_outputs(paths) as staged:
        staged["a"].write_text("a")
        staged["b"].write_text("b")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with atomic_outputs(paths) as staged:
        for key, path in staged.items():
            path.write_text(key)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "a.txt": "a",
        "b.txt": "b",
        "c.txt": "c",
    }


def test_failed_rewrite_keeps_the_previous_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("old")
    with pytest.raises(ValueError), atomic_output(path) as tmp:
        tmp.write_text("half")
        raise ValueError
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from synflair.atomic import atomic_outputs
    out = sys.argv[1]
    paths = {k: os.path.join(out, f"{k}.nii.gz") for k in "abcdefgh"}
    with atomic_outputs(paths) as staged:
        for n, key in enumerate("abcdefgh"):
            staged[key].write_bytes(b"x" * 1000)
            if n == 3:
                os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_writer_leaves_no_output_and_a_rerun_cleans_up(tmp_path):
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], check=False)
    assert done.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left and all(name.startswith(".") for name in left)  # hidden temporaries only
    removed = remove_stale(tmp_path / "a.nii.gz")
    assert [p.name for p in removed] == [n for n in left if n.startswith(".a.")]
    # a rerun of the whole set removes the rest and publishes all eight
    with atomic_outputs({k: tmp_path / f"{k}.nii.gz" for k in "abcdefgh"}) as staged:
        for path in staged.values():
            path.write_bytes(b"y")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{k}.nii.gz" for k in "abcdefgh"]


def test_a_write_in_progress_is_not_removed(tmp_path):
    with atomic_output(tmp_path / "x.txt") as tmp:
        tmp.write_text("busy")
        assert remove_stale(tmp_path / "x.txt") == []
        assert tmp.exists()
