"""The bad-input contract, checked the same way for every case of the corpus.

A bad input must give, from the ``synflair`` command line:

- exit status 2 (``SynflairError``) or argparse's usage error (also 2);
- one line on stderr that names the file, field or config key (``names``);
- no Python traceback (an exception escaping ``main`` fails the test as a traceback);
- nothing at any final output path, and no hidden temporary file left beside it;
- its inputs unchanged (same bytes before and after).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from synflair.cli import main


@dataclass(frozen=True)
class Outcome:
    """What one command-line run gave: exit status and the captured streams."""

    status: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str], capsys) -> Outcome:
    """Run ``synflair ARGV`` in-process; argparse's ``SystemExit`` becomes its status."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse usage errors
        status = stop.code if isinstance(stop.code, int) else 2
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err)


def digest(paths: Iterable[Path]) -> dict[Path, str]:
    """SHA-256 of every file at or under ``paths`` (the inputs to keep unchanged)."""
    result: dict[Path, str] = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                result[file] = hashlib.sha256(file.read_bytes()).hexdigest()
    return result


def error_line(outcome: Outcome) -> str:
    """The single non-empty stderr line of a refused run (fails if there are more)."""
    assert "Traceback" not in outcome.stderr, outcome.stderr
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    # argparse prints its usage before the error line; the error itself is one line
    lines = [line for line in lines if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, f"expected one error line, got {len(lines)}:\n{outcome.stderr}"
    return lines[0]


def assert_refused(
    argv: Sequence[str],
    capsys,
    *,
    names: Sequence[str],
    outputs: Sequence[Path] = (),
    inputs: Sequence[Path] = (),
    status: int = 2,
) -> str:
    """Run ``argv`` and check the bad-input contract; return the error line.

    Parameters
    ----------
    argv : sequence of str
        The ``synflair`` arguments (subcommand first).
    capsys : pytest fixture
    names : sequence of str
        Substrings the error line must contain (the file, key or field; what was expected).
    outputs : sequence of path
        Final output paths that must not exist afterwards; their folders must hold no
        hidden temporary file either.
    inputs : sequence of path
        Files or folders whose bytes must be unchanged.
    status : int
        Expected exit status.
    """
    before = digest(inputs)
    outcome = run_cli(argv, capsys)
    line = error_line(outcome)
    assert outcome.status == status, f"exit {outcome.status}, expected {status}: {line}"
    for name in names:
        assert str(name) in line, f"{name!r} not named in: {line}"
    for output in map(Path, outputs):
        assert not output.exists(), f"{output} was written although the input was refused"
        if output.parent.is_dir():
            stem = output.name.split(".")[0]
            left = [p.name for p in output.parent.iterdir() if p.name.startswith(f".{stem}.")]
            assert not left, f"temporary files left beside {output}: {left}"
    assert digest(inputs) == before, "an input file was modified"
    return line
