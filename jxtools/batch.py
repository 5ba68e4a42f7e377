"""Score many workbooks: one process per core, a progress bar, no file stops the rest.

:func:`ordered_map` is the one way the tools spread per-file work over
processes: results come back in input order as they finish (nothing is
held beyond what the caller keeps), and an interrupt (Ctrl-C, or SIGTERM,
which the CLI turns into one) stops the workers at once: none is left
running, and the caller's ``finally`` blocks remove their temporary files.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .audit import AuditReport, audit_file

SUFFIXES = (".xlsx", ".xlsm")
T = TypeVar("T")


def collect(sources: Iterable[Path]) -> list[Path]:
    """Workbooks named directly or found under directories (Excel's ~$ lock files skipped)."""
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            files += sorted(p for p in source.rglob("*") if p.suffix.lower() in SUFFIXES
                            and not p.name.startswith("~$") and p.is_file())
        else:
            files.append(source)
    return files


def _worker_init() -> None:
    """Workers leave interrupts to the parent, which stops them all (SIGTERM ends a worker at once)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def ordered_map(function: Callable[[Any], T], items: Sequence[Any], jobs: int | None = None,
                progress: str | None = None) -> Iterator[T]:
    """``function`` over ``items`` on ``jobs`` processes (default: every core), yielded in input order.

    ``progress``: the label of a progress bar on stderr. Small inputs, or one
    job, run in this process.
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=progress, unit="个", leave=True)
    pool = None
    try:
        if jobs == 1 or len(items) < 4:
            for item in items:
                result = function(item)
                if bar:
                    bar.update(1)
                yield result
            return
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
        chunk = max(1, min(32, len(items) // (jobs * 8)))
        for result in pool.map(function, items, chunksize=chunk):
            if bar:
                bar.update(1)
            yield result
        pool.shutdown(wait=True)
        pool = None
    finally:
        if pool is not None:  # interrupted (or the caller stopped early): stop every worker now
            _stop(pool)
        if bar:
            bar.close()


def _stop(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()


def run_batch(files: Sequence[Path], jobs: int | None = None, progress: bool = False) -> Iterator[AuditReport]:
    """Audit every file, in input order, on ``jobs`` processes (default: every core)."""
    return ordered_map(audit_file, files, jobs, "评分" if progress else None)
