"""jx report: the 自评报告 drafted from the workbook, every figure from the audit's one computation.

The drafts are parsed back with python-docx: the sections come in the
reference report's order, each sub-total, score, rate, deduction and the
total is the audit's, the two tables of 四 match the workbook row by row, and
the reference report's own contradictions (33 vs 34 projects, 23.53% vs
23.52%, 6 vs 4.98, 扣1.05, quarterly parts adding to 4.65 beside 4.64) cannot
occur. The workbooks are built fresh here (not the committed example), and the
PDF test renders the draft in LibreOffice.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from addin.layout import REPORT_TEXTS, layout, score_name
from addin.template import Filled, build
from conftest import FIXTURE, ROOT, SHENZHEN, needs_libreoffice
from jx.excel import excel_round
from jx.rubric import load_rubric
from jxtools.audit import trusted
from jxtools.build import example_filled
from jxtools.cached import write_with_values
from jxtools.cli import main
from jxtools.recalc import recalculate
from jxtools.report_docx import (batch_paths, draft_data, draft_file, number, output_paths, score_rate,
                                 write_pdfs)

TABLES = ROOT / "examples" / "reference-tables.toml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def recalculated(plain: Path, values: dict | None = None) -> Path:
    """The workbook with its formulas computed, as jx recalc (and Excel) would leave it.

    ``values``: another workbook's results, for a copy with the same formulas and inputs.
    """
    scored = plain.with_name(plain.stem + "-scored.xlsm")
    write_with_values(plain, values if values is not None else recalculate(plain).values, scored)
    return scored


def text_of(document) -> str:
    """Every paragraph and table cell, in document order."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def parse(data: bytes):
    return docx.Document(io.BytesIO(data))


# ------------------------------------------------------------------ workbooks built here


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    rubric = load_rubric(SHENZHEN)
    base = example_filled()
    out = {}
    build(folder / "example.xlsm", base, rubric=rubric)
    values = recalculate(folder / "example.xlsm").values
    out["example"] = recalculated(folder / "example.xlsm", values)
    build(folder / "no-texts.xlsm", Filled(base.values, base.tasks, base.targets), rubric=rubric)
    out["no-texts"] = recalculated(folder / "no-texts.xlsm", values)  # the same formulas and inputs
    bad = dict(base.values, 采购计划金额="一百五十万")
    build(folder / "bad-input.xlsm", Filled(bad, base.tasks, base.targets, base.texts), rubric=rubric)
    out["bad-input"] = folder / "bad-input.xlsm"
    with (ROOT / "tests" / "editions" / f"{FIXTURE}.inputs.toml").open("rb") as f:
        inputs = tomllib.load(f)["inputs"]
    build(folder / "county.xlsm", Filled(inputs), rubric=load_rubric(FIXTURE))
    out["county"] = recalculated(folder / "county.xlsm")
    return out


@pytest.fixture(scope="module")
def example(books):
    data, report = trusted(books["example"])
    draft = draft_data(data, report)
    return data, report, draft, parse(draft.document)


@pytest.fixture(scope="module")
def county(books):
    data, report = trusted(books["county"])
    draft = draft_data(data, report)
    return data, report, draft, parse(draft.document)


def headings(document) -> list[tuple[int, str]]:
    return [(int(p.style.name[-1]), p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]


def paragraph_starting(document, start: str) -> str:
    found = [p.text for p in document.paragraphs if p.text.startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


# ------------------------------------------------------------------ numbers as the report writes them


def test_numbers_are_written_as_the_report_writes_them():
    assert number(1.89) == "1.89" and number(10.0) == "10" and number(4.5) == "4.5" and number(2.675) == "2.68"
    assert score_rate(1.89, 2) == "94.5%" and score_rate(10, 10) == "100%" and score_rate(4.64, 6) == "77.33%"
    assert score_rate(7.89, 8) == "98.63%" and score_rate(17.62, 20) == "88.1%" and score_rate(0, 1) == "0%"


# ------------------------------------------------------------------ structure


def test_sections_come_in_the_reference_reports_order(example):
    _data, report, _draft, document = example
    rubric = load_rubric(SHENZHEN)
    found = headings(document)
    tops = [t for level, t in found if level == 1]
    assert tops == ["一、部门（单位）基本情况", "二、部门（单位）主要履职绩效分析", "三、总体评价和整改措施",
                    "四、部门整体支出绩效评价指标评分情况"]
    seconds = [t for level, t in found if level == 2]
    assert seconds == ["（一）部门主要职能", "（二）年度总体工作和重点工作任务", "（三）2020年部门预算编制情况",
                       "（四）2020年部门预算执行情况", "（一）主要履职目标", "（二）主要履职情况", "（三）部门履职绩效情况",
                       "（一）预算绩效管理工作主要经验、做法", "（二）部门整体支出绩效存在问题及改进措施",
                       "（三）后续工作计划、相关建议等"]
    # under each level1 section, a numbered subsection per level2 of the edition, in order
    level2 = {}
    for ind in rubric.indicators:
        level2.setdefault(ind.level1, [])
        if ind.level2 not in level2[ind.level1]:
            level2[ind.level1].append(ind.level2)
    expected = [f"{i}. {name}" for level1, _m in rubric.level1 for i, name in enumerate(level2[level1], start=1)]
    thirds = [t for level, t in found if level == 3]
    assert thirds == expected + ["1. 后续工作计划", "2. 相关建议"]
    assert document.paragraphs[0].text == "" and "需要注意" in document.tables[0].cell(0, 0).text  # the box first
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    assert title.text == "2020 年度部门整体绩效自评报告"
    body = [p.text for p in document.paragraphs]
    assert "部门名称：深圳市科学技术协会(本级)" in body and "填报人：刘月葵" in body


def test_styles_are_set_once_with_chinese_fonts(example):
    document = example[3]
    styles = document.styles
    qn = docx.oxml.ns.qn

    def east_asia(name):
        return styles[name].element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asia("Normal") == "宋体"
    assert east_asia("Heading 1") == east_asia("Heading 2") == east_asia("Title") == "黑体"
    assert styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    for name in ("Heading 1", "Title"):  # no theme font overrides the explicit one
        assert styles[name].element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
    assert all(t.style.name == "JX 表格" for t in document.tables)
    # body paragraphs carry no direct font formatting: the styles decide
    for p in document.paragraphs:
        for run in p.runs:
            assert run.font.name is None and run.font.size is None


# ------------------------------------------------------------------ every figure is the audit's


def test_every_score_rate_and_subtotal_is_the_audits(example):
    _data, report, _draft, document = example
    rubric = load_rubric(SHENZHEN)
    findings = {f.indicator: f for f in report.findings}
    # the brief's own examples, verbatim
    text = text_of(document)
    assert "预算编制指标满分10分，评价得分10分，得分率100%。" in text
    assert "（1）政府采购执行情况，指标满分2分，评价得分1.89分，得分率94.5%。" in text
    assert "政府采购执行率89.47%" in text and "1,515,600.00 元" in text and "1,356,040.00 元" in text
    # one paragraph per indicator, its numbers recomputed here from the audit's rounded score
    for level1, _m in rubric.level1:
        by_level2: dict[str, list] = {}
        for ind in rubric.indicators:
            if ind.level1 == level1:
                by_level2.setdefault(ind.level2, []).append(ind)
        for level2, inds in by_level2.items():
            score = excel_round(sum(findings[i.id].recomputed for i in inds), 2)
            maximum = sum(i.max for i in inds)
            rate = f"{excel_round(score / maximum * 100, 2):.2f}".rstrip("0").rstrip(".") + "%"
            assert f"{level2}指标满分{maximum:g}分，评价得分{score:g}分，得分率{rate}。" in text
            for n, ind in enumerate(inds, start=1):
                f = findings[ind.id]
                rate = f"{excel_round(f.recomputed / f.max * 100, 2):.2f}".rstrip("0").rstrip(".") + "%"
                lead = f"（{n}）{ind.name}，指标满分{f.max:g}分，评价得分{f.recomputed:g}分，得分率{rate}。"
                paragraph_starting(document, lead)
                for label, value in f.measures:  # the rates behind the points, as the audit measured them
                    assert f"{excel_round(value * 100, 2):.2f}%" in text, (ind.id, label)
    # the amounts behind the points (Finding.inputs), written like 1,515,600.00 元
    for f in report.findings:
        slots = {s.label: s for s in rubric.indicator(f.indicator).slots()}
        for label, value in f.inputs:
            if slots[label].kind == "amount":
                assert f"{value:,.2f} 元" in text, (f.indicator, label)
    assert "综合评分96.51分，评分等级为“优”" in text


def test_every_deduction_is_max_minus_score(example):
    _data, report, _draft, document = example
    entries = [p.text for p in document.paragraphs if re.match(r"\d+\. .+（扣[\d.]+分）：", p.text)]
    lost = [f for f in report.findings if f.recomputed < f.max]
    assert len(entries) == len(lost) == 4
    for entry, f in zip(entries, lost):
        assert entry.startswith(f"{lost.index(f) + 1}. {f.name}（扣{excel_round(f.max - f.recomputed, 2):g}分）："), entry
        for note in f.notes:  # the audit's reason, then the department's words
            assert note in entry
        assert "改进措施：" in entry
    assert [e.split("（扣")[1].split("分")[0] for e in entries] == ["0.11", "1", "1.36", "1.02"]
    # every 扣X分 the draft writes (outside the rule texts of the 评分表) is one the audit computed
    known = {excel_round(f.max - f.recomputed, 2) for f in lost} | {excel_round(100 - report.total, 2)}
    known |= {float(x) for f in lost for note in f.notes for x in re.findall(r"扣([\d.]+)分", note)}
    body = "\n".join(p.text for p in document.paragraphs)
    written = {float(x) for x in re.findall(r"扣([\d.]+)分", body)}
    assert written <= known, written - known
    assert "3.49" in paragraph_starting(document, "2020年度深圳市科学技术协会(本级)部门整体支出绩效自评综合评分")


def test_the_reference_reports_contradictions_cannot_occur(example):
    _data, report, _draft, document = example
    text = text_of(document)
    # finished projects: 34 everywhere, 33 nowhere; 34/41×6 = 4.98 and 6 − 4.98 = 1.02
    assert "34/41" in text and "已完成项目数为34个" in text
    assert "33/41" not in text and "33个" not in text
    assert "（3）项目完成及时性，指标满分6分，评价得分4.98分" in text and "评价得分6分，得分率100%。" not in \
        paragraph_starting(document, "（3）项目完成及时性")
    assert "项目完成及时性（扣1.02分）" in text and "1.05" not in text
    # 编外 ratio: one number
    assert "23.53%" in text and "23.52%" not in text
    assert "编外人员控制率=编外人数/(在编人数+编外人数)=4/(13+4)=23.53%" in text
    # 预算执行率: 93.99% and 4.64, the quarterly parts shown add up, with the rounding said once
    exec_paragraph = paragraph_starting(document, "（1）预算执行率，指标满分6分，评价得分4.64分，得分率77.33%。")
    assert "四季度执行率93.99%" in exec_paragraph
    table = next(t for t in document.tables if t.cell(0, 0).text == "指标" and t.cell(0, 1).text == "一季度")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in table.rows}
    assert rows["季度执行率"] == ["14.67%", "39.44%", "58.30%", "93.99%"]
    assert rows["序时进度"] == ["25%", "50%", "75%", "100%"]
    assert rows["季度执行率得分"] == ["0.59", "0.79", "0.78", "0.94"]
    assert rows["全年平均执行率"][0] == "77.32%" and rows["全年平均执行率得分"][0] == "1.55"
    assert rows["指标得分"][0] == "4.64"
    assert rows["累计支出数（元）"][0] == "7,131,193.10" and rows["冻结资金（元）"][3] == "15,120,498.92"
    parts = [float(x) for x in rows["季度执行率得分"]] + [float(rows["全年平均执行率得分"][0])]
    note = next(p.text for p in document.paragraphs if p.text.startswith("注：季度执行率得分"))
    shown_sum = excel_round(sum(parts), 2)
    assert f"{'+'.join(f'{x:.2f}' for x in parts)}={shown_sum:g}" in note  # the parts as shown, and their sum
    assert shown_sum == 4.65 and "只在最后四舍五入一次" in note and "为4.64分" in note and "4.6393" in note
    # the score table says the same
    scores = document.tables[-1]
    exec_row = next(r for r in scores.rows if r.cells[2].text == "预算执行率")
    assert exec_row.cells[5].text == "4.64"


# ------------------------------------------------------------------ the tables of 四, row by row


def test_the_self_evaluation_tables_match_the_workbook(example):
    _data, report, _draft, document = example
    with TABLES.open("rb") as f:
        source = tomllib.load(f)

    def cell(value):
        return str(int(value)) if isinstance(value, (int, float)) and float(value).is_integer() else str(value)

    tasks = next(t for t in document.tables if t.cell(0, 0).text == "任务名称")
    rows = [[c.text for c in r.cells] for r in tasks.rows][2:]
    assert rows[-1][0] == "金额合计" and rows[-1][2:] == ["63,734,886.83", "63,734,886.83", "45,692,420.17",
                                                          "45,692,420.17"]
    assert len(rows) - 1 == len(source["task"]) == 11
    for row, task in zip(rows, source["task"]):
        assert row == [task["name"], task["status"]] + [f"{task[k]:,.2f}" for k in
                                                       ("budget", "budget_fiscal", "spent", "spent_fiscal")]
    targets = next(t for t in document.tables if t.cell(0, 0).text == "一级指标" and t.cell(0, 3).text == "预期指标值")
    rows = [r for r in targets.rows][1:]
    assert len(rows) == len(source["target"]) == report.targets == 181
    missed = {m["name"] for m in report.missed_targets}
    marked = 0
    for row, target in zip(rows, source["target"]):
        cells = [c.text for c in row.cells]
        assert cells[:5] == [target["level1"], target["level2"], target["name"], cell(target["target"]),
                             cell(target["actual"])]
        if cells[5] == "未达成":
            marked += 1
            assert target["name"] in missed
            assert row.cells[5].paragraphs[0].runs[0].style.name == "强调"  # in bold
        else:
            assert cells[5] == "达成"
    assert marked == len(report.missed_targets) == 12
    summary = next(p.text for p in document.paragraphs if p.text.startswith("年度绩效指标共"))
    assert summary.startswith("年度绩效指标共181项，达成169项，未达成12项")

    scores = document.tables[-1]
    rubric = load_rubric(SHENZHEN)
    findings = {f.indicator: f for f in report.findings}
    body = [[c.text for c in r.cells] for r in scores.rows][1:]
    assert [c.text for c in scores.rows[0].cells] == ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "分数"]
    for row, ind in zip(body, rubric.indicators):
        assert row[0].split("\n")[0] == ind.level1 and row[1:5] == [ind.level2, ind.name, f"{ind.max:g}", ind.rule_text]
        assert row[5] == f"{findings[ind.id].recomputed:g}"
    assert body[-2][0] == "综合评分" and body[-2][5] == "96.51" == f"{report.total:g}"
    assert body[-1][0] == "评分等级" and body[-1][5] == "优" == report.grade


# ------------------------------------------------------------------ the department's words


def test_the_example_carries_the_reference_reports_own_texts(example):
    data, _report, draft, document = example
    reference = (Path("/work/shared/reference/shenzhen-sast-2020-self-evaluation.txt"))
    text = text_of(document)
    assert draft.blanks == 0 and "【待填写" not in text
    assert "由于历史原因，深圳市科协本级存在“独立建制晚，编制少、部门少、任务多”等特点" in text
    assert "改进措施：科学规划、整合资源、改进程序" in text
    entry = paragraph_starting(document, "1. 政府采购执行情况（扣0.11分）：")
    assert entry.endswith("改进措施：无。")
    for name in ("主要职能", "年度重点工作", "履职目标", "履职情况", "经验做法", "后续工作计划", "相关建议"):
        for line in data.value(name).splitlines():
            assert line in text, (name, line[:20])
    if reference.exists():  # verbatim: every line is in the extraction once its line breaks are joined
        flat = re.sub(r"\s+", "", reference.read_text(encoding="utf-8"))
        for name in ("主要职能", "履职目标", "经验做法", "情况说明_staff", "改进措施_timely"):
            for line in data.value(name).splitlines():
                assert re.sub(r"\s+", "", line) in flat, (name, line[:20])


def test_an_empty_text_leaves_a_visible_placeholder(books):
    data, report = trusted(books["no-texts"])
    draft = draft_data(data, report)
    document = parse(draft.document)
    text = text_of(document)
    for t in REPORT_TEXTS:
        label = re.sub(r"^[一二三四五六七八九十]+、(（[一二三四五六七八九十]+）)?", "", t.section)
        assert f"【待填写：{label}】" in text
    assert "【待填写：部门主要职能】" in text
    # four deductions, each with its 改进措施 to be written; the audit's reasons stay, nothing is made up
    entries = [p for p in document.paragraphs if re.match(r"\d+\. .+（扣", p.text)]
    assert len(entries) == 4 and all(p.text.endswith("改进措施：【待填写：改进措施】") for p in entries)
    assert "由于历史原因" not in text and "市科协本级" not in text
    assert "【待填写：年度总体目标（工作簿“自评表”）】" in text and "【待填写：总体目标完成情况（工作簿“自评表”）】" in text
    assert draft.blanks == len(REPORT_TEXTS) + 4 + 2
    blank = next(r for p in document.paragraphs for r in p.runs if r.text == "【待填写：部门主要职能】")
    assert blank.style.name == "待填写"
    assert blank.style.font.highlight_color == docx.enum.text.WD_COLOR_INDEX.YELLOW


# ------------------------------------------------------------------ input errors, flags, exit codes


def test_an_input_error_gives_exit_2_and_no_document(books, tmp_path):
    out = tmp_path / "bad.docx"
    result = run("report", books["bad-input"], "-o", out)
    assert result.exit_code == 2
    assert "输入有误，未生成自评报告" in result.stderr and "采购计划金额" in result.stderr
    assert re.search(r"基础数据!\$?D\$?\d+", result.stderr), result.stderr  # the cell is named
    assert not out.exists() and not list(tmp_path.iterdir())
    draft = draft_file(books["bad-input"])
    assert draft.document is None and draft.error
    garbage = tmp_path / "garbage.xlsm"
    garbage.write_bytes(b"not a workbook")
    result = run("report", garbage, "-o", tmp_path / "g.docx")
    assert result.exit_code == 2 and "错误：" in result.stderr and not (tmp_path / "g.docx").exists()


def test_flags_are_listed_in_a_box_at_the_top(example, books, tmp_path):
    _data, report, draft, document = example
    assert report.flags and draft.notices[:len(report.flags)] == report.flags
    box = document.tables[0]
    assert document.element.body.index(box._tbl) == 0  # before the title
    lines = [p.text for p in box.cell(0, 0).paragraphs]
    assert lines[0].startswith("需要注意")
    for i, flag in enumerate(report.flags, start=1):
        assert f"{i}. {flag}" in lines
    assert "效果性得满分 25 分" in lines[1]
    fill = box.cell(0, 0)._tc.tcPr.find(docx.oxml.ns.qn("w:shd")).get(docx.oxml.ns.qn("w:fill"))
    assert fill == "FFF2CC"  # shaded
    out = tmp_path / "example.docx"
    result = run("report", books["example"], "-o", out)
    assert result.exit_code == 1 and out.is_file() and "需要注意" in result.output


def test_a_score_typed_over_its_formula_is_flagged_and_not_used(books, tmp_path):
    """The reference's header said 项目完成及时性 scored 6: typed into the workbook, the draft keeps 4.98."""
    rubric = load_rubric(SHENZHEN)
    sheet, ref = layout(rubric).names[score_name("timely")]
    typed = tmp_path / "typed.xlsm"
    wb = openpyxl.load_workbook(books["example"], keep_vba=True)
    wb[sheet][ref.replace("$", "")] = 6
    wb.save(typed)
    draft = draft_file(typed)
    document = parse(draft.document)
    assert any("项目完成及时性" in n and "4.98" in n for n in draft.notices), draft.notices
    assert "（3）项目完成及时性，指标满分6分，评价得分4.98分" in text_of(document)
    assert "项目完成及时性（扣1.02分）" in text_of(document)


def test_an_edition_without_flags_exits_0(county, books, tmp_path):
    assert county[2].notices == []
    out = tmp_path / "county.docx"
    result = run("report", books["county"], "-o", out)
    assert result.exit_code == 0, result.output
    assert out.is_file() and "需要注意" not in text_of(parse(out.read_bytes()))
    assert "处【待填写】" in result.output


def test_outputs_never_replace_the_input(books, tmp_path):
    copy = tmp_path / "in.xlsm"
    shutil.copy(books["county"], copy)
    before = copy.read_bytes()
    assert run("report", copy, "-o", copy).exit_code == 2
    assert run("report", copy, "-o", tmp_path / "x.txt").exit_code == 3  # a .txt report: a usage error
    assert copy.read_bytes() == before
    assert output_paths(copy, None, False) == (tmp_path / "in-report.docx", None)
    assert output_paths(copy, tmp_path / "r.pdf", False) == (tmp_path / "r.docx", tmp_path / "r.pdf")
    assert output_paths(copy, tmp_path, True) == (tmp_path / "in-report.docx", tmp_path / "in-report.pdf")


# ------------------------------------------------------------------ another edition


def test_the_fixture_edition_gets_its_own_report(county):
    _data, report, draft, document = county
    rubric = load_rubric(FIXTURE)
    found = headings(document)
    assert [t for level, t in found if level == 2][2:4] == ["（三）2024年部门预算编制情况", "（四）2024年部门预算执行情况"]
    thirds = [t for level, t in found if level == 3][:-2]
    names = []
    for level1, _m in rubric.level1:
        seen = []
        for ind in rubric.indicators:
            if ind.level1 == level1 and ind.level2 not in seen:
                seen.append(ind.level2)
        names += [f"{i}. {n}" for i, n in enumerate(seen, start=1)]
    assert thirds == names
    text = text_of(document)
    for f in report.findings:
        assert f"{f.name}，指标满分{f.max:g}分，评价得分{f.recomputed:g}分" in text
    assert "综合评分78.55分，评分等级为“良”" in text and report.total == 78.55
    # the two half-years: a table of two period columns, parts adding up to the score
    table = next(t for t in document.tables if t.cell(0, 0).text == "指标" and t.cell(0, 1).text == "上半年")
    assert len(table.columns) == 3
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in table.rows}
    assert rows["半年执行率"] == ["40.00%", "93.00%"] and rows["序时进度"] == ["50%", "100%"]
    assert rows["半年执行率得分"] == ["2.40", "2.79"] and rows["平均得分率得分"][0] == "3.46"
    assert rows["指标得分"][0] == "8.65"
    note = next(p.text for p in document.paragraphs if p.text.startswith("注：半年执行率得分"))
    assert "2.40+2.79+3.46=8.65分" in note
    # nothing of Shenzhen's edition leaks into another edition's draft
    assert "政府采购" not in text and "编外" not in text and "季度" not in text.replace("半年", "")
    assert "三公" in text and "“三公”经费变动率=(本年三公经费−上年三公经费)/上年三公经费" not in text
    assert "年中调整金额为720,000.00 元" in text and "预算调整率7.20%" in text
    entries = [p.text for p in document.paragraphs if re.match(r"\d+\. .+（扣", p.text)]
    assert len(entries) == sum(f.recomputed < f.max for f in report.findings)


# ------------------------------------------------------------------ many workbooks


def test_a_folder_gives_one_document_per_workbook(books, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    shutil.copy(books["example"], source / "a.xlsm")
    shutil.copy(books["county"], source / "sub" / "b.xlsm")
    shutil.copy(books["bad-input"], source / "c.xlsm")
    out = tmp_path / "out"
    result = run("report", source, "-o", out)
    assert result.exit_code == 2  # one workbook could not be drafted
    assert (out / "a-report.docx").is_file() and (out / "sub" / "b-report.docx").is_file()
    assert not (out / "c-report.docx").exists()
    assert "c.xlsm" in result.stderr and "输入有误" in result.stderr
    assert "已生成报告 2（其中需要注意 1），无法生成 1" in result.output
    assert run("report", source).exit_code == 3  # a folder needs -o: a usage error
    paths = batch_paths([source / "a.xlsm", tmp_path / "a.xlsm"], [source, tmp_path / "a.xlsm"], out)
    assert sorted(p.name for p in paths.values()) == ["a-report-2.docx", "a-report.docx"]


# ------------------------------------------------------------------ the PDF


def _pages(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True)
    return [tuple(map(float, m)) for m in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info.stdout)]


@pytest.mark.libreoffice
@needs_libreoffice()
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_the_pdf_has_its_pages_and_a_chinese_text_layer(example, county, tmp_path):
    pairs = []
    for name, (_data, _report, draft, _document) in (("example", example), ("county", county)):
        (tmp_path / f"{name}.docx").write_bytes(draft.document)
        pairs.append((tmp_path / f"{name}.docx", tmp_path / f"{name}.pdf"))
    # the glyph check: 骨角直 differ between the Japanese and the Simplified Chinese forms
    for name, font in (("song", "宋体"), ("sc", "Noto Serif CJK SC"), ("jp", "Noto Serif CJK JP")):
        probe = docx.Document()
        run_ = probe.add_paragraph().add_run("骨角直")
        run_.font.size = docx.shared.Pt(48)
        run_._r.get_or_add_rPr().get_or_add_rFonts().set(docx.oxml.ns.qn("w:eastAsia"), font)
        probe.save(tmp_path / f"{name}.docx")
        pairs.append((tmp_path / f"{name}.docx", tmp_path / f"{name}.pdf"))
    write_pdfs(pairs)

    pages = _pages(tmp_path / "example.pdf")
    # LibreOffice 7.4 with Noto CJK lays the example out on 32 pages: cover, 一–三 on A4 portrait,
    # 四 (the two tables and the 评分表) on A4 landscape
    assert 28 <= len(pages) <= 36, len(pages)
    assert pages[0][0] < pages[0][1] and pages[-1][0] > pages[-1][1]
    assert 8 <= len(_pages(tmp_path / "county.pdf")) <= 13
    layer = subprocess.run(["pdftotext", str(tmp_path / "example.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    flat = re.sub(r"\s+", "", layer)
    for sentence in ("2020年度部门整体绩效自评报告", "部门名称：深圳市科学技术协会(本级)", "需要注意",
                     "预算编制指标满分10分，评价得分10分，得分率100%。",
                     "（1）政府采购执行情况，指标满分2分，评价得分1.89分，得分率94.5%。",
                     "项目完成率=已完成项目数/计划项目数=34/41=82.93%", "编外人员控制率（扣1分）",
                     "由于历史原因", "综合评分96.51分，评分等级为“优”", "部门整体支出绩效评分表"):
        assert sentence in flat, sentence
    assert "\ufffd" not in layer and "□" not in layer
    fonts = subprocess.run(["pdffonts", str(tmp_path / "example.pdf")], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSerifCJK" in fonts and "NotoSansCJK" in fonts  # 宋体 body, 黑体 headings: CJK fonts embedded

    def bitmap(name: str) -> bytes:
        out = tmp_path / name
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-singlefile", str(tmp_path / f"{name}.pdf"), str(out)],
                       check=True)
        return (tmp_path / f"{name}.png").read_bytes()

    assert bitmap("song") == bitmap("sc") != bitmap("jp")  # 宋体 is drawn with Simplified Chinese glyphs


def test_soffice_errors_are_chinese(tmp_path, monkeypatch):
    from jxtools import soffice

    document = tmp_path / "a.docx"
    docx.Document().save(document)
    with pytest.raises(soffice.SofficeError, match="无法启动 LibreOffice"):
        soffice.to_pdf([document], soffice=str(tmp_path / "no-soffice"))
    with pytest.raises(soffice.SofficeError, match="文件不存在"):
        soffice.to_pdf([tmp_path / "missing.docx"], soffice="soffice")
    monkeypatch.setattr(soffice.shutil, "which", lambda name: None)
    monkeypatch.setattr(soffice, "_KNOWN", ())
    with pytest.raises(soffice.SofficeError, match="未找到 LibreOffice"):
        soffice.find_soffice()
    conf = soffice.fonts_conf()
    if conf is not None:  # 宋体 and 黑体 map to the Simplified Chinese Noto fonts, the system's config kept
        assert "<family>宋体</family><prefer><family>Noto Serif CJK SC</family>" in conf
        assert "<family>黑体</family><prefer><family>Noto Sans CJK SC</family>" in conf
        assert str(soffice.SYSTEM_FONTS_CONF) in conf
