"""Build workbook_template.xlsm from code and the rubric data.

The template is never edited by hand: ``jx template`` rebuilds it, and a test
fails when the committed file differs from a fresh build. The same builder,
given the reference inputs, writes the filled example in ``examples/``.

Sheets (the official tables of the report, in Chinese):
填报说明, 基础数据 (every input as one named cell), 评分表 (every 分数 a JX
formula), 预算执行 (the quarterly table), 自评表 (tasks and targets), and the
hidden ``xlwings.conf``. Its VBA project carries xlwings' standalone module,
the generated ``xlwings_udfs`` wrappers and ``jx_register``, which gives the
Function Wizard the Chinese descriptions when the workbook opens.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from jx.rubric import Rubric, load_rubric

from . import model
from .atomic import write_atomically

TEMPLATE_NAME = "workbook_template.xlsm"
FIXED_TIME = datetime(2020, 1, 1)  # deterministic document properties
FIXED_STAMP = b"2020-01-01T00:00:00Z"

# Sheet names and the VBA code names their document modules carry.
SHEETS = (
    ("填报说明", "Sheet1"),
    ("基础数据", "Sheet2"),
    ("评分表", "Sheet3"),
    ("预算执行", "Sheet4"),
    ("自评表", "Sheet5"),
    ("xlwings.conf", "Sheet6"),
)
INPUT_SHEET, SCORE_SHEET, EXEC_SHEET, SELF_SHEET = "基础数据", "评分表", "预算执行", "自评表"
TASK_ROWS = 30
TARGET_ROWS = 250

# xlwings' standalone module reads these settings from the hidden sheet.
XLWINGS_CONF = (
    ("UDF Modules", "udfs"),
    ("Use UDF Server", False),
    ("Show Console", False),
    ("Debug UDFs", False),
)

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
DEDUCTION_FILL = PatternFill("solid", fgColor="FCE4D6")
ERROR_FILL = PatternFill("solid", fgColor="FF9999")
TITLE_FONT = Font(name="宋体", size=14, bold=True)
BOLD = Font(name="宋体", bold=True)
BODY = Font(name="宋体", size=10)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
UNLOCKED = Protection(locked=False)

NUMBER_FORMATS = {"amount": "#,##0.00", "count": "0", "rate": "0.00%", "partial": "0.00", "score": "0.00"}


@dataclass(frozen=True)
class Filled:
    """What a department types in: named inputs, task rows, target rows."""

    values: Mapping[str, object]
    tasks: Sequence[Mapping[str, object]] = ()
    targets: Sequence[Mapping[str, object]] = ()


def score_name(indicator_id: str) -> str:
    """Defined name of an indicator's 分数 cell, e.g. 分数_staff."""
    return f"分数_{indicator_id}"


def _define(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{ref}")


def _cell(ws: Worksheet, ref: str, value=None, font=BODY, fill=None, align=WRAP, fmt=None, border=True):
    cell = ws[ref]
    if value is not None:
        cell.value = value
    cell.font = font
    cell.alignment = align
    if fill:
        cell.fill = fill
    if fmt:
        cell.number_format = fmt
    if border:
        cell.border = BORDER
    return cell


def _print_setup(ws: Worksheet, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


# ------------------------------------------------------------------ 填报说明

def _instructions(ws: Worksheet, rubric: Rubric) -> None:
    lines = [
        ("部门整体支出绩效自评模板（自动计分）", TITLE_FONT),
        (f"评分标准：{rubric.title}（版本 {rubric.id}）", BOLD),
        ("", BODY),
        ("一、怎么填", BOLD),
        ("1. 只需填写“基础数据”表中浅黄色的单元格；其他单元格已锁定，由公式自动计算。", BODY),
        ("2. 是/否项从下拉列表选择；金额以元为单位；比率按百分比填写（如 99%）。", BODY),
        ("3. 在“自评表”中填写年度主要任务和年度绩效指标（预期指标值、实际完成值），“是否达成”自动判断。", BODY),
        ("4. “评分表”的每个分数都是一个 JX 函数公式，点击分数单元格即可看到所依据的规则和输入项。", BODY),
        ("", BODY),
        ("二、需要什么", BOLD),
        ("本模板的计分函数（JX_…）由 Python 计算：电脑需安装 Python 3.11 及以上版本，并安装随模板分发的 JX 安装包：", BODY),
        ("    pip install jx_selfeval-<版本>-py3-none-any.whl", BODY),
        ("（会同时安装 xlwings 0.37.8）。打开文件时请点击“启用内容/启用宏”；从网上下载的文件需先在文件属性中勾选“解除锁定”。", BODY),
        ("无需点击 xlwings 的 Import Functions：函数已随模板提供。", BODY),
        ("没有 Python 的电脑（或 WPS）请使用 jx export 生成的无宏版本，分数相同。", BODY),
        ("", BODY),
        ("三、单元格显示错误怎么办", BOLD),
        ("“错误：……”：某项输入有问题，提示中写明了是哪一项（如“编外人数不能为负数”），改正基础数据后自动重算。", BODY),
        ("#VALUE!（综合评分、小计）：至少一个指标有错误，先改正显示“错误：”的指标；有错误时不会给出看似正常的总分。", BODY),
        ("#NAME?：Python 或 xlwings 未安装，或宏未启用。", BODY),
        ("", BODY),
        ("四、评分等级", BOLD),
        (rubric.grade_rule_text, BODY),
    ]
    for row, (text, font) in enumerate(lines, start=1):
        _cell(ws, f"A{row}", text, font=font, align=Alignment(vertical="center"), border=False)
    ws.column_dimensions["A"].width = 120
    ws.protection.sheet = True
    _print_setup(ws, "1:1")


# ------------------------------------------------------------------ 基础数据

def _validation(ws: Worksheet, field: model.Field, rubric: Rubric) -> DataValidation | None:
    if field.kind == "check":
        dv = DataValidation(type="list", formula1='"是,否"', allow_blank=not field.required)
    elif field.kind == "status":
        statuses = ",".join(s["status"] for s in rubric.indicator("disclosure").params["statuses"])
        dv = DataValidation(type="list", formula1=f'"{statuses}"', allow_blank=False)
    elif field.kind == "count":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    elif field.kind == "amount":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    elif field.kind in ("rate", "partial", "score"):
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{field.upper:g}")
    else:
        return None
    dv.error = f"{field.name}：{field.help}"
    dv.errorTitle = "输入无效"
    dv.prompt = field.help
    dv.showErrorMessage = True
    dv.showInputMessage = True
    return dv


def _inputs(wb: Workbook, ws: Worksheet, rubric: Rubric, values: Mapping[str, object]) -> None:
    _cell(ws, "A1", "基础数据（浅黄色单元格为填报项，每项为一个命名单元格）", font=TITLE_FONT, border=False,
          align=Alignment(vertical="center"))
    headers = ("序号", "类别", "名称", "填报值", "单位", "说明")
    for col, text in enumerate(headers, start=1):
        _cell(ws, f"{get_column_letter(col)}3", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    validations: dict[str, DataValidation] = {}
    for i, field in enumerate(model.fields(rubric)):
        row = 4 + i
        _cell(ws, f"A{row}", i + 1, align=CENTER)
        _cell(ws, f"B{row}", field.group)
        _cell(ws, f"C{row}", field.name)
        value = values.get(field.name)
        input_cell = _cell(ws, f"D{row}", value, fill=INPUT_FILL, fmt=NUMBER_FORMATS.get(field.kind))
        input_cell.protection = UNLOCKED
        _cell(ws, f"E{row}", field.unit, align=CENTER)
        _cell(ws, f"F{row}", field.help + ("" if field.required else "（可不填）"))
        _define(wb, field.name, INPUT_SHEET, f"$D${row}")
        dv = _validation(ws, field, rubric)
        if dv is not None:
            key = f"{dv.type}|{dv.operator}|{dv.formula1}|{dv.formula2}|{dv.error}"
            validations.setdefault(key, dv).add(f"D{row}")
    for dv in validations.values():
        ws.add_data_validation(dv)
    _widths(ws, (6, 20, 22, 20, 8, 70))
    ws.freeze_panes = "A4"
    ws.protection.sheet = True
    _print_setup(ws, "3:3")


# ------------------------------------------------------------------ 评分表

def _title_block(ws: Worksheet, title: str, last_col: str) -> None:
    """The official tables' head: title, then 部门名称 and 预算年度 from the inputs."""
    ws.merge_cells(f"A1:{last_col}1")
    _cell(ws, "A1", title, font=TITLE_FONT, align=CENTER, border=False)
    _cell(ws, "A2", "部门（单位）名称", font=BOLD, border=False)
    ws.merge_cells("B2:D2")
    _cell(ws, "B2", "=部门名称", border=False)
    _cell(ws, "E2", "预算年度", font=BOLD, border=False)
    _cell(ws, "F2", "=预算年度", border=False, align=Alignment(horizontal="left"))


def _scores(wb: Workbook, ws: Worksheet, rubric: Rubric) -> None:
    _title_block(ws, "部门整体支出绩效评分表", "I")
    _cell(ws, "G2", f"评分标准：{rubric.id}", border=False)
    ws.merge_cells("A3:D3")
    _cell(ws, "A3", "评价指标", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("EFGHI", ("指标说明", "评分标准", "分数", "扣分", "计分函数")):
        ws.merge_cells(f"{col}3:{col}4")
        _cell(ws, f"{col}3", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCD", ("一级指标", "二级指标", "三级指标", "分值")):
        _cell(ws, f"{col}4", text, font=BOLD, fill=HEADER_FILL, align=CENTER)

    calls = model.score_calls(rubric)
    row = 5
    rows_of: dict[str, list[int]] = {}
    level2_start: tuple[str, str, int] | None = None
    for ind in rubric.indicators:
        rows_of.setdefault(ind.level1, []).append(row)
        level1_max = dict(rubric.level1)[ind.level1]
        _cell(ws, f"A{row}", f"{ind.level1}\n（{level1_max:g}分）", align=CENTER)
        _cell(ws, f"B{row}", ind.level2, align=CENTER)
        _cell(ws, f"C{row}", ind.name, align=CENTER)
        _cell(ws, f"D{row}", ind.max, align=CENTER)
        _cell(ws, f"E{row}", ind.description)
        _cell(ws, f"F{row}", ind.rule_text + (f"\n【口径】{ind.reading}" if ind.reading else ""))
        _cell(ws, f"G{row}", f"={calls[ind.id].render()}", font=BOLD, align=CENTER, fmt="0.00")
        _cell(ws, f"H{row}", f"=IF(ISNUMBER(G{row}),D{row}-G{row},\"\")", align=CENTER, fmt="0.00")
        _cell(ws, f"I{row}", "、".join(ind.functions), align=CENTER)
        _define(wb, score_name(ind.id), SCORE_SHEET, f"$G${row}")
        ws.row_dimensions[row].height = max(60, 15 * (ind.rule_text.count("\n") + 2))
        if level2_start and (level2_start[0], level2_start[1]) != (ind.level1, ind.level2):
            if row - 1 > level2_start[2]:
                ws.merge_cells(f"B{level2_start[2]}:B{row - 1}")
            level2_start = None
        if level2_start is None:
            level2_start = (ind.level1, ind.level2, row)
        row += 1
    if level2_start and row - 1 > level2_start[2]:
        ws.merge_cells(f"B{level2_start[2]}:B{row - 1}")
    for rows in rows_of.values():
        if len(rows) > 1:
            ws.merge_cells(f"A{rows[0]}:A{rows[-1]}")
    last_indicator_row = row - 1

    # sub-totals, total and grade: "+" (never SUM), so one error poisons the total
    for level1, level1_max in rubric.level1:
        ws.merge_cells(f"A{row}:C{row}")
        _cell(ws, f"A{row}", f"{level1}小计", font=BOLD, align=CENTER)
        _cell(ws, f"D{row}", level1_max, align=CENTER)
        terms = "+".join(f"G{r}" for r in rows_of[level1])
        _cell(ws, f"G{row}", f"=ROUND({terms},2)", font=BOLD, align=CENTER, fmt="0.00")
        _define(wb, f"{level1}得分", SCORE_SHEET, f"$G${row}")
        row += 1
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "综合评分", font=BOLD, align=CENTER)
    _cell(ws, f"D{row}", rubric.total, align=CENTER)
    subtotal_terms = "+".join(f"{name}得分" for name, _ in rubric.level1)
    _cell(ws, f"G{row}", f"=ROUND({subtotal_terms},2)", font=BOLD, align=CENTER, fmt="0.00")
    _define(wb, "综合评分", SCORE_SHEET, f"$G${row}")
    row += 1
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "评分等级", font=BOLD, align=CENTER)
    _cell(ws, f"G{row}", "=JX_GRADE(综合评分)", font=BOLD, align=CENTER)
    _define(wb, "评分等级", SCORE_SHEET, f"$G${row}")
    row += 1
    _cell(ws, f"A{row}", "填表人", font=BOLD, align=CENTER)
    _cell(ws, f"B{row}", "=IF(填报人=\"\",\"\",填报人)", align=CENTER)

    # a deduction is highlighted; an error is red
    scores = f"G5:G{last_indicator_row}"
    ws.conditional_formatting.add(scores, FormulaRule(formula=["NOT(ISNUMBER(G5))"], fill=ERROR_FILL, stopIfTrue=True))
    ws.conditional_formatting.add(scores, FormulaRule(formula=["AND(ISNUMBER(G5),G5<D5)"], fill=DEDUCTION_FILL))
    totals = f"G{last_indicator_row + 1}:G{row - 1}"
    ws.conditional_formatting.add(totals, FormulaRule(formula=[f"ISERROR(G{last_indicator_row + 1})"], fill=ERROR_FILL))
    _widths(ws, (12, 10, 16, 6, 36, 70, 10, 8, 22))
    ws.freeze_panes = "A5"
    ws.protection.sheet = True
    _print_setup(ws, "3:4")


# ------------------------------------------------------------------ 预算执行

def _exec(wb: Workbook, ws: Worksheet, rubric: Rubric) -> None:
    p = rubric.indicator("exec").params
    ws.merge_cells("A1:E1")
    _cell(ws, "A1", "预算执行率指标", font=TITLE_FONT, align=CENTER, border=False)
    _cell(ws, "A3", "指标", font=BOLD, fill=HEADER_FILL, align=CENTER)
    links = model.derived(rubric)
    for i, quarter in enumerate(model.QUARTERS):
        col = get_column_letter(2 + i)
        _cell(ws, f"{col}3", quarter, font=BOLD, fill=HEADER_FILL, align=CENTER)
        _cell(ws, f"{col}4", f"={quarter}累计支出", fmt="#,##0.00", align=CENTER)
        _cell(ws, f"{col}5", "=冻结资金", fmt="#,##0.00", align=CENTER)
        _cell(ws, f"{col}6", "=预算总指标", fmt="#,##0.00", align=CENTER)
        name = model.exec_rate_name(quarter)
        _cell(ws, f"{col}7", f"={links[name].render()}", fmt="0.00%", align=CENTER)
        _define(wb, name, EXEC_SHEET, f"${col}$7")
        _cell(ws, f"{col}8", p["schedule"][i], fmt="0%", align=CENTER)
        _cell(ws, f"{col}9", f"=JX_QUARTER_SCORE({name},{i + 1})", fmt="0.00", align=CENTER)
    for row, label in zip(range(4, 10), ("支出数（季度末累计）", "冻结金额", "总指标", "执行率（不含冻结金额）",
                                         "序时进度", "季度执行率得分")):
        _cell(ws, f"A{row}", label, font=BOLD)
    rates = ",".join(model.exec_rate_name(q) for q in model.QUARTERS)
    summary = (
        ("全年平均执行率", f"=JX_EXEC_AVERAGE({rates})", "0.00%"),
        ("全年平均支出进度得分", f"=JX_EXEC_AVERAGE({rates})*{p['average_points']:g}", "0.00"),
        ("预算执行率得分", f"={model.score_calls(rubric)['exec'].render()}", "0.00"),
    )
    for i, (label, formula, fmt) in enumerate(summary):
        row = 11 + i
        _cell(ws, f"A{row}", label, font=BOLD)
        ws.merge_cells(f"B{row}:E{row}")
        _cell(ws, f"B{row}", formula, fmt=fmt, align=CENTER)
    _define(wb, "全年平均执行率", EXEC_SHEET, "$B$11")
    _cell(ws, "A15", "季度执行率＝季度末累计支出÷（预算总指标−冻结资金）；季度得分＝执行率÷序时进度，最高 1 分；"
                     "全年平均执行率为四个季度得分的平均；预算执行率得分＝四个季度得分之和＋全年平均执行率×2，最后四舍五入一次。",
          border=False)
    ws.merge_cells("A15:E16")
    _widths(ws, (26, 18, 18, 18, 18))
    ws.protection.sheet = True
    _print_setup(ws, "3:3")


# ------------------------------------------------------------------ 自评表

def _self_evaluation(wb: Workbook, ws: Worksheet, filled: Filled) -> None:
    _title_block(ws, "部门（单位）整体支出绩效目标完成情况自评表", "G")

    # 年度主要任务完成情况
    ws.merge_cells("A3:G3")
    _cell(ws, "A3", "年度主要任务完成情况", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCDEFG", ("任务名称", "完成情况", "预算数（元）全额", "其中：财政拨款",
                                    "执行数（元）全额", "其中：财政拨款", "执行率")):
        _cell(ws, f"{col}4", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    first = 5
    for i in range(TASK_ROWS):
        row = first + i
        task = filled.tasks[i] if i < len(filled.tasks) else {}
        for col, key, fmt in (("A", "name", None), ("B", "status", None), ("C", "budget", "#,##0.00"),
                              ("D", "budget_fiscal", "#,##0.00"), ("E", "spent", "#,##0.00"),
                              ("F", "spent_fiscal", "#,##0.00")):
            cell = _cell(ws, f"{col}{row}", task.get(key), fill=INPUT_FILL, fmt=fmt)
            cell.protection = UNLOCKED
        _cell(ws, f"G{row}", f'=IF(OR(C{row}="",C{row}=0),"",E{row}/C{row})', fmt="0.00%", align=CENTER)
    last = first + TASK_ROWS - 1
    _define(wb, "任务预算数", SELF_SHEET, f"$C${first}:$C${last}")
    _define(wb, "任务执行数", SELF_SHEET, f"$E${first}:$E${last}")
    total_row = last + 1
    _cell(ws, f"A{total_row}", "金额合计", font=BOLD, align=CENTER)
    for col in "CDEF":
        _cell(ws, f"{col}{total_row}", f"=SUM({col}{first}:{col}{last})", font=BOLD, fmt="#,##0.00")
    _cell(ws, f"G{total_row}", f'=IF(C{total_row}=0,"",E{total_row}/C{total_row})', fmt="0.00%", align=CENTER)

    # 年度绩效指标完成情况
    head = total_row + 2
    ws.merge_cells(f"A{head}:G{head}")
    _cell(ws, f"A{head}", "年度绩效指标完成情况", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCDEF", ("一级指标", "二级指标", "三级指标", "预期指标值", "实际完成值", "是否达成")):
        _cell(ws, f"{col}{head + 1}", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    first = head + 2
    for i in range(TARGET_ROWS):
        row = first + i
        target = filled.targets[i] if i < len(filled.targets) else {}
        for col, key in (("A", "level1"), ("B", "level2"), ("C", "name"), ("D", "target"), ("E", "actual")):
            cell = _cell(ws, f"{col}{row}", target.get(key), fill=INPUT_FILL)
            cell.protection = UNLOCKED
        _cell(ws, f"F{row}", f'=IF(AND(D{row}="",E{row}=""),"",JX_TARGET_MET(D{row},E{row}))', align=CENTER)
    last = first + TARGET_ROWS - 1
    _define(wb, "预期指标值", SELF_SHEET, f"$D${first}:$D${last}")
    _define(wb, "实际完成值", SELF_SHEET, f"$E${first}:$E${last}")
    _define(wb, "指标达成情况", SELF_SHEET, f"$F${first}:$F${last}")
    summary = last + 1
    _cell(ws, f"A{summary}", "已填指标数", font=BOLD)
    _cell(ws, f"B{summary}", f"=COUNTA(D{first}:D{last})", align=CENTER)
    _define(wb, "绩效指标数", SELF_SHEET, f"$B${summary}")
    _cell(ws, f"C{summary}", "未达成指标数", font=BOLD)
    _cell(ws, f"D{summary}", f"=COUNTIF(F{first}:F{last},FALSE)", align=CENTER)
    _define(wb, "未达成指标数", SELF_SHEET, f"$D${summary}")
    ws.conditional_formatting.add(f"F{first}:F{last}", FormulaRule(formula=[f"F{first}=FALSE"], fill=DEDUCTION_FILL))
    ws.conditional_formatting.add(f"F{first}:F{last}", FormulaRule(formula=[f"ISERROR(F{first})"], fill=ERROR_FILL))
    _widths(ws, (18, 40, 18, 18, 18, 16, 12))
    ws.protection.sheet = True
    _print_setup(ws, "4:4")


def _conf(ws: Worksheet) -> None:
    for row, (key, value) in enumerate(XLWINGS_CONF, start=1):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=value)
    ws.sheet_state = "hidden"


# ------------------------------------------------------------------ assemble

def build_workbook(filled: Filled | None = None, rubric: Rubric | None = None) -> Workbook:
    """The template as an openpyxl workbook (no VBA yet); ``filled`` pre-fills inputs."""
    rubric = rubric or load_rubric()
    filled = filled or Filled(values={})
    unknown = set(filled.values) - {f.name for f in model.fields(rubric)}
    if unknown:
        raise ValueError(f"未知的输入项：{'、'.join(sorted(unknown))}")
    wb = Workbook()
    wb.remove(wb.active)
    for title, code_name in SHEETS:
        ws = wb.create_sheet(title)
        ws.sheet_properties.codeName = code_name
    wb.code_name = "ThisWorkbook"
    _instructions(wb["填报说明"], rubric)
    _inputs(wb, wb[INPUT_SHEET], rubric, filled.values)
    _scores(wb, wb[SCORE_SHEET], rubric)
    _exec(wb, wb[EXEC_SHEET], rubric)
    _self_evaluation(wb, wb[SELF_SHEET], filled)
    _conf(wb["xlwings.conf"])
    wb.active = 1
    wb.properties.creator = "jx"
    wb.properties.title = f"部门整体支出绩效自评（{rubric.id}）"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    wb.calculation.fullCalcOnLoad = True  # Excel recalculates every JX formula on open
    return wb


def normalize_zip(data: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps so equal content gives equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP, content)
            target.writestr(fixed, content)
    return out.getvalue()


def workbook_bytes(filled: Filled | None = None, rubric: Rubric | None = None, vba: bytes | None = None) -> bytes:
    """The .xlsm bytes: the workbook plus, if given, its vbaProject.bin."""
    wb = build_workbook(filled, rubric)
    if vba is not None:
        wb.vba_archive = _vba_archive(vba)
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalize_zip(buffer.getvalue())


def _vba_archive(vba: bytes) -> zipfile.ZipFile:
    """The zip openpyxl copies VBA parts from (it reads the types and rels there)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/vbaProject.bin", vba)
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                   '<Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def build(path: Path, filled: Filled | None = None, rubric: Rubric | None = None) -> Path:
    """Write the template (or a filled copy) with its VBA project, atomically."""
    from .vba_parts import vba_project

    write_atomically(path, workbook_bytes(filled, rubric, vba_project()))
    return path
