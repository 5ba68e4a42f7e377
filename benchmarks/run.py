"""JX benchmarks: every figure is a ratio against a baseline measured in the same run.

    python benchmarks/run.py [--workbooks 1000] [--repeat 5]

1. cold ``import udfs`` against cold ``import pandas`` (fresh interpreters);
2. auditing N generated workbooks against reading the same files with
   python-calamine alone (all sheets), single process, plus ``jx batch`` on
   every core against the same single-process read;
3. ``jx recalc`` of the example against LibreOffice headless recalculating the
   same workbook (recalculation on load forced through a throwaway profile).

The machines are shared and noisy: medians of repeated runs, baselines
interleaved with the measured runs, and no timing is ever asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def _clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _python(code: str) -> float:
    return _clock(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def bench_import(repeat: int) -> dict:
    bare, udfs_t, pandas_t = [], [], []
    for _ in range(repeat):  # interleaved, so drift in machine load hits all three alike
        bare.append(_python("pass"))
        udfs_t.append(_python("import udfs"))
        pandas_t.append(_python("import pandas"))
    b, u, p = map(statistics.median, (bare, udfs_t, pandas_t))
    return {"interpreter": b, "udfs": u - b, "pandas": p - b, "ratio": (u - b) / (p - b)}


def _raw_read(paths) -> None:
    from python_calamine import CalamineWorkbook

    for path in paths:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()
        book.close()


def bench_batch(count: int, repeat: int) -> dict:
    from jxtools.audit import audit_file
    from jxtools.batch import run_batch
    from generate import generate

    with tempfile.TemporaryDirectory(prefix="jx-bench-") as tmp:
        paths = generate(count, Path(tmp))
        _raw_read(paths[:20])
        [audit_file(p) for p in paths[:20]]  # warm both: imports, caches, page cache
        raw, single, parallel = [], [], []
        for _ in range(repeat):
            raw.append(_clock(lambda: _raw_read(paths)))
            single.append(_clock(lambda: [audit_file(p) for p in paths]))
            parallel.append(_clock(lambda: run_batch(paths, jobs=os.cpu_count())))
        reports = run_batch(paths, jobs=1)
    r, s, p = map(statistics.median, (raw, single, parallel))
    assert all(rep.error is None for rep in reports)
    return {"files": count, "raw": r, "audit": s, "batch": p, "audit_ratio": s / r, "batch_ratio": p / r,
            "jobs": os.cpu_count()}


def bench_recalc(repeat: int) -> dict:
    from jxtools.build import EXAMPLE
    from jxtools.cached import write_with_values
    from tests.support.libreoffice import recalculate_with_libreoffice
    from jxtools.recalc import recalculate

    with tempfile.TemporaryDirectory(prefix="jx-bench-") as tmp:
        out = Path(tmp)
        jx_t, lo_t = [], []
        for i in range(repeat):
            jx_t.append(_clock(lambda: write_with_values(EXAMPLE, recalculate(EXAMPLE).values, out / f"jx-{i}.xlsm")))
            lo_dir = out / f"lo-{i}"
            lo_t.append(_clock(lambda: recalculate_with_libreoffice([EXAMPLE], lo_dir)))
    j, lo = statistics.median(jx_t), statistics.median(lo_t)
    return {"jx": j, "libreoffice": lo, "ratio": j / lo}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workbooks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip", nargs="*", default=[], choices=["import", "batch", "recalc"])
    args = parser.parse_args()
    print(f"机器：{platform.machine()}，{os.cpu_count()} 核，Python {platform.python_version()}，{platform.platform()}")
    if "import" not in args.skip:
        r = bench_import(args.repeat * 2)
        print(f"冷启动 import udfs：{r['udfs'] * 1000:.0f} ms；import pandas：{r['pandas'] * 1000:.0f} ms；"
              f"比值 {r['ratio']:.2f}（已扣除解释器启动 {r['interpreter'] * 1000:.0f} ms）")
    if "batch" not in args.skip:
        r = bench_batch(args.workbooks, args.repeat)
        print(f"复核 {r['files']} 个工作簿：calamine 仅读取 {r['raw']:.2f} s；单进程复核 {r['audit']:.2f} s"
              f"（{r['audit_ratio']:.2f} 倍）；jx batch {r['jobs']} 进程 {r['batch']:.2f} s（{r['batch_ratio']:.2f} 倍）")
    if "recalc" not in args.skip:
        r = bench_recalc(args.repeat)
        print(f"重算示例工作簿：jx recalc {r['jx']:.2f} s；LibreOffice 强制重算 {r['libreoffice']:.2f} s；"
              f"比值 {r['ratio']:.2f}")


if __name__ == "__main__":
    main()
