"""The workbooks a finance bureau reads: jx batch's summary, jx audit --format xlsx, the CSV.

Mostly synthetic AuditReport objects (three indicators worth 40 + 30 + 30),
plus the reference example audited for real.
"""

from __future__ import annotations

import copy
import csv
import gc
import io
import weakref
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from jxtools import report_xlsx as rx
from jxtools.audit import AuditReport, Finding, audit_file
from jxtools.build import EXAMPLE
from jxtools.report_xlsx import (CONCLUSIONS, audit_workbook, conclusion, first_difference, summary_csv,
                                 summary_workbook)

INDICATORS = (("budget", "预算编制合理性", "部门决策", 40.0), ("timely", "项目完成及时性", "部门绩效", 30.0),
              ("satisfaction", "公众或服务对象满意度", "部门绩效", 30.0))
FULL = {"budget": 40.0, "timely": 25.0, "satisfaction": 30.0}  # 95, 优
SAME = object()


def grade(total: float) -> str:
    return "优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差"


def make(file="甲.xlsm", department="甲局", year=2020, points=None, claimed=None, flags=(), error=None,
         input_error=None, digest=None, claimed_total=SAME, claimed_grade=SAME, edition="shenzhen-2020",
         indicators=INDICATORS) -> AuditReport:
    """A report as audit_data makes it: ``points`` recomputed, ``claimed`` what the workbook shows where it differs."""
    if error:
        return AuditReport(file=file, error=error)
    points = {**FULL, **(points or {})}
    shown = {**points, **(claimed or {})}
    findings = []
    for indicator, name, level1, most in indicators:
        f = Finding(indicator, name, level1, most, shown.get(indicator, points.get(indicator, most)),
                    points.get(indicator, most))
        if indicator == input_error:
            f.recomputed, f.error = None, "编外人数不能为负数"
            f.notes, f.claimed = ("编外人数不能为负数（基础数据!D40）",), "错误：编外人数不能为负数"
        elif f.recomputed < most:
            f.notes = (f"{name}扣{most - f.recomputed:g}分",)
        findings.append(f)
    total = None if input_error else round(sum(f.recomputed for f in findings), 2)
    shown_total = "#VALUE!" if input_error else None if any(f.claimed is None for f in findings) else \
        round(sum(f.claimed for f in findings), 2)
    r = AuditReport(file=file, edition=edition, department=department, year=year, findings=findings,
                    claimed_total=shown_total if claimed_total is SAME else claimed_total, total=total,
                    grade=None if total is None else grade(total), targets=10, flags=list(flags),
                    digest=digest or f"{abs(hash((file, department))):064x}"[-64:])
    r.claimed_grade = (grade(r.claimed_total) if isinstance(r.claimed_total, float) else "#VALUE!") \
        if claimed_grade is SAME else claimed_grade
    return r


def book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def table(ws) -> list[dict]:
    """Rows of a sheet's table as dicts (stops at the first empty row: the notes follow it)."""
    rows = list(ws.iter_rows(values_only=True))
    out = []
    for row in rows[1:]:
        if all(v is None for v in row):
            break
        out.append(dict(zip(rows[0], row)))
    return out


def notes(ws) -> list[str]:
    rows = list(ws.iter_rows(values_only=True))
    blank = next((i for i, r in enumerate(rows) if all(v is None for v in r)), len(rows))
    return [r[0] for r in rows[blank + 1:] if r[0]]


@pytest.fixture(scope="module")
def example() -> AuditReport:
    return audit_file(EXAMPLE)


# ------------------------------------------------------------------ conclusions

CASES = {
    "一致": make(),
    "分数不一致": make(claimed={"timely": 26.0}),
    "总分不一致": make(claimed_total=96.0),
    "等级不一致": make(claimed_grade="良"),
    "需注意": make(flags=["效果性得满分 25 分，但年度绩效指标有 12 项未达成"]),
    "输入错误": make(input_error="timely"),
    "无法读取": make(error="坏.xlsx：不是 Excel 工作簿"),
}


@pytest.mark.parametrize("case, expected", [("一致", "一致"), ("分数不一致", "分数不一致"), ("总分不一致", "分数不一致"),
                                            ("等级不一致", "分数不一致"), ("需注意", "需注意"),
                                            ("输入错误", "输入错误"), ("无法读取", "无法读取")])
def test_each_category_has_its_conclusion(case, expected):
    report = CASES[case]
    assert conclusion(report) == expected
    assert (conclusion(report) == "一致") == report.ok


def test_precedence_unreadable_input_error_scores_attention_agrees():
    assert CONCLUSIONS == ("无法读取", "输入错误", "分数不一致", "需注意", "一致")
    everything = make(claimed={"budget": 39.0}, flags=["需要注意的事"], input_error="timely")
    assert conclusion(everything) == "输入错误"
    everything.error = "读不了"
    assert conclusion(everything) == "无法读取"
    assert conclusion(make(claimed={"budget": 39.0}, flags=["需要注意的事"])) == "分数不一致"
    assert conclusion(make(claimed_total=1.0, flags=["x"])) == "分数不一致"
    assert conclusion(make(flags=["x"])) == "需注意"


def test_first_difference_names_the_indicator_with_both_values():
    r = make(points={"timely": 24.98}, claimed={"timely": 25.05, "satisfaction": 29.0})
    assert first_difference(r) == "项目完成及时性：填报 25.05，复核 24.98"  # rubric order: timely before satisfaction
    assert first_difference(make(claimed_total=96.0)) == "综合评分：填报 96.00，复核 95.00"
    assert first_difference(make(claimed_grade="良")) == "评分等级：填报 良，复核 优"
    assert first_difference(make(claimed={"budget": None})) == "预算编制合理性：填报 空白，复核 40.00"
    assert first_difference(make()) is None
    assert first_difference(make(input_error="timely")) is None

    rows = table(book(summary_workbook([r, make(file="乙.xlsm", flags=["a", "b"])]))["汇总"])
    assert rows[0]["结论"] == "分数不一致" and rows[0]["不一致指标数"] == 2 and rows[0]["需注意项数"] == 0
    assert rows[0]["首个差异"] == "项目完成及时性：填报 25.05，复核 24.98"
    assert rows[1]["需注意项数"] == 2 and rows[1]["需要注意"] == "a\nb" and rows[1]["首个差异"] is None


def test_summary_columns_scores_and_errors():
    reports = [make(file="a.xlsm", department="甲局", year=2020.0, points={"timely": 24.98}),
               make(file="b.xlsm", department="乙局", input_error="timely"),
               make(file="c.xlsx", error="c.xlsx：不是 Excel 工作簿")]
    ws = book(summary_workbook(reports))["汇总"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["文件", "部门", "年度", "结论"]
    assert header.index("预算编制合理性") < header.index("项目完成及时性") < header.index("公众或服务对象满意度")
    rows = {r["文件"]: r for r in table(ws)}
    a, b, c = rows["a.xlsm"], rows["b.xlsm"], rows["c.xlsx"]
    assert a["年度"] == 2020 and a["项目完成及时性"] == 24.98 and a["综合评分（复核）"] == 94.98
    assert (a["综合评分（填报）"], a["评分等级（复核）"], a["评分等级（填报）"]) == (94.98, "优", "优")
    assert b["结论"] == "输入错误" and b["项目完成及时性"] == "输入错误" and b["综合评分（复核）"] is None
    assert b["综合评分（填报）"] == "#VALUE!"
    assert "项目完成及时性：编外人数不能为负数（基础数据!D40）" in b["错误"]
    assert c["结论"] == "无法读取" and c["错误"] == "c.xlsx：不是 Excel 工作簿" and c["部门"] is None


def test_editions_mix_columns_are_the_union_in_rubric_order():
    other = (("goal", "绩效目标编制", "部门决策", 50.0), ("satisfaction", "服务对象满意度", "部门绩效", 50.0))
    reports = [make(), make(file="县.xlsm", edition="test-county-2024", indicators=other,
                           points={"goal": 45.0, "satisfaction": 50.0})]
    header = [c.value for c in book(summary_workbook(reports))["汇总"][1]]
    names = [h for h in header if h in {"预算编制合理性", "项目完成及时性", "公众或服务对象满意度", "绩效目标编制",
                                        "服务对象满意度"}]
    assert names == ["预算编制合理性", "项目完成及时性", "公众或服务对象满意度", "绩效目标编制", "服务对象满意度"]


# ------------------------------------------------------------------ ranking, grades, deductions, duplicates

def test_ranking_order_ties_and_exclusions():
    reports = [make(file="a", department="甲", points={"timely": 20.0}),  # 90
               make(file="b", department="乙", points={"timely": 25.0}),  # 95
               make(file="c", department="丙", points={"timely": 20.0}),  # 90
               make(file="d", department="丁", points={"timely": 10.0}),  # 80
               make(file="e", department="戊", claimed={"timely": 30.0}),  # 95 recomputed, shown 100: still ranked
               make(file="f", department="己", input_error="timely"),
               make(file="g", error="g：坏文件")]
    wb = book(summary_workbook(reports))
    rows = table(wb["排名"])
    # ties share the best rank and are ordered by department name (乙 < 戊, 丙 < 甲 by code point): stable
    assert [(r["名次"], r["文件"]) for r in rows] == [(1, "b"), (1, "e"), (3, "c"), (3, "a"), (5, "d")]
    assert [r["综合评分（复核）"] for r in rows] == [95, 95, 90, 90, 80]
    assert list(rows[0]) == ["名次", "部门", "年度", "综合评分（复核）", "评分等级（复核）", "结论", "文件"]
    assert any("无法读取 1 个，输入错误 1 个" in n for n in notes(wb["排名"]))


def test_grade_distribution_counts_and_chart():
    totals = {"优": [25.0, 20.0], "良": [15.0, 12.0, 10.0], "中": [0.0], "差": []}
    reports = [make(file=f"{g}{i}", department=f"{g}{i}", points={"timely": t})
               for g, ts in totals.items() for i, t in enumerate(ts)]
    reports.append(make(file="x", claimed={"timely": 30.0}))  # recomputed 优, claimed 100 → 优 too
    reports.append(make(file="y", claimed_grade="优秀"))
    reports.append(make(file="z", input_error="timely"))
    ws = book(summary_workbook(reports))["等级分布"]
    rows = table(ws)
    assert [r["等级"] for r in rows] == ["优", "良", "中", "差"]
    assert [r["部门数（复核）"] for r in rows] == [4, 3, 1, 0]
    assert [r["部门数（填报）"] for r in rows] == [3, 3, 1, 0]
    assert [round(r["占比（复核）"], 4) for r in rows] == [0.5, 0.375, 0.125, 0]
    assert any("输入错误 1 个" in n for n in notes(ws)) and any("填报的评分等级为空或不是以上等级：2 个" in n for n in notes(ws))
    assert len(ws._charts) == 1


def test_deduction_statistics_by_hand():
    reports = [make(file="a", points={"budget": 40.0, "timely": 25.0, "satisfaction": 30.0}),
               make(file="b", points={"budget": 37.5, "timely": 30.0, "satisfaction": 28.0}),
               make(file="c", points={"budget": 38.5, "timely": 20.0, "satisfaction": 30.0}),
               make(file="d", points={"budget": 40.0}, input_error="timely"),
               make(file="e", error="坏")]
    rows = {r["三级指标"]: r for r in table(book(summary_workbook(reports))["指标扣分"])}
    budget, timely, satisfaction = rows["预算编制合理性"], rows["项目完成及时性"], rows["公众或服务对象满意度"]
    # budget: deductions 0, 2.5, 1.5, 0 over four files
    assert (budget["分值"], budget["参评文件数"], budget["扣分文件数"]) == (40, 4, 2)
    assert budget["扣分比例"] == 0.5
    assert (budget["平均扣分（扣分的文件）"], budget["平均扣分（全部参评）"], budget["最大扣分"]) == (2, 1, 2.5)
    # timely: 5, 0, 10 (d's input error is not counted)
    assert (timely["参评文件数"], timely["扣分文件数"]) == (3, 2)
    assert (timely["平均扣分（扣分的文件）"], timely["平均扣分（全部参评）"], timely["最大扣分"]) == (7.5, 5, 10)
    assert round(timely["扣分比例"], 4) == round(2 / 3, 4)
    # satisfaction: 0, 2, 0, 0
    assert (satisfaction["扣分文件数"], satisfaction["平均扣分（扣分的文件）"], satisfaction["平均扣分（全部参评）"]) \
        == (1, 2, 0.5)
    assert list(rows) == ["预算编制合理性", "项目完成及时性", "公众或服务对象满意度"]


def test_duplicates_same_department_and_year_and_same_bytes():
    reports = [make(file="a.xlsm", department="深圳市科学技术协会(本级)", digest="1" * 64),
               make(file="b.xlsm", department=" 深圳市科学技术协会（本级）", year="2020年", digest="2" * 64),
               make(file="c.xlsm", department="深圳市科学技术协会(本级)", year=2021, digest="3" * 64),
               make(file="d.xlsm", department="乙局", digest="4" * 64),
               make(file="e.xlsm", department="丙局", digest="4" * 64),
               make(file="f.xlsx", error="坏"), make(file="g.xlsx", error="坏")]
    rows = table(book(summary_workbook(reports))["重复"])
    same = [(r["组"], r["文件"]) for r in rows if r["类型"] == "同一部门同一年度"]
    identical = [(r["组"], r["文件"]) for r in rows if r["类型"] == "文件完全相同"]
    assert same == [(1, "a.xlsm"), (1, "b.xlsm")]
    assert identical == [(1, "d.xlsm"), (1, "e.xlsm")]
    assert rows[-1]["SHA-256（前 16 位）"] == "4" * 16

    ws = book(summary_workbook([make(file="a"), make(file="b", department="乙局")]))["重复"]
    assert table(ws) == [] and any("未发现重复" in n for n in notes(ws))


def test_charts_are_native_and_present():
    wb = book(summary_workbook([make(file=f"{i}", department=f"部门{i}", points={"timely": 20.0 + i})
                                for i in range(5)]))
    assert wb.sheetnames == ["汇总", "排名", "评分图", "等级分布", "指标扣分", "重复"]
    assert len(wb["评分图"]._charts) == 1 and len(wb["等级分布"]._charts) == 1
    bars = wb["评分图"]._charts[0]
    assert bars.type == "bar" and len(bars.series) == 1
    assert bars.series[0].val.numRef.f.endswith("$D$2:$D$6")
    with zipfile.ZipFile(io.BytesIO(summary_workbook([make()]))) as z:
        assert sum(name.startswith("xl/charts/chart") for name in z.namelist()) == 2


# ------------------------------------------------------------------ safe text and CSV

HOSTILE_DEPARTMENT = '=HYPERLINK("http://x","点我")'


def hostile_reports():
    return [make(file="=1+1.xlsm", department=HOSTILE_DEPARTMENT, flags=["=cmd|' /C calc'!A0"]),
            make(file="+1.xlsm", department="@SUM(A1:A9)", claimed_grade="-优"),
            make(file="-2.xlsm", department="\x07控制\x1b字符", input_error="timely"),
            make(file="=2+2.xlsx", error="=2+2.xlsx：不是 Excel 工作簿")]


@pytest.mark.parametrize("build", [summary_workbook, audit_workbook])
def test_text_from_workbooks_and_file_names_is_never_a_formula(build):
    data = build(hostile_reports())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
    wb = book(data)
    first = wb.worksheets[0]
    values = {c.value: c for row in first.iter_rows() for c in row if isinstance(c.value, str)}
    assert values["=1+1.xlsm"].data_type == "s" and values[HOSTILE_DEPARTMENT].data_type == "s"
    assert "@SUM(A1:A9)" in values and "=2+2.xlsx" in values and "控制字符" in values
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
    cells = {v for row in calamine.get_sheet_by_index(0).to_python() for v in row}
    assert {"=1+1.xlsm", HOSTILE_DEPARTMENT, "@SUM(A1:A9)", "+1.xlsm", "-2.xlsm"} <= cells


def test_hostile_text_round_trips_in_every_sheet_of_the_summary():
    wb = book(summary_workbook(hostile_reports()))
    assert table(wb["排名"])[0]["部门"] in (HOSTILE_DEPARTMENT, "@SUM(A1:A9)")
    found = {c.value for ws in wb for row in ws.iter_rows() for c in row}
    assert HOSTILE_DEPARTMENT in found and "=cmd|' /C calc'!A0" in found


def test_csv_has_a_bom_the_summary_rows_and_quotes_formula_like_text():
    data = summary_csv(hostile_reports() + [make(file="ok.xlsm", points={"timely": 24.98})])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["文件", "部门", "年度", "结论"] and "综合评分（复核）" in header and "项目完成及时性" in header
    by_file = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert set(by_file) == {"'=1+1.xlsm", "'+1.xlsm", "'-2.xlsm", "'=2+2.xlsx", "ok.xlsm"}
    hostile = by_file["'=1+1.xlsm"]
    assert hostile["部门"] == "'" + HOSTILE_DEPARTMENT and hostile["需要注意"] == "'=cmd|' /C calc'!A0"
    assert by_file["'+1.xlsm"]["部门"] == "'@SUM(A1:A9)" and by_file["'+1.xlsm"]["评分等级（填报）"] == "'-优"
    assert by_file["'=2+2.xlsx"]["错误"] == "'=2+2.xlsx：不是 Excel 工作簿"
    ok = by_file["ok.xlsm"]
    assert (ok["年度"], ok["项目完成及时性"], ok["综合评分（复核）"], ok["结论"]) == ("2020", "24.98", "94.98", "一致")


# ------------------------------------------------------------------ screen and print

def test_formatting_widths_wrap_heights_freeze_filter_and_print():
    long_flag = "效果性得满分 25 分，但年度绩效指标有 12 项未达成：" + "、".join(f"工作会议次数{i}（2→0）" for i in range(12))
    reports = [make(file="深圳市科学技术协会（本级）2020 年度自评.xlsm", department="深圳市科学技术协会(本级)",
                    flags=[long_flag]),
               make(file="b.xlsm", department="乙", claimed={"timely": 26.0}),
               make(file="c.xlsm", department="丙")]
    for data, name in ((summary_workbook(reports), "汇总"), (audit_workbook(reports), "结论")):
        wb = book(data)
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9, ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth >= 1, ws.title
            assert ws.page_setup.fitToWidth == 1 or ws.title == "汇总", ws.title
            if ws.title == "评分图":  # a chart that nearly fits one page is shrunk onto it
                assert ws.page_setup.fitToHeight in (0, 1)
                continue
            assert ws.page_setup.fitToHeight == 0, ws.title
            assert ws.print_title_rows == "$1:$1" and ws.freeze_panes in ("A2", "C2", "E2"), ws.title
            assert ws.auto_filter.ref.startswith("A1:"), ws.title
            header = ws[1]
            assert all(c.font.b for c in header) and all(c.font.name == "宋体" for c in header)
            body = [c for row in ws.iter_rows(min_row=2, max_row=2) for c in row if ws["A2"].value is not None]
            assert all(c.font.name == "宋体" and c.font.sz >= 10 for c in body), ws.title
            assert all(ws.column_dimensions[c.column_letter].width >= 5 for c in header), ws.title
        ws = wb[name]
        columns = {c.value: c.column_letter for c in ws[1]}
        flags = ws[f"{columns['需要注意']}2"]
        assert flags.alignment.wrap_text and flags.value == long_flag
        assert ws.column_dimensions[columns["部门"]].width >= 2 * len("深圳市科学技术协会") * 0.9
        assert ws.column_dimensions[columns["需要注意"]].width > ws.column_dimensions[columns["年度"]].width
        width = ws.column_dimensions[columns["需要注意"]].width
        lines = rx.lines_needed(long_flag, width)
        assert lines >= 3 and ws.row_dimensions[2].height >= lines * 14 > ws.row_dimensions[3].height
        assert ws[f"{columns['综合评分（复核）']}2"].number_format == "0.00"
        verdict = columns["结论"]
        assert ws[f"{verdict}3"].value == "分数不一致" and ws[f"{verdict}3"].fill.fgColor.rgb.endswith("FFC7CE")
        assert ws[f"{verdict}4"].value == "一致" and ws[f"{verdict}4"].fill.fill_type is None
    wb = book(summary_workbook(reports))
    rates = {c.value: c.column_letter for c in wb["指标扣分"][1]}
    assert wb["指标扣分"][f"{rates['扣分比例']}2"].number_format == "0.00%"
    assert wb["等级分布"]["D2"].number_format == "0.00%"
    assert wb["汇总"].page_setup.fitToWidth >= 2 and wb["汇总"].print_title_cols == "$A:$B"  # too wide for one page


def test_display_width_counts_cjk_about_twice():
    assert rx.display_width("abc") == 3
    assert 1.8 <= rx.display_width("部") <= 2
    assert rx.lines_needed("短", 10) == 1
    assert rx.lines_needed("长" * 40, 20.7) == 4
    assert rx.lines_needed("一\n二\n三", 10) == 3


# ------------------------------------------------------------------ the audit workbook

def test_audit_workbook_sheets_rows_and_colours():
    reports = [make(file="a.xlsm", claimed={"timely": 26.0}), make(file="b.xlsm", input_error="timely",
                                                                   flags=["注意一"]),
               make(file="c.xlsx", error="c.xlsx：坏")]
    wb = book(audit_workbook(reports))
    assert wb.sheetnames == ["结论", "复核结果", "需要注意"]
    assert [r["结论"] for r in table(wb["结论"])] == ["分数不一致", "输入错误", "无法读取"]
    ws = wb["复核结果"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("文件", "部门", "一级指标", "三级指标", "分值", "填报分数", "复核分数", "差异", "结论",
                       "扣分原因或错误")
    timely = [r for r in rows if r[0] == "a.xlsm" and r[3] == "项目完成及时性"][0]
    assert timely[4:9] == (30, 26, 25, 1, "不一致") and timely[9] == "项目完成及时性扣5分"
    broken = [r for r in rows if r[0] == "b.xlsm" and r[3] == "项目完成及时性"][0]
    assert broken[8] == "一致（输入错误）" and broken[9] == "编外人数不能为负数（基础数据!D40）"
    assert [r for r in rows if r[0] == "c.xlsx"] == [("c.xlsx", None, None, None, None, None, None, None,
                                                      "无法读取", "c.xlsx：坏")]
    total = [r for r in rows if r[0] == "a.xlsm" and r[3] == "综合评分"][0]
    assert total[4:9] == (100, 96, 95, 1, "不一致")
    colours = {ws.cell(row=i, column=9).value: ws.cell(row=i, column=9).fill.fgColor.rgb
               for i in range(2, ws.max_row + 1)}
    assert colours["不一致"].endswith("FFC7CE") and colours["无法读取"].endswith("D9D9D9")
    assert ws["H2"].number_format == "+0.00;-0.00;0.00"
    assert list(wb["需要注意"].iter_rows(values_only=True)) == [("文件", "部门", "需要注意"), ("b.xlsm", "甲局", "注意一")]


def test_sheets_continue_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(rx, "MAX_ROWS", 10)
    wb = book(audit_workbook([make(file=f"{i}.xlsm") for i in range(6)]))  # 6 × 4 rows
    assert wb.sheetnames == ["结论", "复核结果", "复核结果（2）", "复核结果（3）", "需要注意"]
    assert [wb[n].max_row for n in wb.sheetnames[1:4]] == [11, 11, 5]


# ------------------------------------------------------------------ the real example, and scale

def test_the_reference_example_audited_for_real(example):
    tampered = copy.deepcopy(example)
    tampered.file = "科协（改分）.xlsm"
    next(f for f in tampered.findings if f.indicator == "timely").claimed = 5.05
    wb = book(summary_workbook([example, tampered]))
    rows = {r["文件"]: r for r in table(wb["汇总"])}
    row = rows[EXAMPLE.name]
    assert (row["部门"], row["年度"], row["结论"]) == ("深圳市科学技术协会(本级)", 2020, "需注意")
    assert (row["综合评分（复核）"], row["综合评分（填报）"], row["评分等级（复核）"]) == (96.51, 96.51, "优")
    assert row["编外人员控制率"] == 0 and row["预算执行率"] == 4.64 and row["首个差异"] is None
    assert "效果性得满分 25 分" in row["需要注意"] and row["未达成绩效指标数"] == 12
    assert rows["科协（改分）.xlsm"]["首个差异"] == "项目完成及时性：填报 5.05，复核 4.98"
    assert rows["科协（改分）.xlsm"]["结论"] == "分数不一致"
    assert [r["类型"] for r in table(wb["重复"])] == ["同一部门同一年度"] * 2 + ["文件完全相同"] * 2
    deductions = {r["三级指标"]: r for r in table(wb["指标扣分"])}
    assert deductions["预算执行率"]["最大扣分"] == 1.36 and deductions["编外人员控制率"]["扣分文件数"] == 2
    audit = book(audit_workbook([example]))
    assert len([r for r in audit["复核结果"].iter_rows(values_only=True) if r[0] == EXAMPLE.name]) == 22


def test_empty_and_all_unreadable_inputs_still_build():
    for reports in ([], [make(error="坏")]):
        for build in (summary_workbook, audit_workbook, summary_csv):
            assert build(iter(reports))


def test_two_thousand_reports_from_a_generator_without_keeping_them():
    alive: list[weakref.ref] = []

    def reports(n):
        for i in range(n):
            r = make(file=f"{i:05d}.xlsm", department=f"部门{i:05d}", points={"timely": 10 + (i % 200) / 10},
                     flags=["需要注意"] if i % 7 == 0 else (), digest=f"{i:064x}")
            alive.append(weakref.ref(r))
            yield r

    wb = book(summary_workbook(reports(2000)))
    gc.collect()
    assert sum(ref() is not None for ref in alive) <= 1  # the reports were not kept
    assert wb["汇总"].max_row == 2001 and len(table(wb["排名"])) == 2000
    assert table(wb["排名"])[0]["综合评分（复核）"] == 99.9
    assert len(wb["评分图"]._charts) == 1
    assert sum(r["部门数（复核）"] for r in table(wb["等级分布"])) == 2000
    audit = book(audit_workbook(reports(2000)))
    assert audit["复核结果"].max_row == 1 + 2000 * 4
