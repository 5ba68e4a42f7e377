"""Score many workbooks: one process per core, a progress bar, no file stops the rest."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .audit import AuditReport, audit_file

SUFFIXES = (".xlsx", ".xlsm")


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


def run_batch(files: Sequence[Path], jobs: int | None = None, progress: bool = False) -> list[AuditReport]:
    """Audit every file, in input order, on ``jobs`` processes (default: every core)."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(files), desc="评分", unit="个", file=None, leave=True)
    reports: list[AuditReport] = []
    try:
        if jobs == 1 or len(files) < 4:
            for path in files:
                reports.append(audit_file(path))
                if bar:
                    bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                chunk = max(1, min(32, len(files) // (jobs * 8)))
                for report in pool.map(audit_file, files, chunksize=chunk):
                    reports.append(report)
                    if bar:
                        bar.update(1)
    finally:
        if bar:
            bar.close()
    return reports
