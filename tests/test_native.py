"""The native formulas and the exported copy, without LibreOffice.

One rule set: a native formula is the rendered expression tree of the rule,
the same tree Python evaluates, so a changed band, weight, schedule or word
changes both. No rubric number is typed in the code: move every number of the
data and the formulas hold the moved numbers. Every message is Python's. The
export leaves no JX formula, comments every converted cell, carries no macros
and uses only functions that Excel 2010, WPS and LibreOffice 7.4 all know.
(The proof that LibreOffice computes what Python computes is
tests/test_libreoffice_differential.py and tests/test_libreoffice_fixture.py.)
"""

from __future__ import annotations

import copy
import hashlib
import html
import re
import tomllib
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from addin.layout import SCORES as SCORE_SHEET
from addin.layout import TARGETS as TARGET_SHEET
from addin.layout import arguments, evaluate, layout
from addin.template import Filled, build, target_formula
from conftest import FIXTURE, ROOT, SHENZHEN, load_toml, shenzhen
from jx.errors import JXInputError
from jx.expr import ALLOWED_FUNCTIONS, HelperColumns
from jx.formula import MAX_FORMULA_CHARS, MAX_NESTING, NativeFormulaError, function_names, native_formula, nesting_depth
from jx.functions import functions
from jx.rubric import Rubric, from_data, load_rubric
from jxtools.export import export_workbook
from jxtools.workbook_io import WorkbookError, defined_names
from support.libreoffice import LibreOfficeError, find_soffice, write_profile

RUBRIC = load_rubric(SHENZHEN)
REFERENCE = load_toml(ROOT / "examples" / "shenzhen-sast-2020.toml")["inputs"]
TABLES = load_toml(ROOT / "examples" / "reference-tables.toml")
# The template's own plain formulas use these besides the native ones.
ALLOWED = ALLOWED_FUNCTIONS | {"SUM", "COUNTA", "COUNTIF"}
# Functions Excel 2010 lacks or stores with an _xlfn. prefix: none may appear.
NEWER = {"LET", "LAMBDA", "IFS", "SWITCH", "CONCAT", "TEXTJOIN", "XLOOKUP", "XMATCH", "FILTER", "SEQUENCE",
         "MAXIFS", "MINIFS", "UNICHAR", "UNICODE", "NUMBERVALUE", "REGEXTEST", "IFNA", "TEXTBEFORE", "TEXTAFTER"}


def native(text: str, rubric: Rubric = RUBRIC, helpers: Any = None) -> str:
    return native_formula(text, rubric, helpers)


def template_formulas(rubric: Rubric) -> dict[str, str]:
    """Every formula an edition's template writes with a JX call, in native text (a target row with helpers)."""
    lay = layout(rubric)
    out = {row.indicator: native("=" + row.call.render(), rubric) for row in lay.scores}
    out.update({name: native("=" + d.call.render(), rubric) for name, d in lay.derived.items()})
    out["grade"] = native("=JX_GRADE(综合评分)", rubric)
    for name, f in functions(rubric).items():  # every function on plain references, too
        if name != "JX_TARGET_MET":
            out[f"function {name}"] = native(f"={name}({','.join(f'A{i + 1}' for i in range(len(f.args)))})", rubric)
    helpers = HelperColumns(first_column=9)
    out["target"] = native(target_formula(39), rubric, helpers.row(39))
    for (_row, column), formula in helpers.cells.items():
        out[f"helper{column}"] = "=" + formula
    return out


def _numbers(formula: str) -> list[float]:
    """The number tokens of a formula, string literals left out."""
    bare = re.sub(r'"(?:[^"]|"")*"', '""', formula)
    return [float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:E[+-]?\d+)?(?![\w.(])", bare)]


# ------------------------------------------------------------------ one rule set, numbers from the data


def _moved(data: Any, seen: set[float], path: tuple = ()) -> Any:
    """``data`` with every rubric number moved a little (not the year or the decimals)."""
    if isinstance(data, dict):
        return {k: v if k in ("year", "decimals") else _moved(v, seen, path + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [_moved(v, seen, path) for v in data]
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        moved = round(data + 0.000123, 6)
        seen.add(moved)
        return moved
    return data


@pytest.mark.parametrize("edition", [SHENZHEN, FIXTURE])
def test_no_rubric_number_is_typed_in_the_code(edition):
    """Move every number of the data: the formulas hold the moved numbers and no others
    but the structural ones (text positions, CHAR codes, percent, ROUND's decimals, 0 and 1, period counts)."""
    rubric = load_rubric(edition)
    text = Path(rubric.file).read_text(encoding="utf-8")
    seen: set[float] = set()
    moved, _problems = from_data(_moved(tomllib.loads(text), seen))
    structural = set(range(26)) | {100, 999, 1e15}
    for key, formula in template_formulas(moved).items():
        stray = [n for n in _numbers(formula) if n not in seen and n not in structural]
        assert not stray, (key, stray, formula[:300])


def _edited(edition: str, *replacements: tuple[str, str]) -> Rubric:
    text = Path(load_rubric(edition).file).read_text(encoding="utf-8")
    for before, after in replacements:
        assert before in text, before
        text = text.replace(before, after)
    rubric, problems = from_data(tomllib.loads(text))
    return rubric


def _band_tests(formula: str, value: str) -> list[tuple[str, float]]:
    """(operator, bound) of each band test: ``value<0.05,1,`` (a bound, then the band's points)."""
    return [(op, float(n)) for op, n in re.findall(re.escape(value) + r"(<=|<)([\d.]+),[\d.]+,", formula)]


def test_bands_follow_the_data():
    """Move the 编外 boundaries and flip an inclusive bound: the formula tests the new ones."""
    staff = "=JX_STAFF_SCORE(比率)"
    assert _band_tests(native(staff), "比率") == [("<", 0.05), ("<=", 0.1)]
    moved = _edited(SHENZHEN,
                    ("{ points = 1, upper = 0.05, upper_inclusive = false },", "{ points = 1, upper = 0.06, upper_inclusive = true },"),
                    ("{ points = 0.5, lower = 0.05, lower_inclusive = true, upper = 0.10, upper_inclusive = true },",
                     "{ points = 0.5, lower = 0.06, lower_inclusive = false, upper = 0.12, upper_inclusive = false },"),
                    ("{ points = 0, lower = 0.10, lower_inclusive = false },", "{ points = 0, lower = 0.12, lower_inclusive = true },"))
    formula = native(staff, moved)
    assert _band_tests(formula, "比率") == [("<=", 0.06), ("<", 0.12)]
    assert "0.05" not in formula


def test_grade_bands_weights_statuses_and_words_follow_the_data():
    moved = _edited(SHENZHEN, ('{ label = "差", upper = 60, upper_inclusive = false },', '{ label = "差", upper = 55, upper_inclusive = false },'),
                    ("{ label = \"中\", lower = 60,", "{ label = \"中\", lower = 55,"),
                    ("points = 1.5 },", "points = 1.25 },"), ('yes = ["是",', 'yes = ["Y", "是",'))
    grade = native("=JX_GRADE(综合评分)", moved)
    assert "<55," in grade and "<60," not in grade
    assert [b.label for b in RUBRIC.grade.bands] == re.findall(r'"([差中良优])"', native("=JX_GRADE(综合评分)"))
    assert '="按规定公开",1.25,' in native("=" + layout(moved).scores[6].call.render(), moved)
    assert '"Y"' in native("=JX_PETITION_SCORE(A1,A2,A3)", moved)


def test_target_words_follow_the_data():
    moved = _edited(SHENZHEN, ('negations = ["未", "不",', 'negations = ["欠", "未", "不",'),
                    ('approximate = ["左右", "约"]', 'approximate = ["大约"]'),
                    ('{ suffix = "万", factor = 10000 }', '{ suffix = "千", factor = 1000 }'))
    helpers = HelperColumns(first_column=9)
    native(target_formula(39), moved, helpers.row(39))
    text = "\n".join(helpers.cells.values())
    assert '"欠"' in text and ',"大约",""' in text and '"千",1000' in text
    assert ',"左右",""' not in text and '"万",10000' not in text


# ------------------------------------------------------------------ Python's messages, Python's readings


@pytest.mark.parametrize("edition", [SHENZHEN, FIXTURE])
def test_messages_are_pythons(edition):
    """For every input of every score: the message Python gives for a blank, a text and a negative
    value stands in the native formula word for word (up to the quoted bad value)."""
    rubric = load_rubric(edition)
    lay = layout(rubric)
    values = REFERENCE if edition == SHENZHEN else load_toml(ROOT / "tests" / "editions" / f"{FIXTURE}.inputs.toml")["inputs"]
    for row in lay.scores:
        literals = set(re.findall(r'"((?:[^"]|"")*)"', native("=" + row.call.render(), rubric)))
        for name in row.call.names():
            if name in lay.derived:
                continue
            for bad, shown in ((None, None), ("\u0001", "\u0001"), (-1, "-1")):
                try:
                    evaluate(row.call, {**values, name: bad}, lay)
                except JXInputError as error:
                    # the bad value itself is shown by a formula (&x&), the words around it are literals
                    text = error.cell_text.split(shown)[0] if shown and shown in error.cell_text else error.cell_text
                    assert text.replace('"', '""') in literals, (row.indicator, name, bad, text)


def _error(call) -> str:
    with pytest.raises(JXInputError) as error:
        call()
    return error.value.cell_text


def test_literal_arguments_are_read_by_python():
    expected = shenzhen("JX_BUDGET_FIT_SCORE")("是", "否", 1, True, "×")
    assert native('=JX_BUDGET_FIT_SCORE("是","否",1,TRUE,"×")') == f"={expected:g}"
    assert native("=JX_QUARTER_SCORE(0.5,5)") == f'="{_error(lambda: shenzhen("JX_QUARTER_SCORE")(0.5, 5))}"'
    assert native("=JX_EFFECT_SCORE(-1)") == f'="{_error(lambda: shenzhen("JX_EFFECT_SCORE")(-1))}"'
    assert native('=JX_DISCLOSURE_SCORE("按规定公开","未公开")') == "=1.5"
    assert native('=JX_TARGET_MET("≥90%","93.99%")') == "=TRUE"  # no helper cells needed
    assert native("=JX_GRADE(89.995)") == '="优"'
    assert native("=JX_GRADE(89.995)", load_rubric(FIXTURE)) == '="优"'  # 85 and up in that edition
    assert native("=JX_GRADE(84.5)", load_rubric(FIXTURE)) == '="良"'
    mixed = native("=JX_QUARTER_SCORE(A1,5)")  # a bad literal next to a reference: Python's words, natively
    assert mixed == f'="{_error(lambda: shenzhen("JX_QUARTER_SCORE")(0.5, 5))}"'


def test_staff_ratio_without_arguments_reads_the_named_inputs():
    assert native("=JX_STAFF_RATIO()") == native("=JX_STAFF_RATIO(编外人数,在编人数)")
    assert native("=JX_STAFF_RATIO(4)") == f'="{_error(lambda: shenzhen("JX_STAFF_RATIO")(4))}"'


def test_calls_inside_other_formulas():
    assert native("=JX_EXEC_AVERAGE(一季度执行率,二季度执行率,三季度执行率,四季度执行率)*2").endswith(")*2")
    nested = native("=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))")
    assert "JX_" not in nested and "编外人数/(编外人数+在编人数)" in nested
    assert nested.count("ISERROR(编外人数)") == 1  # the inner number is not checked again as text
    assert native('="JX_STAFF_SCORE(1)"&A1') == '="JX_STAFF_SCORE(1)"&A1'  # text is not a call
    assert native("=SUM(A1:A3)") == "=SUM(A1:A3)"
    assert native("=jx_effect_score(A1)") == native("=JX_EFFECT_SCORE(A1)")


def test_formulas_without_native_equivalent_are_refused():
    with pytest.raises(NativeFormulaError, match="参数"):
        native("=JX_EFFECT_SCORE(1,2)")
    with pytest.raises(NativeFormulaError, match="没有函数"):
        native("=JX_NO_SUCH_SCORE(1)")
    with pytest.raises(NativeFormulaError, match="没有函数"):
        native("=JX_TC_GOAL_SCORE(1,1,1)")  # the fixture's function is not Shenzhen's


@pytest.mark.parametrize("edition", [SHENZHEN, FIXTURE])
def test_every_formula_is_excel_2010_safe(edition):
    for key, formula in template_formulas(load_rubric(edition)).items():
        names = function_names(formula)
        assert names <= ALLOWED_FUNCTIONS, (key, names - ALLOWED_FUNCTIONS)
        assert not names & NEWER and "_xlfn." not in formula, key
        assert len(formula) <= MAX_FORMULA_CHARS and nesting_depth(formula) <= MAX_NESTING, (key, len(formula))
        assert "JX_" not in formula, key


# ------------------------------------------------------------------ the exported copy


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("export")
    src = build(work / "filled.xlsm", Filled(REFERENCE, TABLES["task"], TABLES["target"]), rubric=RUBRIC)
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
    return [html.unescape(f) for f in out]  # the formula, not its XML escape (&#39044; is one character)


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
    assert converted == len(RUBRIC.indicators) + 1 + 4 + 4 + 3 + 250  # scores, grade, rates, quarter scores, averages


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
        if ws.title == "填报说明":  # written anew for the copy (no Python, no self-check): tested below
            assert ws.protection.sheet
            continue
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
                if not (isinstance(cell.value, str) and cell.value.startswith("=")):
                    assert twin.value == cell.value, (ws.title, cell.coordinate)
                assert twin.number_format == cell.number_format, cell.coordinate
                assert (twin.font.name, twin.font.sz, twin.font.b) == (cell.font.name, cell.font.sz, cell.font.b)
                assert twin.protection.locked == cell.protection.locked


def test_helper_columns_are_hidden_headed_and_on_their_row(exported):
    _, dst = exported
    ws = load_workbook(dst)[TARGET_SHEET]
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
    assert "辅助列" in ws.cell(row=first - 1, column=7).comment.text


def test_recalculation_on_load_and_the_note_in_the_instructions(exported):
    _, dst = exported
    copy = load_workbook(dst)
    assert copy.calculation.fullCalcOnLoad
    text = "\n".join(str(c.value) for row in copy["填报说明"].iter_rows() for c in row if c.value)
    assert "无需安装 Python" in text and "无宏版本" in text and "辅助列" in text and "JxSelfCheck" not in text


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
    src = build(tmp_path / "template.xlsm", rubric=RUBRIC)
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
    monkeypatch.setattr("jxtools.soffice._KNOWN", ())  # nor at a known install path
    with pytest.raises(LibreOfficeError, match="未找到 LibreOffice"):
        find_soffice()
