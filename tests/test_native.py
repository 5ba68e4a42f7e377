"""The native formulas and the exported copy, without LibreOffice.

One rule set: the formulas are generated from the rubric data, so a changed
band, weight, schedule or word changes them, and no rubric number is typed in
addin/native.py. Every message is Python's. The export leaves no JX formula,
comments every converted cell, carries no macros and uses only functions that
Excel 2010, WPS and LibreOffice 7.4 all know. (The proof that the formulas
compute what Python computes is tests/test_libreoffice_differential.py.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import udfs
from addin import model
from jxtools.export import export_workbook
from jxtools.libreoffice import LibreOfficeError, find_soffice, write_profile
from addin.native import (ARITY, FUNCTIONS, GENERATORS, MAX_FORMULA_CHARS, MAX_NESTING, PERCENT_SIGNS,
                          RANGE_SEPARATORS, HelperColumns, NativeFormulaError, function_names, native_formula,
                          nesting_depth)
from addin.template import SCORE_SHEET, SELF_SHEET, Filled, build
from jxtools.workbook_io import WorkbookError, defined_names
from conftest import ROOT, load_toml
from jx import load_rubric, targets
from jx.errors import JXInputError
from jx.rubric import Rubric

RUBRIC = load_rubric("shenzhen-2020")
REFERENCE = load_toml(ROOT / "examples" / "shenzhen-sast-2020.toml")["inputs"]
TABLES = load_toml(ROOT / "examples" / "reference-tables.toml")
# The template's own plain formulas use these besides the native ones.
ALLOWED = FUNCTIONS | {"SUM", "COUNTA", "COUNTIF"}
# Functions Excel 2010 lacks or stores with an _xlfn. prefix: none may appear.
NEWER = {"LET", "LAMBDA", "IFS", "SWITCH", "CONCAT", "TEXTJOIN", "XLOOKUP", "XMATCH", "FILTER", "SEQUENCE",
         "MAXIFS", "MINIFS", "UNICHAR", "UNICODE", "NUMBERVALUE", "REGEXTEST", "IFNA", "TEXTBEFORE", "TEXTAFTER"}


def native(text: str, rubric: Rubric = RUBRIC, helpers: Any = None) -> str:
    return native_formula(text, rubric, helpers)


def score_formulas(rubric: Rubric = RUBRIC) -> dict[str, str]:
    """Every formula the template writes with a JX call, in native text (target rows with helper cells)."""
    out = {ind_id: native("=" + call.render(), rubric) for ind_id, call in model.score_calls(rubric).items()}
    quarters = ",".join(model.exec_rate_name(q) for q in model.QUARTERS)
    out["grade"] = native("=JX_GRADE(综合评分)", rubric)
    out["average"] = native(f"=JX_EXEC_AVERAGE({quarters})*2", rubric)
    out["quarter"] = native("=JX_QUARTER_SCORE(一季度执行率,1)", rubric)
    out["rate"] = native("=" + model.derived(rubric)["一季度执行率"].render(), rubric)
    helpers = HelperColumns(first_column=9)
    out["target"] = native('=IF(AND(D39="",E39=""),"",JX_TARGET_MET(D39,E39))', rubric, helpers.row(39))
    for (_row, column), formula in helpers.cells.items():
        out[f"helper{column}"] = "=" + formula
    return out


def _numbers(formula: str) -> list[float]:
    """The number tokens of a formula, string literals left out."""
    bare = re.sub(r'"(?:[^"]|"")*"', '""', formula)
    return [float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:E[+-]?\d+)?(?![\w.(])", bare)]


# ------------------------------------------------------------------ one rule set


def test_every_jx_function_has_a_generator():
    assert set(GENERATORS) == {n for n in udfs.__all__ if n.startswith("JX_")}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_arity_is_the_worksheet_functions(name):
    params = [p for p in inspect.signature(getattr(udfs, name)).parameters.values() if p.name != "caller"]
    required = sum(p.default is inspect.Parameter.empty for p in params)
    assert ARITY[name](RUBRIC) == (required, len(params) - required)


def _perturbed() -> tuple[Rubric, set[float]]:
    """The edition with every number of its data moved a little, and the numbers it now holds."""
    seen: set[float] = set()

    def move(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, dict):
                return {k: move(v) for k, v in value.items()}
            if isinstance(value, list):
                return [move(v) for v in value]
            return value
        moved = round(value + 0.000123, 6)
        seen.add(moved)
        return moved

    indicators = tuple(dataclasses.replace(i, max=move(i.max), params=move(i.params)) for i in RUBRIC.indicators)
    grade = tuple(dataclasses.replace(b, lower=move(b.lower) if b.lower is not None else None,
                                      upper=move(b.upper) if b.upper is not None else None)
                  for b in RUBRIC.grade_bands)
    target_met = {**RUBRIC.target_met, "multipliers": move(RUBRIC.target_met["multipliers"])}
    rubric = dataclasses.replace(RUBRIC, indicators=indicators, grade_bands=grade, total=move(RUBRIC.total),
                                 decimals=6, target_met=target_met)
    return rubric, seen


def test_no_rubric_number_is_typed_in_the_generator():
    """Move every number of the rubric data: the formulas hold the moved numbers and no others
    but the structural ones (text positions, CHAR codes, percent, ROUND's decimals)."""
    rubric, moved = _perturbed()
    structural = set(range(25)) | {100, 999}
    for key, formula in score_formulas(rubric).items():
        stray = [n for n in _numbers(formula) if n not in moved and n not in structural]
        assert not stray, (key, stray)
    assert "ROUND(" in score_formulas(rubric)["budget_norm"] and ",6)" in score_formulas(rubric)["budget_norm"]


def _with_params(indicator_id: str, **params: Any) -> Rubric:
    indicators = tuple(dataclasses.replace(i, params={**i.params, **params}) if i.id == indicator_id else i
                       for i in RUBRIC.indicators)
    return dataclasses.replace(RUBRIC, indicators=indicators)


def _band_tests(formula: str, value: str) -> list[tuple[str, float]]:
    """(operator, bound) of each band test: ``value<0.05,1,`` (a bound, then the band's points)."""
    return [(op, float(n)) for op, n in re.findall(re.escape(value) + r"(<=|<)([\d.]+),[\d.]+,", formula)]


def test_bands_follow_the_data():
    """Move the 编外 boundaries and flip an inclusive bound: the formula tests the new ones."""
    staff = "JX_STAFF_SCORE(比率)"
    assert _band_tests(native("=" + staff), "比率") == [("<", 0.05), ("<=", 0.1)]
    bands = [{"points": 1, "upper": 0.06, "upper_inclusive": True},
             {"points": 0.5, "lower": 0.06, "lower_inclusive": False, "upper": 0.12, "upper_inclusive": False},
             {"points": 0, "lower": 0.12, "lower_inclusive": True}]
    moved = native("=" + staff, _with_params("staff", bands=bands))
    assert _band_tests(moved, "比率") == [("<=", 0.06), ("<", 0.12)]
    assert "0.05" not in moved


def test_grade_bands_follow_the_data():
    bands = (dataclasses.replace(RUBRIC.grade_bands[0], upper=55), dataclasses.replace(RUBRIC.grade_bands[1], lower=55),
             *RUBRIC.grade_bands[2:])
    formula = native("=JX_GRADE(综合评分)", dataclasses.replace(RUBRIC, grade_bands=bands))
    assert "<55," in formula and "<60," not in formula
    assert [b.label for b in RUBRIC.grade_bands] == re.findall(r'"([差中良优])"', formula)


def test_schedule_weights_statuses_and_words_follow_the_data():
    quarters = ",".join(model.exec_rate_name(q) for q in model.QUARTERS)
    exec_params = RUBRIC.indicator("exec").params
    moved = native(f"=JX_EXEC_SCORE({quarters})", _with_params("exec", schedule=[0.3, 0.55, 0.8, 1], average_points=3))
    assert "一季度执行率/0.3," in moved and "*3," in moved and "/0.25," not in moved
    assert f"*{exec_params['average_points']:g}," in native(f"=JX_EXEC_SCORE({quarters})")

    checks = [dict(c) for c in RUBRIC.indicator("budget_fit").params["checks"]]
    checks[0]["points"] = 3
    fit = "=" + model.score_calls(RUBRIC)["budget_fit"].render()
    assert ",3,0)" in native(fit, _with_params("budget_fit", checks=checks)) and ",3,0)" not in native(fit)

    statuses = [{"status": "按规定公开", "points": 1.25}, {"status": "公开但不符合要求", "points": 0.75},
                {"status": "未公开", "points": 0}]
    disclosure = "=" + model.score_calls(RUBRIC)["disclosure"].render()
    assert '="按规定公开",1.25,' in native(disclosure, _with_params("disclosure", statuses=statuses))

    compliance = "=" + model.score_calls(RUBRIC)["compliance"].render()
    moved = native(compliance, _with_params("compliance", adjustment_limit=0.15, adjustment_step_deduction=0.2))
    assert "<=0.15," in moved and "*0.2," in moved and "<=0.1," not in moved

    words = dataclasses.replace(RUBRIC, yes_words=RUBRIC.yes_words | {"Y"})
    assert '"Y"' in native("=" + model.score_calls(RUBRIC)["petition"].render(), words)


def test_target_words_follow_the_data():
    tm = dict(RUBRIC.target_met)
    tm.update(negations=["未", "欠"], approximate=["大约"], multipliers=[{"suffix": "千", "factor": 1000}])
    helpers = HelperColumns(first_column=9)
    native("=JX_TARGET_MET(D39,E39)", dataclasses.replace(RUBRIC, target_met=tm), helpers.row(39))
    text = "\n".join(helpers.cells.values())
    assert '"欠"' in text and '"大约"' in text and '"千",1000' in text
    assert '"不"' not in text and '"左右"' not in text and '"万"' not in text


def test_target_characters_are_those_of_jx_targets():
    for sep in RANGE_SEPARATORS:
        assert targets._RANGE.match(f"2{sep}3"), sep
    for other in "+*/|,、":
        assert not targets._RANGE.match(f"2{other}3"), other
    for sign in PERCENT_SIGNS:
        assert targets._QUANTITY.match(f"5{sign}")["pct"] == sign
    assert not targets._QUANTITY.match("5‰")["pct"]


# ------------------------------------------------------------------ Python's messages, Python's readings


def _names(call: model.Call) -> list[str]:
    out = []
    for arg in call.args:
        out += _names(arg) if isinstance(arg, model.Call) else [arg] if isinstance(arg, str) else []
    return out


@pytest.mark.parametrize("indicator_id", [i.id for i in RUBRIC.indicators])
def test_messages_are_pythons(indicator_id):
    """For every input of a score: the message Python gives for a blank, a text and a negative
    value stands in the native formula word for word (up to the quoted bad value)."""
    call = model.score_calls(RUBRIC)[indicator_id]
    formula = native("=" + call.render())
    literals = set(re.findall(r'"((?:[^"]|"")*)"', formula))
    for name in _names(call):
        if name in model.derived(RUBRIC):
            continue
        for bad, shown in ((None, None), ("\u0001", "\u0001"), (-1, "-1")):
            try:
                model.evaluate(call, {**REFERENCE, name: bad})
            except JXInputError as error:
                # the bad value itself is shown by a formula (&x&), the words around it are literals
                text = error.cell_text.split(shown)[0] if shown and shown in error.cell_text else error.cell_text
                assert text.replace('"', '""') in literals, (name, bad, text)


def test_literal_arguments_are_read_by_python():
    expected = udfs.JX_BUDGET_FIT_SCORE("是", "否", 1, True, "×")
    assert native('=JX_BUDGET_FIT_SCORE("是","否",1,TRUE,"×")') == f"={expected:g}"
    with pytest.raises(JXInputError) as error:
        udfs.JX_QUARTER_SCORE(0.5, 5)
    assert native("=JX_QUARTER_SCORE(0.5,5)") == f'="{error.value.cell_text}"'
    with pytest.raises(JXInputError) as error:
        udfs.JX_EFFECT_SCORE(-1)
    assert native("=JX_EFFECT_SCORE(-1)") == f'="{error.value.cell_text}"'
    assert native('=JX_DISCLOSURE_SCORE("按规定公开","未公开")') == "=1.5"
    assert native('=JX_TARGET_MET("≥90%","93.99%")') == "=TRUE"  # no helper cells needed
    assert native("=JX_GRADE(89.995)") == '="优"'
    mixed = native("=JX_QUARTER_SCORE(A1,5)")  # a bad literal next to a reference: Python's words, natively
    assert mixed == f'="{_error(lambda: udfs.JX_QUARTER_SCORE(0.5, 5))}"'


def _error(call) -> str:
    with pytest.raises(JXInputError) as error:
        call()
    return error.value.cell_text


def test_staff_ratio_without_arguments_reads_the_named_inputs():
    assert native("=JX_STAFF_RATIO()") == native("=JX_STAFF_RATIO(编外人数,在编人数)")
    with pytest.raises(JXInputError) as error:
        udfs.JX_STAFF_RATIO(4)
    assert native("=JX_STAFF_RATIO(4)") == f'="{error.value.cell_text}"'


def test_calls_inside_other_formulas():
    quarters = ",".join(model.exec_rate_name(q) for q in model.QUARTERS)
    assert native(f"=JX_EXEC_AVERAGE({quarters})*2").endswith(")*2")
    nested = native("=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))")
    assert "JX_" not in nested and "编外人数/(编外人数+在编人数)" in nested
    assert native('="JX_STAFF_SCORE(1)"&A1') == '="JX_STAFF_SCORE(1)"&A1'  # text is not a call
    assert native("=SUM(A1:A3)") == "=SUM(A1:A3)"
    assert native("=jx_effect_score(A1)") == native("=JX_EFFECT_SCORE(A1)")


def test_formulas_without_native_equivalent_are_refused():
    with pytest.raises(NativeFormulaError, match="参数"):
        native("=JX_EFFECT_SCORE(1,2)")
    with pytest.raises(NativeFormulaError, match="未知"):
        native("=JX_NO_SUCH_SCORE(1)")
    with pytest.raises(NativeFormulaError, match="辅助列"):
        native("=JX_TARGET_MET(D39,E39)")


@pytest.mark.parametrize("key", sorted(score_formulas()))
def test_every_formula_is_excel_2010_safe(key):
    formula = score_formulas()[key]
    assert function_names(formula) <= FUNCTIONS, function_names(formula) - FUNCTIONS
    assert not function_names(formula) & NEWER and "_xlfn." not in formula
    assert len(formula) <= MAX_FORMULA_CHARS and nesting_depth(formula) <= MAX_NESTING
    assert "JX_" not in formula


# ------------------------------------------------------------------ the exported copy


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("export")
    src = build(work / "filled.xlsm", Filled(REFERENCE, TABLES["task"], TABLES["target"]))
    return src, export_workbook(src, work / "filled-native.xlsx")


def _all_formulas(path: Path) -> list[str]:
    """Every formula text in the package: cells, defined names, conditional formats, validations."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                text = z.read(name).decode("utf-8")
                out += re.findall(r"<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f>", text)
                out += re.findall(r"<(?:\w+:)?formula\d?\b[^>]*>([^<]*)</", text)
                out += re.findall(r"<(?:\w+:)?definedName\b[^>]*>([^<]*)</", text)
    return out


def test_no_jx_formula_is_left(exported):
    _, dst = exported
    formulas = _all_formulas(dst)
    assert len(formulas) > 6000  # the scores, the quarterly table, 250 target rows and their helper steps
    assert not [f for f in formulas if "JX_" in f.upper()]


def test_every_converted_cell_has_a_comment(exported):
    src, dst = exported
    source, copy = load_workbook(src), load_workbook(dst)
    converted = 0
    for ws in source.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("=") and "JX_" in cell.value:
                    comment = copy[ws.title][cell.coordinate].comment
                    assert comment is not None and comment.text.splitlines()[0] == f"JX: {cell.value}", cell.coordinate
                    converted += 1
    assert converted == len(RUBRIC.indicators) + 1 + 4 + 4 + 3 + 250


def test_no_macros(exported):
    _, dst = exported
    with zipfile.ZipFile(dst) as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode()
    assert not [n for n in names if n.endswith(".bin") or "vba" in n.lower()]
    assert "macroEnabled" not in types and "spreadsheetml.sheet.main+xml" in types
    assert "xlwings.conf" not in load_workbook(dst).sheetnames


def test_only_functions_all_three_applications_know(exported):
    _, dst = exported
    for formula in _all_formulas(dst):
        names = function_names(formula)
        assert names <= ALLOWED, (names - ALLOWED, formula[:80])
        assert "_xlfn." not in formula and len(formula) <= MAX_FORMULA_CHARS and nesting_depth(formula) <= MAX_NESTING


def test_layout_inputs_names_and_protection_are_kept(exported):
    src, dst = exported
    source, copy = load_workbook(src), load_workbook(dst)
    assert copy.sheetnames == [s for s in source.sheetnames if s != "xlwings.conf"]
    assert defined_names(dst) == defined_names(src)
    for ws in copy.worksheets:
        original = source[ws.title]
        assert {str(r) for r in ws.merged_cells.ranges} == {str(r) for r in original.merged_cells.ranges}
        assert [(d.sqref, d.type, d.formula1) for d in ws.data_validations.dataValidation] == \
               [(d.sqref, d.type, d.formula1) for d in original.data_validations.dataValidation]
        assert [str(r.sqref) for r in ws.conditional_formatting] == \
               [str(r.sqref) for r in original.conditional_formatting]
        assert ws.protection.sheet == original.protection.sheet
        assert ws.freeze_panes == original.freeze_panes
        for row in original.iter_rows():
            for cell in row:
                twin = ws[cell.coordinate]
                if not (isinstance(cell.value, str) and cell.value.startswith("=")) and ws.title != "填报说明":
                    assert twin.value == cell.value, (ws.title, cell.coordinate)
                assert twin.number_format == cell.number_format, cell.coordinate
                assert (twin.font.name, twin.font.sz, twin.font.b) == (cell.font.name, cell.font.sz, cell.font.b)
                assert twin.protection.locked == cell.protection.locked


def test_helper_columns_are_hidden_headed_and_on_their_row(exported):
    _, dst = exported
    ws = load_workbook(dst)[SELF_SHEET]
    first, last = (int(r[1:]) for r in defined_names(dst)["指标达成情况"][1].split(":"))
    heads = [c for c in ws[first - 1] if isinstance(c.value, str) and c.value.startswith("辅助列：")]
    assert len(heads) >= 10
    for head in heads:
        assert ws.column_dimensions[head.column_letter].hidden
        for row in (first, last):
            formula = ws.cell(row=row, column=head.column).value
            assert isinstance(formula, str) and formula.startswith("=")
            assert not re.search(r"(?<![A-Z$])[A-Z]{1,3}(\d+)", formula) or \
                {int(n) for n in re.findall(r"(?<![A-Z$\w])[A-Z]{1,3}(\d+)(?!\w)", formula)} <= {row}
    assert "辅助列" in ws.cell(row=first - 1, column=6).comment.text


def test_recalculation_on_load_and_the_note_in_the_instructions(exported):
    _, dst = exported
    copy = load_workbook(dst)
    assert copy.calculation.fullCalcOnLoad
    text = "\n".join(str(c.value) for row in copy["填报说明"].iter_rows() for c in row if c.value)
    assert "无需安装 Python" in text and "无宏版本" in text and "辅助列" in text


def test_source_untouched_same_file_refused_and_output_deterministic(exported, tmp_path):
    src, dst = exported
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    again = export_workbook(src, tmp_path / "again.xlsx")
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert again.read_bytes() == dst.read_bytes()
    with pytest.raises(WorkbookError, match="不能与原文件相同"):
        export_workbook(dst, dst)
    with pytest.raises(WorkbookError, match=r"\.xlsx"):
        export_workbook(src, tmp_path / "copy.xlsm")
    assert not (tmp_path / "copy.xlsm").exists()


def test_unreadable_source_is_a_chinese_error(tmp_path):
    with pytest.raises(WorkbookError, match="文件不存在"):
        export_workbook(tmp_path / "missing.xlsm", tmp_path / "out.xlsx")
    broken = tmp_path / "broken.xlsm"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(WorkbookError):
        export_workbook(broken, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_empty_template_exports(tmp_path):
    src = build(tmp_path / "template.xlsm")
    dst = export_workbook(src, tmp_path / "template.xlsx")
    score = load_workbook(dst)[SCORE_SHEET]
    assert score["G5"].value.startswith("=IF(") and score["G5"].comment.text.startswith("JX: =JX_")


# ------------------------------------------------------------------ the LibreOffice driver (no soffice needed)


def test_profile_forces_recalculation_on_load(tmp_path):
    profile = write_profile(tmp_path / "profile")
    text = (profile / "user" / "registrymodifications.xcu").read_text()
    for setting in ("OOXMLRecalcMode", "ODFRecalcMode"):
        assert re.search(setting + r'" oor:op="fuse"><value>0</value>', text)
    assert "/org.openoffice.Office.Calc/Formula/Load" in text


def test_missing_libreoffice_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(LibreOfficeError, match="未找到 LibreOffice"):
        find_soffice()
