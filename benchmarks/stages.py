"""Per-file stages of an audit in one warm process, against a calamine read of the same files.

    python benchmarks/stages.py FILE... → JSON: milliseconds per file of each stage, and its ratio

Run by ``run.py`` in a fresh interpreter. The stages are cumulative; the
files are split into three rounds, and in each round every stage passes over
that round's files (so no file is audited twice: what one judgement leaves
for the next is what distinct files share, as in a batch); medians of the
rounds:

* ``calamine``: every sheet's values read with python-calamine (the baseline);
* ``checked``: the package checked and every sheet scanned (formulas, errors,
  extent), as the trusted reader does before any value is read;
* ``read``: :func:`jxtools.reading.read_workbook`, the whole trusted reading
  (names, layout, formulas, values);
* ``audit``: :func:`jxtools.audit.audit_file`, reading and scoring: what a
  worker of ``jx batch`` does per file.

This says where a file's time goes, and so what a batch on N cores can cost
at best: the audit's ms per file divided by N.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(paths: list[str]) -> None:
    from python_calamine import CalamineWorkbook

    from jxtools.audit import audit_file
    from jxtools.reading import _part, read_workbook, scan_sheet
    from jxtools.workbook_io import check_package, read_file, sheet_paths

    def calamine(path):
        book = CalamineWorkbook.from_path(path)
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()
        book.close()

    def checked(path):
        data, label = read_file(Path(path))
        archive = check_package(data, label)
        for sheet, part in sheet_paths(archive, label).items():
            scan_sheet(_part(archive, part, sheet, label))

    stages = {"calamine": calamine, "checked": checked, "read": read_workbook, "audit": audit_file}
    warm, paths = paths[0], paths[1:]
    for stage in stages.values():  # imports, rubric, layout, compiled trees
        stage(warm)
    times: dict[str, list[float]] = {name: [] for name in stages}
    for round_ in range(3):
        files = paths[round_::3]
        for name, stage in stages.items():
            started = time.perf_counter()
            for path in files:
                stage(path)
            times[name].append((time.perf_counter() - started) / len(files) * 1000)
    ms = {name: statistics.median(t) for name, t in times.items()}
    print(json.dumps({name: {"ms": m, "ratio": m / ms["calamine"]} for name, m in ms.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
