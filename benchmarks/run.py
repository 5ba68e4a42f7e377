"""JX benchmarks: every figure is a ratio against a baseline measured in the same run.

    python benchmarks/run.py [--sizes 100,1000] [--large] [--repeat 3] [--write docs/benchmarks.md]

Whole processes, cold, as a user runs them; baseline and measured runs are
interleaved so that drift in the machine's load hits both; medians.

1. ``jx batch`` of N workbooks (100, 1,000; 10,000 with ``--large``) on every
   core against a single-process python-calamine read of the same files
   (every sheet); peak RSS of each; cost per file at each size. The same for
   ``jx audit --format xlsx`` (single process) of the same files.
2. ``jx recalc`` of the example against LibreOffice headless recalculating the
   same workbook (recalculation on load forced through a throwaway profile),
   both cold; and ``jx recalc`` of a workbook with 2,000 target rows against
   one with the template's 250 (linear in rows?).
3. ``jx --help`` and ``jx audit`` of one workbook against a cold calamine read
   of that workbook.
4. ``import udfs`` against ``import pandas`` (fresh interpreters).
5. ``jx export`` of the example against an openpyxl load and save of it (the
   floor of any rewrite of the workbook).
6. The stages of one file's audit in a warm process (``stages.py``): package
   checks and sheet scans, the whole trusted reading, reading and scoring,
   each against a calamine read of the same files.

The project's modules are compiled to bytecode first, as an installation
has them (here ``PYTHONDONTWRITEBYTECODE`` is set, so a checkout would
otherwise recompile every module in every cold start).

No timing is ever asserted in the tests: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PYTHON = sys.executable
JX = [PYTHON, "-m", "jxtools.cli"]
STAGE_FILES = 200  # distinct generated workbooks for the per-file stages
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "t = time.perf_counter() - t\n"
    "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
)
_CALAMINE = (
    "import sys\n"
    "from python_calamine import CalamineWorkbook\n"
    "paths = sys.argv[1:] if len(sys.argv) > 2 or not sys.argv[1].endswith('.txt') else open(sys.argv[1]).read().split()\n"
    "for path in paths:\n"
    "    book = CalamineWorkbook.from_path(path)\n"
    "    for name in book.sheet_names:\n"
    "        book.get_sheet_by_name(name).to_python()\n"
    "    book.close()\n"
)
_OPENPYXL = ("import sys, openpyxl\n"
             "wb = openpyxl.load_workbook(sys.argv[1], keep_vba=False)\n"
             "wb.save(sys.argv[2])\n")


def run(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB of the largest process) of one cold run of ``command``."""
    out = subprocess.run([PYTHON, "-c", _MEASURE, *command], capture_output=True, text=True, cwd=ROOT,
                         env=env or os.environ, check=True).stdout.split()
    seconds, rss_kb, code = float(out[0]), float(out[1]), int(out[2])
    if code not in (0, 1):  # 1: the example's own contradiction is flagged
        raise RuntimeError(f"{command[:4]} exited {code}")
    return seconds, rss_kb / 1024


def paired(measured: list[str], baseline: list[str], repeat: int, warm: int = 1) -> dict:
    """Interleaved runs of both; medians of seconds and of peak RSS."""
    for _ in range(warm):
        run(baseline), run(measured)
    m, b = [], []
    for _ in range(repeat):
        b.append(run(baseline))
        m.append(run(measured))
    ms, mr = statistics.median(t for t, _ in m), statistics.median(r for _, r in m)
    bs, br = statistics.median(t for t, _ in b), statistics.median(r for _, r in b)
    return {"measured": ms, "baseline": bs, "ratio": ms / bs, "measured_rss": mr, "baseline_rss": br}


def workbooks(count: int, folder: Path) -> list[Path]:
    """``count`` filled workbooks, every one different (inputs, department and targets varied)."""
    from generate import generate

    return generate(count, folder)


def bench_many(sizes: list[int], repeat: int, work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        folder = work / f"n{size}"
        paths = workbooks(size, folder)
        listing = folder / "files.txt"
        listing.write_text("\n".join(map(str, paths)))
        calamine = [PYTHON, "-c", _CALAMINE, str(listing)]
        batch = paired([*JX, "batch", str(folder), "-o", str(work / f"summary-{size}.xlsx")], calamine,
                       repeat if size <= 1000 else 1)
        audit = paired([*JX, "audit", *map(str, paths), "--format", "xlsx", "-o", str(work / f"audit-{size}.xlsx")],
                       calamine, repeat if size <= 1000 else 1, warm=0)
        rows.append({"size": size, "batch": batch, "audit": audit})
        shutil.rmtree(folder)
    return rows


def bench_recalc(repeat: int, work: Path) -> dict:
    from support.libreoffice import find_soffice, write_profile

    from jxtools.build import EXAMPLE

    profile = write_profile(work / "profile")
    soffice = [find_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "xlsx", "--outdir", str(work / "lo"), str(EXAMPLE)]
    return paired([*JX, "recalc", str(EXAMPLE), "-o", str(work / "recalc.xlsm")], soffice, repeat)


def bench_rows(repeat: int, work: Path) -> dict:
    """jx recalc at the template's 250 target rows and at 2,000: the cost per row should not grow."""
    from addin.template import Filled, build
    from generate import vary_targets
    from jx.rubric import load_rubric

    from jxtools.build import example_filled

    base = example_filled()
    rubric = load_rubric("shenzhen-2020")
    small = build(work / "rows-250.xlsm", base, rubric=rubric)
    targets = [dict(t) for t in base.targets]
    # the rows beyond the example's own have their figures redrawn: no judgement is a repeat of another's
    extra = (targets * (2000 // len(targets) + 1))[:2000 - len(targets)]
    many = targets + vary_targets(extra, random.Random(2000))
    large = build(work / "rows-2000.xlsm", Filled(base.values, base.tasks, many, base.texts), rubric=rubric,
                  target_rows=2000)
    out = work / "rows.xlsm"
    return paired([*JX, "recalc", str(large), "-o", str(out)], [*JX, "recalc", str(small), "-o", str(out)], repeat)


def bench_start(repeat: int) -> dict:
    from jxtools.build import EXAMPLE

    calamine = [PYTHON, "-c", _CALAMINE, str(EXAMPLE)]
    return {"help": paired([*JX, "--help"], calamine, repeat),
            "audit": paired([*JX, "audit", str(EXAMPLE)], calamine, repeat)}


def bench_import(repeat: int) -> dict:
    return paired([PYTHON, "-c", "import udfs"], [PYTHON, "-c", "import pandas"], repeat * 2)


def bench_export(repeat: int, work: Path) -> dict:
    from jxtools.build import EXAMPLE

    return paired([*JX, "export", str(EXAMPLE), "-o", str(work / "native.xlsx")],
                  [PYTHON, "-c", _OPENPYXL, str(EXAMPLE), str(work / "plain.xlsx")], repeat)


def bench_stages(work: Path) -> dict:
    from generate import generate

    paths = generate(STAGE_FILES, work / "stages")
    out = subprocess.run([PYTHON, str(HERE / "stages.py"), *map(str, paths)], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    shutil.rmtree(work / "stages")
    return json.loads(out)


def machine() -> str:
    soffice = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()}，{os.cpu_count()} 核，Python {platform.python_version()}，{platform.system()} "
            f"{platform.release()}，{soffice.strip()}；开始时负载 {load:.1f}（共享机器）")


def report(results: dict, args) -> str:
    lines = [f"机器：{results['machine']}。", f"命令：`python benchmarks/run.py {' '.join(sys.argv[1:])}`，{date.today()}"
             "（本项目的模块先编译成字节码，与安装后相同）。", "",
             "| 项目 | 基线（同一次运行） | 结果 | 比值 |", "|---|---|---|---|"]

    def row(name, base_name, r, unit="s"):
        lines.append(f"| {name} | {base_name}：{r['baseline']:.2f} {unit} | {r['measured']:.2f} {unit} | "
                     f"**{r['ratio']:.2f}** |")

    for item in results.get("many", []):
        n = item["size"]
        b, a = item["batch"], item["audit"]
        row(f"`jx batch` {n} 个工作簿（{os.cpu_count()} 进程）", f"calamine 单进程读取同样 {n} 个文件", b)
        row(f"`jx audit --format xlsx` {n} 个（单进程）", "同上", a)
    if "recalc" in results:
        row("`jx recalc` 示例工作簿（冷启动）", "LibreOffice 强制重算同一工作簿（冷启动）", results["recalc"])
    if "rows" in results:
        row("`jx recalc`，2,000 行绩效指标", "`jx recalc`，250 行（模板的行数）", results["rows"])
    if "start" in results:
        row("`jx --help`", "冷启动 calamine 读取一个工作簿", results["start"]["help"])
        row("`jx audit` 一个工作簿", "同上", results["start"]["audit"])
    if "import" in results:
        row("`import udfs`（冷启动，含解释器）", "`import pandas`", results["import"])
    if "export" in results:
        row("`jx export` 示例工作簿", "openpyxl 载入并保存同一工作簿", results["export"])
    if "stages" in results:
        names = {"calamine": "calamine 读取全部工作表（基线）", "checked": "文件包检查 + 逐表扫描（公式、错误值、范围）",
                 "read": "完整的可信读取（名称、版式、公式、取值）", "audit": "读取 + 复核评分（`jx batch` 每个工作进程做的）"}
        lines += ["", f"每个文件的各阶段（同一进程、预热后，{STAGE_FILES - 1} 个各不相同的工作簿，各阶段累计）", "",
                  "| 阶段 | ms/个 | 与 calamine 读取之比 |", "|---|---|---|"]
        for key, label in names.items():
            lines.append(f"| {label} | {results['stages'][key]['ms']:.2f} | **{results['stages'][key]['ratio']:.2f}** |")
    if results.get("many"):
        lines += ["", "批量：每个文件的成本与峰值内存（最大的单个进程）", "",
                  "| 文件数 | `jx batch` ms/个 | calamine ms/个 | `jx batch` 峰值 MB | `jx audit --format xlsx` ms/个 | "
                  "其峰值 MB | calamine 峰值 MB |", "|---|---|---|---|---|---|---|"]
        for item in results["many"]:
            n, b, a = item["size"], item["batch"], item["audit"]
            lines.append(f"| {n} | {b['measured'] / n * 1000:.2f} | {b['baseline'] / n * 1000:.2f} | "
                         f"{b['measured_rss']:.0f} | {a['measured'] / n * 1000:.2f} | {a['measured_rss']:.0f} | "
                         f"{b['baseline_rss']:.0f} |")
    return "\n".join(lines)


MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"


def write(doc: Path, text: str) -> None:
    """Put the results between the markers of ``doc`` (the prose around them stays)."""
    body = doc.read_text(encoding="utf-8")
    head, _, rest = body.partition(MARK_START)
    _, _, tail = rest.partition(MARK_END)
    doc.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="numbers of workbooks for batch and audit")
    parser.add_argument("--large", action="store_true", help="also 10,000 workbooks (several minutes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["many", "recalc", "rows", "start", "import",
                                                                   "export", "stages"])
    parser.add_argument("--write", type=Path, help="put the results into this markdown file, between its markers")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([10_000] if args.large else [])
    results: dict = {"machine": machine()}
    print(results["machine"], flush=True)
    subprocess.run([PYTHON, "-m", "compileall", "-q", "jx", "jxtools", "addin", "udfs"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="jx-bench-") as tmp:
        work = Path(tmp)
        steps = {"import": lambda: bench_import(args.repeat), "start": lambda: bench_start(args.repeat),
                 "recalc": lambda: bench_recalc(args.repeat, work), "rows": lambda: bench_rows(args.repeat, work),
                 "export": lambda: bench_export(args.repeat, work), "stages": lambda: bench_stages(work),
                 "many": lambda: bench_many(sizes, args.repeat, work)}
        for name, step in steps.items():
            if name in args.skip:
                continue
            started = time.perf_counter()
            results[name] = step()
            print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    text = report(results, args)
    print(text)
    if args.write:
        write(args.write, text)


if __name__ == "__main__":
    main()
