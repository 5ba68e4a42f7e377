"""LibreOffice's recalculation time per exported workbook, batched.

    python benchmarks/libreoffice_recalc.py [--sizes 1,10,50] [--repeat 1]

The workbook is the reference report exported by ``jx export`` (96.51, 优; 181
target rows). For each batch size N, one soffice run converts N copies:

* **导出副本，强制重算** — the exported file as users get it (no cached values),
  recalculation on load forced through a throwaway profile: what
  ``tests/support/libreoffice.recalculate_with_libreoffice`` does;
* **带缓存值：不重算 / 强制重算** — the same workbook with LibreOffice's own
  cached values, converted with ``OOXMLRecalcMode`` 1 (never) and 0 (always)
  in the same run of this script; their ratio isolates the cost of the
  recalculation from loading and saving the file.

Per-file seconds include the soffice start, shared by the N files of a run.
The last row runs two soffice processes side by side (one per core), as the
differential test does. The machines are shared and noisy: runs are
interleaved and the median of ``--repeat`` is reported; no test asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.support.libreoffice import (RECALC_ALWAYS, RECALC_NEVER, find_soffice,  # noqa: E402
                               recalculate_in_parallel, recalculate_with_libreoffice)


def _exported(work: Path) -> Path:
    """The shipped example (the reference report), exported."""
    from jxtools.build import EXAMPLE
    from jxtools.export import export_workbook

    return export_workbook(EXAMPLE, work / "example-native.xlsx")


def _copies(source: Path, folder: Path, n: int) -> list[Path]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out = []
    for i in range(n):
        target = folder / f"copy{i:04d}.xlsx"
        shutil.copyfile(source, target)
        out.append(target)
    return out


def _timed(paths: list[Path], out: Path, mode: int, runs: int = 1) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    if runs == 1:
        recalculate_with_libreoffice(paths, out, recalc_mode=mode)
    else:
        recalculate_in_parallel(paths, out, runs=runs, recalc_mode=mode)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50", help="files per soffice run, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    soffice = find_soffice()
    version = subprocess.run([soffice, "--version"], capture_output=True, text=True).stdout.strip()
    cores = os.cpu_count() or 1

    work = Path(tempfile.mkdtemp(prefix="jx-bench-lo-"))
    try:
        exported = _exported(work)
        cached = next(iter(recalculate_with_libreoffice([exported], work / "cached").values()))
        rows = []
        for n in sizes:
            fresh = _copies(exported, work / "fresh", n)
            kept = _copies(cached, work / "kept", n)
            on, off, plain = [], [], []
            for _ in range(args.repeat):  # interleaved: a load spike hits every column alike
                plain.append(_timed(fresh, work / "o1", RECALC_ALWAYS) / n)
                off.append(_timed(kept, work / "o2", RECALC_NEVER) / n)
                on.append(_timed(kept, work / "o3", RECALC_ALWAYS) / n)
            rows.append((f"{n} 个/次", *map(statistics.median, (plain, off, on))))
        n = sizes[-1]
        if cores > 1:
            fresh = _copies(exported, work / "fresh", n)
            kept = _copies(cached, work / "kept", n)
            plain = statistics.median(_timed(fresh, work / "o1", RECALC_ALWAYS, runs=2) / n for _ in range(args.repeat))
            off = statistics.median(_timed(kept, work / "o2", RECALC_NEVER, runs=2) / n for _ in range(args.repeat))
            on = statistics.median(_timed(kept, work / "o3", RECALC_ALWAYS, runs=2) / n for _ in range(args.repeat))
            rows.append((f"{n} 个，2 进程并行", plain, off, on))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"LibreOffice 重算导出副本（参考报告，181 行绩效指标）— {version}")
    print(f"机器：{platform.platform()}，{cores} 核，Python {platform.python_version()}；共享机器，有噪声；"
          f"每格为 {args.repeat} 次的中位数")
    print()
    header = ("批量", "导出副本 强制重算 s/个", "带缓存 不重算 s/个", "带缓存 强制重算 s/个", "重算/不重算")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for label, plain, off, on in rows:
        print(f"{label} | {plain:.3f} | {off:.3f} | {on:.3f} | {on / off:.2f}")


if __name__ == "__main__":
    main()
