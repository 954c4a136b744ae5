"""Progress of long work (training, a cohort's phantoms, an exam's fit): rate and ETA in the log.

Under Snakemake or SLURM stderr is a file, not a terminal, so a progress bar
draws nothing useful. :class:`Progress` therefore logs one line, with the rate
and the estimated time left, every ``every`` items or every ``seconds`` seconds
(whichever comes first), in any case; on a terminal it also draws a tqdm bar.

>>> import logging
>>> clock = iter([0.0, 10.0, 20.0]).__next__
>>> progress = Progress(4, "fit", every=2, clock=clock, logger=logging.getLogger("x"), bar=False)
>>> progress.update(2)
True
>>> progress.status()
'fit: 2/4 (50%), 0.2 it/s, ETA 0:00:10'
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (days are counted in hours); ``?`` when unknown."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")) or seconds < 0:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Progress:
    """Count items done out of ``total``; log the rate and the ETA now and then.

    Parameters
    ----------
    total : int
        Items in all (iterations, subjects, chunks).
    label : str
        What is being done, the start of every log line (``"stage 1"``).
    every : int, optional
        Log after every ``every`` items (and at the last item).
    seconds : float, optional
        Also log when ``seconds`` have passed since the last line.
    initial : int
        Items already done (a resumed run); the rate counts only those done here.
    unit : str
        Name of an item in the rate (``"it"`` gives ``it/s``).
    logger : logging.Logger, optional
        Where the lines go (default: this module's logger).
    clock : callable
        Seconds, monotonic (``time.monotonic``); a fake one in tests.
    bar : bool, optional
        Draw a tqdm bar: ``None`` (default) when stderr is a terminal.
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        every: int | None = None,
        seconds: float | None = None,
        initial: int = 0,
        unit: str = "it",
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        bar: bool | None = None,
    ) -> None:
        if int(total) < 0:
            raise ValueError(f"total must be >= 0, not {total!r}")
        if every is not None and int(every) < 1:
            raise ValueError(f"every must be a positive integer, not {every!r}")
        if seconds is not None and not seconds > 0:
            raise ValueError(f"seconds must be > 0, not {seconds!r}")
        if not 0 <= int(initial) <= int(total):
            raise ValueError(f"initial must be in [0, total={total}], not {initial!r}")
        self.total, self.label, self.unit = int(total), label, unit
        self.every, self.seconds = every, seconds
        self.initial = self.done = int(initial)
        self.logger = logger or logging.getLogger(__name__)
        self.clock = clock
        self.start = self.last_logged = clock()
        self.now = self.start
        if bar is None:
            bar = sys.stderr.isatty()
        self.bar = None
        if bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total, initial=self.done, desc=label, unit=unit, dynamic_ncols=True
            )

    @property
    def rate(self) -> float:
        """Items per second done since the start (NaN before any time has passed)."""
        elapsed = self.now - self.start
        return (self.done - self.initial) / elapsed if elapsed > 0 else float("nan")

    @property
    def eta(self) -> float:
        """Seconds left at the current rate (NaN while the rate is unknown or zero)."""
        rate = self.rate
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / rate if rate > 0 else float("nan")

    def status(self) -> str:
        """``label: done/total (percent), rate unit/s, ETA H:MM:SS``."""
        percent = 100.0 * self.done / self.total if self.total else 100.0
        rate = self.rate
        rate_text = "?" if rate != rate else f"{rate:.3g}"
        return (
            f"{self.label}: {self.done}/{self.total} ({percent:.0f}%), "
            f"{rate_text} {self.unit}/s, ETA {format_duration(self.eta)}"
        )

    def _due(self, before: int) -> bool:
        """A line is due at the end, on passing a multiple of ``every``, or ``seconds`` after
        the last line."""
        if self.done >= self.total:
            return True
        if self.every is not None and self.done // self.every > before // self.every:
            return True
        return self.seconds is not None and self.now - self.last_logged >= self.seconds

    def update(self, n: int = 1, *, detail: str = "", log: bool = True) -> bool:
        """Count ``n`` more items done; log the status when due. Returns whether it was due.

        ``detail`` is appended to the line (e.g. the latest losses). With
        ``log=False`` nothing is logged; the caller logs :meth:`status` itself.
        """
        before = self.done
        self.done = min(self.total, self.done + int(n))
        self.now = self.clock()
        if self.bar is not None:
            self.bar.update(int(n))
        due = self._due(before)
        if due:
            self.last_logged = self.now
            if log:
                self.logger.info("%s%s", self.status(), f": {detail}" if detail else "")
        return due

    def close(self) -> None:
        """Close the bar (if any)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
