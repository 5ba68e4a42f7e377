"""workbook_template.xlsm: built from code, scores itself, proved without Excel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

import udfs
from addin.layout import EDITION_NAME, layout, score_name
from addin.template import Filled, build
from conftest import EDITIONS, FIXTURE, SHENZHEN, load_toml
from jx import load_rubric
from jxtools.build import EXAMPLE, TEMPLATE, example_filled, stale
from jxtools.recalc import recalculate

RUBRIC = load_rubric(SHENZHEN)
LAYOUT = layout(RUBRIC)


@pytest.fixture(scope="module")
def example():
    return recalculate(EXAMPLE)


@pytest.fixture(scope="module")
def template_book():
    return openpyxl.load_workbook(TEMPLATE, keep_vba=True)


def _filled(tmp_path: Path, **changes) -> Path:
    base = example_filled()
    values = dict(base.values)
    values.update(changes)
    path = tmp_path / "changed.xlsm"
    build(path, Filled(values, base.tasks, base.targets), rubric=RUBRIC)
    return path


def test_committed_template_and_example_equal_a_fresh_build():
    """Never edited by hand: `jx template` must have produced exactly these bytes."""
    assert stale() == []


@pytest.mark.parametrize("ind", RUBRIC.indicators, ids=lambda i: i.id)
def test_example_scores_each_golden_figure(example, golden, ind):
    assert example.named(score_name(ind.id)) == golden["scores"][ind.id]


def test_example_total_grade_and_subtotals(example, golden):
    assert example.named("综合评分") == golden["total"] == 96.51
    assert example.named("评分等级") == golden["grade"] == "优"
    for level1, expected in golden["subtotals"].items():
        assert example.named(f"{level1}得分") == expected
    assert example.named("未达成指标数") == 12
    assert example.named("绩效指标数") == 181
    assert round(example.named("全年平均执行率"), 4) == 0.7732


def test_no_cell_of_the_example_is_an_error(example):
    errors = {k: v for k, v in example.values.items()
              if isinstance(v, str) and (v.startswith("错误：") or re.fullmatch(r"#[A-Z/0!?]+", v))}
    assert errors == {}


def test_every_jx_name_in_any_formula_exists(example):
    used = {name for formula in example.formulas.values() for name in re.findall(r"\bJX_[A-Z_]+\b", formula)}
    assert used and used <= set(udfs.__all__)
    assert {row.call.function for row in LAYOUT.scores} <= used


def test_score_cells_are_the_model_formulas(template_book):
    ws = template_book["评分表"]
    for row in LAYOUT.scores:
        sheet, ref = template_book.defined_names[score_name(row.indicator)].attr_text.split("!")
        assert ws[ref.replace("$", "")].value == f"={row.call.render()}"
    sheet, ref = template_book.defined_names[score_name("staff")].attr_text.split("!")
    assert ws[ref.replace("$", "")].value == "=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))"


def test_fewer_outside_staff_raise_the_total_by_one(tmp_path, example):
    changed = recalculate(_filled(tmp_path, 编外人数=0))
    assert changed.named(score_name("staff")) == 1
    assert changed.named("综合评分") == pytest.approx(example.named("综合评分") + 1)


def test_five_percent_outside_staff_scores_half(tmp_path):
    changed = recalculate(_filled(tmp_path, 编外人数=1, 在编人数=19, 核定编制数=19))
    assert changed.named(score_name("staff")) == 0.5
    assert changed.named("综合评分") == 97.01


def test_a_bad_input_shows_its_message_and_poisons_the_total(tmp_path):
    bad = recalculate(_filled(tmp_path, 编外人数=-1))
    assert bad.named(score_name("staff")) == "错误：编外人数不能为负数"
    assert bad.named("部门管理得分") == "#VALUE!"
    assert bad.named("综合评分") == "#VALUE!"
    assert str(bad.named("评分等级")).startswith("错误：")
    assert bad.named(score_name("funded_staff")) == 1  # the rest still computes


def test_a_blank_input_is_never_read_as_zero(tmp_path):
    values = dict(example_filled().values)
    del values["满意度"]
    path = tmp_path / "blank.xlsm"
    build(path, Filled(values), rubric=RUBRIC)
    result = recalculate(path)
    assert result.named(score_name("satisfaction")) == "错误：满意度不能为空"
    assert result.named("综合评分") == "#VALUE!"


def test_zero_argument_staff_ratio_evaluates_headlessly(tmp_path):
    copy = tmp_path / "zero-arg.xlsm"
    shutil.copy(EXAMPLE, copy)
    wb = openpyxl.load_workbook(copy, keep_vba=True)
    wb["评分表"]["K5"] = "=JX_STAFF_RATIO()"
    wb["评分表"]["K6"] = "=JX_STAFF_SCORE(JX_STAFF_RATIO())"
    wb.save(copy)
    result = recalculate(copy)
    assert result.values[("评分表", "K5")] == pytest.approx(4 / 17)
    assert result.values[("评分表", "K6")] == 0


def test_sheets_and_code_names(template_book):
    assert template_book.sheetnames == [title for title, _ in LAYOUT.sheets]
    assert template_book.code_name == "ThisWorkbook"
    for title, code_name in LAYOUT.sheets:
        assert template_book[title].sheet_properties.codeName == code_name
    conf = template_book["xlwings.conf"]
    assert conf.sheet_state == "hidden"
    assert {conf.cell(r, 1).value: conf.cell(r, 2).value for r in range(1, conf.max_row + 1)}["UDF Modules"] == "udfs"


def test_every_input_is_one_named_unlocked_validated_cell(template_book):
    ws = template_book["基础数据"]
    assert ws.protection.sheet
    validated = set()
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(rng.coord)
            validated |= {f"{get_column_letter(c)}{r}" for c in range(min_col, max_col + 1)
                          for r in range(min_row, max_row + 1)}
    for field in LAYOUT.fields:
        sheet, ref = template_book.defined_names[field.name].attr_text.split("!")
        assert sheet.strip("'") == "基础数据"
        cell = ws[ref.replace("$", "")]
        assert cell.protection.locked is False, field.name
        assert cell.fill.fgColor.rgb.endswith("FFF2CC"), field.name
        if field.kind != "text":
            assert cell.coordinate in validated, field.name
    assert ws["C4"].protection.locked  # labels stay locked


def test_every_defined_name_is_where_the_layout_puts_it(template_book):
    names = {n: dn.attr_text for n, dn in template_book.defined_names.items()}
    for name, (sheet, ref) in LAYOUT.names.items():
        assert names[name] == f"{sheet}!{ref}" or names[name] == f"'{sheet}'!{ref}", name


def test_the_workbook_records_its_edition(template_book):
    sheet, ref = template_book.defined_names[EDITION_NAME].attr_text.split("!")
    assert template_book[sheet.strip("'")][ref.replace("$", "")].value == SHENZHEN


@pytest.fixture(scope="module")
def fixture_recalculated(tmp_path_factory):
    """The fixture edition's template, filled and recalculated headlessly."""
    case = load_toml(EDITIONS / f"{FIXTURE}.inputs.toml")
    path = tmp_path_factory.mktemp("fixture") / "county.xlsm"
    build(path, Filled(case["inputs"]), rubric=load_rubric(FIXTURE))
    return recalculate(path), case["expected"]


def test_a_structurally_different_edition_scores_itself(fixture_recalculated):
    result, expected = fixture_recalculated
    for indicator, points in expected.items():
        if indicator in ("total", "grade"):
            continue
        assert result.named(score_name(indicator)) == points, indicator
    assert result.named("综合评分") == expected["total"]
    assert result.named("评分等级") == expected["grade"]
    assert result.named("上半年执行率") == 0.4  # its own derived cells on 预算执行
    assert result.named(EDITION_NAME) == FIXTURE


def test_check_inputs_offer_yes_no(template_book):
    ws = template_book["基础数据"]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert any(dv.formula1 == '"是,否"' for dv in lists)
    assert any("按规定公开" in dv.formula1 for dv in lists)


def test_printable_a4_landscape_with_titles(template_book):
    for title in ("评分表", "基础数据", "预算执行", "自评表"):
        ws = template_book[title]
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == "9"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows


def test_deductions_and_errors_are_highlighted(template_book):
    ws = template_book["评分表"]
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    formulas = [f for r in rules for f in r.formula]
    assert "AND(ISNUMBER(G5),G5<D5)" in formulas
    assert "NOT(ISNUMBER(G5))" in formulas


def test_rule_text_is_on_the_score_sheet(template_book):
    ws = template_book["评分表"]
    texts = {str(c.value) for row in ws.iter_rows() for c in row if c.value}
    for ind in RUBRIC.indicators:
        assert any(t.startswith(ind.rule_text) for t in texts), ind.name
