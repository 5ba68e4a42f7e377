"""The print areas follow the filled rows when Excel prints: jx_print and ThisWorkbook's Workbook_BeforePrint.

The builder sets the print areas of 自评表 and 绩效指标 from the rows it
writes; a user who fills the blank template in Excel types rows the builder
never saw. Before Excel prints, ``Workbook_BeforePrint`` calls ``JxPrintAreas``
(module ``jx_print``), which sets both areas again from the rows filled then.
Both faces take the shape from one place, :data:`addin.template.PRINT_TABLES`
and :func:`addin.template.print_area`. Checked here:

* the module as olevba reads it back from the committed template: the source
  generated, ASCII lines under VBA's 1,023 characters, the Chinese names it
  looks up decoded from their ``ChrW`` calls and equal to the tables' names,
  the numbers and area templates it passes equal to ``PRINT_TABLES``;
* it parses (antlr4-vba), every variable assigned is declared;
* the builder's own areas (template, example) are ``print_area``'s;
* it runs in LibreOffice's VBA mode, triggered as LibreOffice triggers it when
  printing (its VBA event processor dispatching WORKBOOK_BEFOREPRINT to
  ``ThisWorkbook``): 40 targets and 12 tasks typed into the blank template, the
  blank template itself, rows inserted inside both tables (and the sheet
  renamed), every task row filled, a workbook without one of the names. The
  print areas read back through UNO are ``print_area``'s for the rows filled.

LibreOffice's own limits, worked around here and not in the macro: its Basic
cannot compile xlwings' standalone module and its Dictionary class (and then
runs nothing of the project), so the projects run here leave those two out;
and its ``PageSetup.PrintArea`` keeps only the first of two areas (the second
becomes A1: ``ScVbaPageSetup::setPrintArea`` advances its index twice per
area), so a copy of the module also records the area string it assigns, and
that string is compared whole.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from oletools.olevba import VBA_Parser
from openpyxl.utils import get_column_letter

from addin.layout import SELF, TARGETS, layout
from addin.template import (BLANK_TARGET_ROWS, BLANK_TASK_ROWS, PRINT_TABLES, TARGET_PRINT, TASK_PRINT, _vba_archive,
                            print_area)
from addin.vba import VbaModule, build_vba_project
from addin.vba_parts import PRINT_MACRO, PRINT_MODULE, print_source, this_workbook_source, vba_modules
from conftest import SHENZHEN
from jx.rubric import load_rubric
from jxtools.build import EXAMPLE, TEMPLATE, example_filled
from support.uno_edit import UNO_PRELUDE, edit, uno_python
from support.vba_syntax import syntax_errors

RUBRIC = load_rubric(SHENZHEN)
LAYOUT = layout(RUBRIC)
CONF_SHEET = "xlwings.conf"  # hidden and unprotected: where the probe copy records what it assigns
PROBE_CELL = "D1"
ASSIGNMENT = '    If Replace(CStr(ws.PageSetup.PrintArea), "$", "") <> area Then ws.PageSetup.PrintArea = area'
PROBE_LINE = (f'    ThisWorkbook.Worksheets("{CONF_SHEET}").Range("{PROBE_CELL}").Value = '
              f'ThisWorkbook.Worksheets("{CONF_SHEET}").Range("{PROBE_CELL}").Value & "|" & area')
RENAMED = {TARGETS: "年度绩效指标"}  # the sheet renamed (in the workbook with rows inserted)
NOT_IN_LIBREOFFICE = {"xlwings", "Dictionary"}  # LibreOffice's Basic cannot compile these (then runs nothing)


def _modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code.replace("\r\n", "\n") for _f, stream, _n, code in parser.extract_macros()}
    finally:
        parser.close()


def _body(text: str) -> str:
    lines = text.split("\n")
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


@pytest.fixture(scope="module")
def modules() -> dict[str, str]:
    return _modules(TEMPLATE)


def _decode(expression: str) -> str:
    """Evaluate a `"..." & ChrW(&H....&)` expression the way VBA would."""
    out = []
    for literal, code in re.findall(r'"((?:[^"]|"")*)"|ChrW\(&H([0-9A-F]+)&?\)', expression):
        out.append(chr(int(code, 16)) if code else literal.replace('""', '"'))
    return "".join(out)


def _calls(code: str) -> list[dict]:
    """JxPrintAreas in miniature: the arguments of each JxPrintArea call, the names decoded."""
    variables: dict[str, str] = {}
    calls = []
    for line in (l.strip() for l in code.split("\n")):
        if m := re.fullmatch(r"(rowsName|goalName) = (.*)", line):
            name, expression = m.groups()
            if expression.startswith(f"{name} & "):
                variables[name] += _decode(expression[len(name) + 3:])
            else:
                variables[name] = _decode(expression)
        elif m := re.fullmatch(r'JxPrintArea rowsName, goalName, (\d+), (\d+), "([^"]*)", "([^"]*)"', line):
            calls.append({"rows_name": variables["rowsName"], "goal_name": variables["goalName"] or None,
                          "inputs": int(m.group(1)), "blank_rows": int(m.group(2)),
                          "areas": tuple(m.group(3).split(",")), "whole": tuple(m.group(4).split(","))})
    return calls


# ------------------------------------------------------------------ the module, read back


def test_olevba_reads_back_the_module_and_the_event(modules):
    assert PRINT_MODULE in modules
    assert modules[PRINT_MODULE].startswith(f'Attribute VB_Name = "{PRINT_MODULE}"\n')
    assert _body(modules[PRINT_MODULE]) == print_source().rstrip("\n")
    assert _body(modules["ThisWorkbook"]) == this_workbook_source().rstrip("\n")
    for name in (PRINT_MODULE, "ThisWorkbook"):
        assert all(line.isascii() and len(line) < 1023 for line in modules[name].split("\n")), name


def test_the_event_calls_the_macro_and_never_blocks_printing(modules):
    code = _body(modules["ThisWorkbook"])
    event = re.search(r"^Private Sub Workbook_BeforePrint\(Cancel As Boolean\)\n(.*?)^End Sub$", code, re.M | re.S)
    assert event is not None
    statements = [l.split("'")[0].strip() for l in event.group(1).split("\n") if l.split("'")[0].strip()]
    assert statements == ["On Error Resume Next", PRINT_MACRO]  # Cancel is never set


def test_the_macro_is_the_modules_only_public_procedure(modules):
    code = _body(modules[PRINT_MODULE])
    assert "Option Private Module" in code.split("\n")[:3]  # not in Alt+F8's list, never a worksheet function
    public = [l for l in code.split("\n") if re.match(r"(Public )?(Sub|Function) ", l)]
    assert public == [f"Public Sub {PRINT_MACRO}()"]
    main = code.split(f"Public Sub {PRINT_MACRO}()\n", 1)[1].split("\nEnd Sub", 1)[0]
    first = [l.strip() for l in main.split("\n") if l.strip() and not l.strip().startswith("Dim ")][0]
    assert first.startswith("On Error Resume Next")  # before anything that could fail
    helper = code.split("Private Sub JxPrintArea(", 1)[1].split("\nEnd Sub", 1)[0]
    assert [l.strip() for l in helper.split("\n") if l.strip().startswith("On Error")] == ["On Error GoTo Done"]


def test_the_macro_passes_the_tables_shapes(modules):
    """The names it looks up (decoded from ChrW), the input columns, minimums and area templates: PRINT_TABLES."""
    calls = _calls(_body(modules[PRINT_MODULE]))
    assert calls == [{"rows_name": t.rows_name, "goal_name": t.goal_name, "inputs": t.inputs,
                      "blank_rows": t.blank_rows, "areas": t.areas, "whole": t.whole} for t in PRINT_TABLES]
    code = _body(modules[PRINT_MODULE])
    assert not re.search(r'"[A-Z]+\d+(:[A-Z]+\d+)?"', code), "an address written into the macro"
    for placeholder in ("{last}", "{total}", "{goal}"):
        assert f'Replace(area, "{placeholder}", CStr(' in code


def test_the_tables_are_the_layouts():
    """Each table's name spans exactly its rows on its sheet, its goal name is the row the last area ends on."""
    for table, (first, last) in ((TASK_PRINT, LAYOUT.tasks), (TARGET_PRINT, LAYOUT.targets)):
        sheet, ref = LAYOUT.names[table.rows_name]
        assert sheet == table.sheet
        assert [int(n) for n in re.findall(r"\d+", ref)] == [first, last]
    assert (TASK_PRINT.sheet, TARGET_PRINT.sheet) == (SELF, TARGETS)
    goal_sheet, goal_ref = LAYOUT.names[TASK_PRINT.goal_name]
    assert goal_sheet == SELF and int(goal_ref.split("$")[-1]) > LAYOUT.tasks[1] + 1
    assert (TASK_PRINT.inputs, TARGET_PRINT.inputs) == (6, 5)  # A–F, A–E: the builder's input columns
    assert (TASK_PRINT.blank_rows, TARGET_PRINT.blank_rows) == (BLANK_TASK_ROWS, BLANK_TARGET_ROWS) == (10, 25)


def test_print_area_shapes():
    first, total, goal = 5, 35, 38
    assert print_area(TASK_PRINT, first, first - 1, total, goal) == ["A1:G14", "A35:G38"]  # blank: a page
    assert print_area(TASK_PRINT, first, 7, total, goal) == ["A1:G14", "A35:G38"]  # never fewer
    assert print_area(TASK_PRINT, first, 16, total, goal) == ["A1:G16", "A35:G38"]
    assert print_area(TASK_PRINT, first, 33, total, goal) == ["A1:G33", "A35:G38"]
    assert print_area(TASK_PRINT, first, 34, total, goal) == ["A1:G38"]  # every row: one area
    assert print_area(TASK_PRINT, 5, 4, 10, 13) == ["A1:G13"]  # a table shorter than the minimum
    assert print_area(TARGET_PRINT, first, first - 1, 255) == ["A1:F29"]
    assert print_area(TARGET_PRINT, first, 185, 255) == ["A1:F185"]
    assert print_area(TARGET_PRINT, first, 254, 255) == ["A1:F254"]


def _areas(ws) -> list[str]:
    return [a.split("!")[-1].replace("$", "") for a in ws.print_area.split(",")]


def test_the_builders_areas_are_print_areas():
    lay = LAYOUT
    total_task, goal = lay.tasks[1] + 1, int(lay.names[TASK_PRINT.goal_name][1].split("$")[-1])
    filled = example_filled()
    for path, tasks, targets in ((TEMPLATE, 0, 0), (EXAMPLE, len(filled.tasks), len(filled.targets))):
        wb = openpyxl.load_workbook(path)
        assert _areas(wb[SELF]) == print_area(TASK_PRINT, lay.tasks[0], lay.tasks[0] + tasks - 1, total_task, goal)
        assert _areas(wb[TARGETS]) == print_area(TARGET_PRINT, lay.targets[0], lay.targets[0] + targets - 1,
                                                 lay.targets[1] + 1)


# ------------------------------------------------------------------ VBA syntax (antlr4-vba)


def test_the_module_and_the_event_parse(modules):
    pytest.importorskip("antlr4_vba")
    for name in (PRINT_MODULE, "ThisWorkbook"):  # the grammar knows VB_Name, not a document's other attributes
        assert syntax_errors(f'Attribute VB_Name = "{name}"\n' + _body(modules[name]) + "\n") == [], name
    # a clean parse means something: the same module broken is refused
    assert syntax_errors(modules[PRINT_MODULE].replace("    End If\n", "", 1))
    assert syntax_errors(modules[PRINT_MODULE].replace("Next r\n", "", 1))


def test_every_assigned_variable_is_declared(modules):
    """A light Option Explicit check: no assignment to a name the procedure does not declare."""
    code = _body(modules[PRINT_MODULE]).replace(" _\n", " ")
    procedures = re.findall(r"^(?:Public |Private )?(?:Sub|Function) (\w+)\((.*?)\).*?\n(.*?)^End (?:Sub|Function)$",
                            code, re.M | re.S)
    assert [p[0] for p in procedures] == [PRINT_MACRO, "JxPrintArea", "JxHasValue"]
    target = re.compile(r"(?:^\s*|Then |Else |: )(?:Set )?([A-Za-z]\w*)(?:\([^()]*\))? = ")
    for name, params, body in procedures:
        declared = {name} | {p.split(" As ")[0].split()[-1] for p in params.split(", ") if p}
        for m in re.finditer(r"^\s*Dim (.*)$", body, re.M):
            declared |= {part.split()[0] for part in m.group(1).split(", ")}
        for line in body.split("\n"):
            if line.strip().startswith("'"):
                continue
            for variable in target.findall(line):
                assert variable in declared, f"{name}: {line.strip()}"


# ------------------------------------------------------------------ run in LibreOffice's VBA mode

_RUNNER = UNO_PRELUDE + r'''
from com.sun.star.script.vba.VBAEventId import WORKBOOK_OPEN, WORKBOOK_BEFOREPRINT

jobs, out, work = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]

def areas(sheet):
    return [[a.StartColumn, a.StartRow, a.EndColumn, a.EndRow] for a in sheet.getPrintAreas()]

soffice, desktop = start(work, macros=True)
try:
    # the office's own component context (the VBA event processor is made there), through start()'s pipe
    pipe = next(a for a in soffice.args if a.startswith("--accept=")).split("name=")[1].split(";")[0]
    local = uno.getComponentContext()
    ctx = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local).resolve(
        f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
    results = {}
    for job in jobs:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["path"]), "_blank", 0,
                                           (prop("Hidden", True), prop("MacroExecutionMode", 4)))
        result = {"before": {}, "after": {}, "protected": {}, "error": None}
        for name in job["sheets"]:
            result["before"][name] = areas(doc.Sheets.getByName(name))
            result["protected before"] = result.get("protected before", True) and doc.Sheets.getByName(name).isProtected()
        doc.setModified(False)  # as saved
        try:
            # what LibreOffice does when it prints: its VBA event processor, the document opened first
            events = ctx.ServiceManager.createInstanceWithArgumentsAndContext(
                "com.sun.star.script.vba.VBASpreadsheetEventProcessor", (doc,), ctx)
            events.processVbaEvent(WORKBOOK_OPEN, ())
            result["handler"] = events.hasVbaEventHandler(WORKBOOK_BEFOREPRINT, ())
            result["executed"] = events.processVbaEvent(WORKBOOK_BEFOREPRINT, (False,))  # raises if cancelled
        except Exception as e:
            result["error"] = repr(e)
        for name in job["sheets"]:
            sheet = doc.Sheets.getByName(name)
            result["after"][name] = areas(sheet)
            result["protected"][name] = sheet.isProtected()
        result["modified"] = doc.isModified()
        result["probe"] = doc.Sheets.getByName(job["conf"]).getCellRangeByName(job["cell"]).getString()
        results[job["path"]] = result
        doc.close(True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)
finally:
    stop(soffice, desktop)
'''


def _project(probe: bool) -> bytes:
    """The template's VBA project as LibreOffice can run it; ``probe``: jx_print also records each area it sets."""
    modules = []
    for module in vba_modules(RUBRIC):
        if module.name in NOT_IN_LIBREOFFICE:
            continue
        if module.name == PRINT_MODULE and probe:
            assert module.source.count(ASSIGNMENT + "\n") == 1
            module = VbaModule(module.name, module.kind, module.source.replace(ASSIGNMENT, PROBE_LINE + "\n" + ASSIGNMENT),
                               module.attributes)
        modules.append(module)
    return build_vba_project(modules)


def _rows(wb, name: str) -> tuple[str, int, int]:
    """The sheet and the first and last rows a defined name of the workbook spans."""
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    rows = [int(n) for n in re.findall(r"\$(\d+)", ref)]
    return sheet.strip("'"), rows[0], rows[-1]


def _expected(path: Path, filled: dict[str, int]) -> dict[str, list[str]]:
    """What print_area gives for the workbook's tables (read from its names), ``filled``: last row filled per table."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {}
    for table in PRINT_TABLES:
        sheet, first, last = _rows(wb, table.rows_name)
        goal = _rows(wb, table.goal_name)[1] if table.goal_name else 0
        out[sheet] = print_area(table, first, filled.get(table.rows_name, first - 1), last + 1, goal)
    return out


def _prepare(source: Path, target: Path, rows: dict[str, dict[int, dict[str, object]]], *, probe: bool,
             drop_name: str | None = None) -> Path:
    """A copy of ``source`` with cells typed in (sheet → row → column → value), the project LibreOffice can
    run, and both print areas set to A1:B2 (so that what is read back is what the macro set)."""
    wb = openpyxl.load_workbook(source, keep_vba=True)
    for sheet, cells in rows.items():
        for row, values in cells.items():
            for col, value in values.items():
                wb[sheet][f"{col}{row}"] = value
    for table in PRINT_TABLES:
        sheet = _rows(wb, table.rows_name)[0]
        wb[sheet].print_area = "A1:B2"
        wb[sheet].protection.sheet = True  # as the template has it (uno_edit's rename leaves the sheet open)
    if drop_name:
        del wb.defined_names[drop_name]
    # LibreOffice drops the code names when it saves (Excel keeps them): the document modules need them
    wb.code_name = "ThisWorkbook"
    for (title, code_name), ws in zip(LAYOUT.sheets, wb.worksheets):
        assert ws.title in (title, RENAMED.get(title))
        ws.sheet_properties.codeName = code_name
    wb.vba_archive = _vba_archive(_project(probe))
    wb.save(target)
    return target


def _task(i: int) -> dict[str, object]:
    return {"A": f"任务{i + 1}", "B": "已完成", "C": 1000.0 * (i + 1), "E": 900.0 * (i + 1)}


def _target(i: int) -> dict[str, object]:
    return {"A": "产出指标", "B": "数量指标", "C": f"指标{i + 1}", "D": "≥90%", "E": "95%"}


def _a1(area: list[int]) -> str:
    c0, r0, c1, r1 = area
    start, end = f"{get_column_letter(c0 + 1)}{r0 + 1}", f"{get_column_letter(c1 + 1)}{r1 + 1}"
    return f"{start}:{end}"


@pytest.fixture(scope="module")
def libreoffice_runs(tmp_path_factory):
    python = uno_python()
    if python is None:
        pytest.skip("LibreOffice (soffice) with Python-UNO not installed")
    tmp = tmp_path_factory.mktemp("print-macro")
    lay = LAYOUT
    t0, p0 = lay.tasks[0], lay.targets[0]
    # 12 tasks (the last with only 其中：财政拨款 in F), 40 targets (the last with only 二级指标 in B)
    typed = {SELF: {t0 + i: _task(i) for i in range(11)} | {t0 + 11: {"F": 500.0}},
             TARGETS: {p0 + i: _target(i) for i in range(39)} | {p0 + 39: {"B": "质量指标"}}}
    # rows inserted inside both tables, 绩效指标 renamed: every task row filled, targets past the old last row
    inserted = edit(TEMPLATE, tmp / "inserted-source.xlsm", [
        {"op": "insert_rows", "sheet": SELF, "before": t0 + 10, "count": 3},
        {"op": "insert_rows", "sheet": TARGETS, "before": p0 + 100, "count": 5},
        {"op": "rename", "sheet": TARGETS, "to": RENAMED[TARGETS]}])
    task_rows, target_rows = lay.tasks[1] - t0 + 1 + 3, lay.targets[1] - p0 + 1 + 5
    inserted_typed = {SELF: {t0 + i: _task(i) for i in range(task_rows)},
                      RENAMED[TARGETS]: {p0 + i: _target(i) for i in range(target_rows - 2)}}
    scenarios = {
        "filled": (TEMPLATE, typed, {TASK_PRINT.rows_name: t0 + 11, TARGET_PRINT.rows_name: p0 + 39}, None),
        "blank": (TEMPLATE, {}, {}, None),
        "inserted": (inserted, inserted_typed, {TASK_PRINT.rows_name: t0 + task_rows - 1,
                                                TARGET_PRINT.rows_name: p0 + target_rows - 3}, None),
        "no-target-name": (TEMPLATE, typed, {TASK_PRINT.rows_name: t0 + 11}, TARGET_PRINT.rows_name),
    }
    jobs, cases = [], {}
    for name, (source, rows, filled, drop) in scenarios.items():
        for probe in (False, True):
            path = _prepare(source, tmp / f"{name}{'-probe' if probe else ''}.xlsm", rows, probe=probe, drop_name=drop)
            expected = _expected(path, filled) if drop is None else None
            sheets = [_rows(openpyxl.load_workbook(path, keep_vba=True), t.rows_name)[0]
                      for t in PRINT_TABLES if t.rows_name != drop]
            if drop:
                sheets.append(TARGETS)
            cases[(name, probe)] = (str(path), expected, filled)
            jobs.append({"path": str(path), "sheets": sheets, "conf": "xlwings.conf", "cell": PROBE_CELL})
    out = tmp / "out.json"
    done = subprocess.run([python, "-c", _RUNNER, json.dumps(jobs), str(out), str(tmp / "profile")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    return {key: (results[path], expected, filled) for key, (path, expected, filled) in cases.items()}


def _lo_areas(expected: list[str]) -> list[str]:
    """What LibreOffice's PageSetup.PrintArea leaves of ``expected``: the second of two areas becomes A1."""
    return expected if len(expected) == 1 else [expected[0], "A1:A1"]


@pytest.mark.libreoffice
@pytest.mark.parametrize("scenario", ["filled", "blank", "inserted"])
def test_libreoffice_prints_the_filled_rows(libreoffice_runs, scenario):
    result, expected, _filled = libreoffice_runs[(scenario, False)]
    assert result["error"] is None, result["error"]
    assert result["handler"] and result["executed"]  # Workbook_BeforePrint found, run, printing not cancelled
    for sheet, areas in expected.items():
        assert [_a1(a) for a in result["before"][sheet]] == ["A1:B2"]  # so what is read back is the macro's
        assert result["protected before"] and result["protected"][sheet]  # set on a protected sheet, still protected
        got = [_a1(a) for a in result["after"][sheet]]
        assert got == areas or got == _lo_areas(areas), (sheet, got, areas)
    assert result["modified"] is False  # setting the areas is not an edit to save
    assert result["probe"] == ""


@pytest.mark.libreoffice
@pytest.mark.parametrize("scenario", ["filled", "blank", "inserted"])
def test_the_area_the_macro_sets_is_print_areas(libreoffice_runs, scenario):
    """The probe copy records each area string it assigns: the same as print_area's, whole."""
    result, expected, _filled = libreoffice_runs[(scenario, True)]
    assert result["error"] is None and result["executed"]
    recorded = result["probe"].split("|")[1:]
    assert recorded == [",".join(expected[sheet]) for sheet in expected]  # PRINT_TABLES' order: 自评表, 绩效指标


@pytest.mark.libreoffice
def test_the_scenarios_cover_each_shape(libreoffice_runs):
    """The runs above cover the minimum, partly filled tables, a whole table, grown tables."""
    shapes = {scenario: expected for (scenario, probe), (_r, expected, _f) in libreoffice_runs.items()
              if not probe and expected}
    lay = LAYOUT
    goal = int(lay.names[TASK_PRINT.goal_name][1].split("$")[-1])
    assert shapes["blank"] == {SELF: ["A1:G14", f"A{lay.tasks[1] + 1}:G{goal}"], TARGETS: ["A1:F29"]}
    assert shapes["filled"] == {SELF: ["A1:G16", f"A{lay.tasks[1] + 1}:G{goal}"], TARGETS: ["A1:F44"]}
    assert shapes["inserted"] == {SELF: [f"A1:G{goal + 3}"], RENAMED[TARGETS]: [f"A1:F{lay.targets[1] + 5 - 2}"]}


@pytest.mark.libreoffice
def test_a_missing_name_never_blocks_printing(libreoffice_runs):
    """Without 预期指标值 the event still runs to its end: 自评表 is set, 绩效指标 keeps its area."""
    lay = LAYOUT
    goal = int(lay.names[TASK_PRINT.goal_name][1].split("$")[-1])
    for probe in (False, True):
        result, _expected, _filled = libreoffice_runs[("no-target-name", probe)]
        assert result["error"] is None and result["executed"], result["error"]
        assert [_a1(a) for a in result["after"][TARGETS]] == ["A1:B2"]
        task_areas = ["A1:G16", f"A{lay.tasks[1] + 1}:G{goal}"]
        got = [_a1(a) for a in result["after"][SELF]]
        assert got in (task_areas, _lo_areas(task_areas))
        if probe:
            assert result["probe"].split("|")[1:] == [",".join(task_areas)]
