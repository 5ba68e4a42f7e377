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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from jx.functions import functions
from jx.rubric import Rubric
from jx.shapes import CheckPart, SchedulePart

from .atomic import write_atomically
from .layout import (CONF, EDITION_NAME, EXEC, FILLED_NAME, INPUTS, INSTRUCTIONS, SCORES, SELF, SELFCHECK_NAME,
                     SELFCHECK_ROW, TARGETS, TASK_ROWS, TARGET_ROWS, TEXT_FIRST_ROW, TEXTS, Field, Layout, layout, schedule_summary, score_name,
                     target_formula)

TEMPLATE_NAME = "workbook_template.xlsm"
FIXED_TIME = datetime(2020, 1, 1)  # deterministic document properties
FIXED_STAMP = b"2020-01-01T00:00:00Z"
INPUT_SHEET, SCORE_SHEET, EXEC_SHEET, SELF_SHEET = INPUTS, SCORES, EXEC, SELF

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

NUMBER_FORMATS = {"amount": "#,##0.00", "count": "0", "rate": "0.00%", "partial": "0.00", "score": "0.00",
                  "number": "0.00", "year": "0"}


@dataclass(frozen=True)
class Filled:
    """What a department types in: named inputs, task rows, target rows, the report's texts."""

    values: Mapping[str, object]
    tasks: Sequence[Mapping[str, object]] = ()
    targets: Sequence[Mapping[str, object]] = ()
    texts: Mapping[str, str] = field(default_factory=dict)


def _define(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(sheet)}!{ref}")


def _define_all(wb: Workbook, lay: Layout) -> None:
    for name, (sheet, ref) in lay.names.items():
        _define(wb, name, sheet, ref)


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


def _formula(ws: Worksheet, lay: Layout, ref: str, written: set, **style):
    """Write the layout's formula for this cell (the reader checks every one against the layout)."""
    key = (ws.title, ref)
    written.add(key)
    return _cell(ws, ref, lay.formulas[key], **style)


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

INSTRUCTION_WIDTHS = (30, 42, 48)  # 填报说明's three columns: the texts span them, the troubleshooting table fills them


def instructions(ws: Worksheet, rubric: Rubric, native: str | None = None) -> None:
    """The 填报说明 sheet; ``native`` (where the helper columns are) writes it for the Python-free copy.

    The copy of ``jx export`` needs no Python and has no macros, so it says so
    instead of the install steps, the self-check and its troubleshooting table.
    """
    from .selfcheck import RESULT_ROWS, TROUBLESHOOTING_HEADER, instruction_lines, troubleshooting_rows

    lines = [
        ("部门整体支出绩效自评模板（自动计分）" + ("——无宏版本" if native is not None else ""), TITLE_FONT),
        (f"评分标准：{rubric.title}（版本 {rubric.id}）", BOLD),
        ("一、怎么填", BOLD),
        ("1. 只需填写浅黄色的单元格；其他单元格已锁定，由公式自动计算。“基础数据”表中是各项输入，"
         "是/否项从下拉列表选择，金额以元为单位，比率按百分比填写（如 99%）。", BODY),
        (f"2. “{SELF}”填写年度总体目标和年度主要任务；“{TARGETS}”填写每项绩效指标的预期指标值和实际完成值，"
         "“是否达成”自动判断（无法判断时显示“无法判定”并说明原因）。行不够时在表格中间插入行，不要写在表格下方。", BODY),
        ("3. “评分表”的每个分数都是一个公式，点击分数单元格即可看到所依据的规则和输入项"
         + ("（本文件中每个分数单元格的批注写明了它对应的 JX 公式）。" if native is not None else "。"), BODY),
        (f"4. “{TEXTS}”填写自评报告的文字部分（情况说明、问题和改进措施）；jx report 据此和计分结果起草自评报告。", BODY),
    ]
    if native is None:
        lines += [
            ("二、需要什么", BOLD),
            ("计分函数（JX_…）由 Python 计算：电脑需安装 Python 3.11 及以上版本和随模板分发的 JX 安装包"
             "（pip install jx_selfeval-<版本>-py3-none-any.whl，会同时安装 xlwings 0.37.8）。"
             "打开文件时请点击“启用内容/启用宏”；从网上下载的文件需先在文件属性中勾选“解除锁定”。"
             "无需点击 xlwings 的 Import Functions：函数已随模板提供。", BODY),
            ("没有 Python 的电脑（或 WPS）请使用 jx export 生成的无宏版本，分数相同。", BODY),
        ]
    else:
        lines += [
            ("二、本文件（无宏版本）", BOLD),
            ("本文件由 jx export 生成，无需安装 Python、xlwings，也无需启用宏：所有 JX 计分函数已换成 Excel 2010 "
             "及以上版本、WPS 和 LibreOffice 都能计算的普通公式，分数与带宏模板相同。", BODY),
        ]
        if native:
            lines.append((f"“是否达成”按 JX_TARGET_MET 的规则逐步计算，各步骤在隐藏的辅助列中（{native}），"
                          "撤消工作表保护后可取消隐藏查看。", BODY))
    lines += [
        ("三、单元格显示错误怎么办", BOLD),
        ("“错误：……”：某项输入有问题，提示中写明了是哪一项（如“编外人数不能为负数”），改正后自动重算。", BODY),
        ("#VALUE!（综合评分、小计）：至少一个指标有错误，先改正显示“错误：”的指标；有错误时不会给出看似正常的总分。", BODY),
    ]
    if native is None:
        lines.append(("#NAME?：Python 或 xlwings 未安装，或宏未启用。请运行下面的自检。", BODY))
    lines += [("四、评分等级", BOLD), (rubric.grade.rule_text, BODY)]
    if native is None:
        lines += [("五、自检：Excel 中不计分时", BOLD), *[(line, BODY) for line in instruction_lines()]]
    for i, width in enumerate(INSTRUCTION_WIDTHS):
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    for row, (text, font) in enumerate(lines, start=1):
        _cell(ws, f"A{row}", text, font=font, align=WRAP, border=False)
        ws.merge_cells(f"A{row}:C{row}")
        ws.row_dimensions[row].height = _height(text, sum(INSTRUCTION_WIDTHS), font)
    end = len(lines)
    if native is None:
        top = end + 1  # the troubleshooting table (下表), in the order of addin.selfcheck.CAUSES
        for col, text in zip("ABC", TROUBLESHOOTING_HEADER):
            _cell(ws, f"{col}{top}", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
        for row, cells in enumerate(troubleshooting_rows(), start=top + 1):
            for col, text in zip("ABC", cells):
                _cell(ws, f"{col}{row}", text)
            ws.row_dimensions[row].height = max(_height(t, w, BODY) for t, w in zip(cells, INSTRUCTION_WIDTHS))
        end = top + len(troubleshooting_rows())
        assert end + 1 < SELFCHECK_ROW, "the instructions and the table must fit above the self-check block"
        _cell(ws, f"A{SELFCHECK_ROW - 1}", f"{SELFCHECK_NAME}（按 Alt+F8 运行 JxSelfCheck 后显示在下方）", font=BOLD,
              border=False)
        ws.merge_cells(f"A{SELFCHECK_ROW - 1}:C{SELFCHECK_ROW - 1}")
        for row in range(SELFCHECK_ROW, SELFCHECK_ROW + RESULT_ROWS):
            cell = _cell(ws, f"A{row}", None, font=BODY, align=WRAP, border=False)
            cell.protection = UNLOCKED  # the macro writes here on a protected sheet
            ws.merge_cells(f"A{row}:C{row}")
    ws.protection.sheet = True
    _print_setup(ws, "1:1")
    ws.page_setup.orientation = "portrait"
    ws.print_area = f"A1:C{end}"  # the self-check block is read on screen; an empty one is no page


def _height(text: str, width: float, font: Font) -> float:
    """A row height (points) that shows ``text`` wrapped in a column ``width`` characters wide."""
    size = font.sz or 11
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) * size / 11  # a CJK character is two '0's wide
    lines = max(1, -(-int(units * 1.08) // int(width)))  # a little slack for the cell's padding
    return round(lines * size * 1.45 + 4, 1)


# ------------------------------------------------------------------ 基础数据

def _validation(field: Field, rubric: Rubric) -> DataValidation | None:
    if field.kind == "check":
        words = f'"{rubric.vocabulary.yes[0]},{rubric.vocabulary.no[0]}"'  # the drop-down offers the first pair
        dv = DataValidation(type="list", formula1=words, allow_blank=not field.required)
    elif field.kind == "status":
        dv = DataValidation(type="list", formula1=f'"{",".join(field.options)}"', allow_blank=False)
    elif field.kind == "count":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    elif field.kind == "year":
        dv = DataValidation(type="whole", operator="between", formula1="2000", formula2="2100")
    elif field.kind == "amount":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    elif field.kind in ("rate", "partial", "score") and field.upper is not None:
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{field.upper:g}")
    else:
        return None
    dv.error = f"{field.name}：{field.help}"
    dv.errorTitle = "输入无效"
    dv.prompt = field.help
    dv.showErrorMessage = True
    dv.showInputMessage = True
    return dv


def _help(field: Field, lay: Layout) -> str:
    """The 说明 of an input on 基础数据: its help, and for a weighted check its points."""
    points = _check_points(lay).get(field.name)
    text = field.help + (f"（{points:g} 分）" if points is not None else "")
    return text + ("" if field.required else "（可不填）")


def _check_points(lay: Layout) -> dict[str, float]:
    return {p.input.name: p.points for ind in lay.rubric.indicators for p in ind.parts if isinstance(p, CheckPart)}


def _inputs(ws: Worksheet, lay: Layout, values: Mapping[str, object], written: set) -> None:
    _cell(ws, "A1", "基础数据（浅黄色单元格为填报项，每项为一个命名单元格）", font=TITLE_FONT, border=False,
          align=Alignment(vertical="center"))
    _cell(ws, "C2", FILLED_NAME, font=BOLD, border=False)
    _formula(ws, lay, "D2", written, border=False, align=Alignment(horizontal="left"))
    headers = ("序号", "类别", "名称", "填报值", "单位", "说明")
    for col, text in enumerate(headers, start=1):
        _cell(ws, f"{get_column_letter(col)}3", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    validations: dict[str, DataValidation] = {}
    for i, field in enumerate(lay.fields):
        row = lay.input_rows[field.name]
        _cell(ws, f"A{row}", i + 1, align=CENTER)
        _cell(ws, f"B{row}", field.group)
        _cell(ws, f"C{row}", field.name)
        value = values.get(field.name)
        input_cell = _cell(ws, f"D{row}", value, fill=INPUT_FILL, fmt=NUMBER_FORMATS.get(field.kind))
        input_cell.protection = UNLOCKED
        _cell(ws, f"E{row}", field.unit, align=CENTER)
        _cell(ws, f"F{row}", _help(field, lay))
        dv = _validation(field, lay.rubric)
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

def _title_block(ws: Worksheet, lay: Layout, written: set, title: str, last_col: str) -> None:
    """The official tables' head: title, then 部门名称 and 预算年度 from the inputs."""
    ws.merge_cells(f"A1:{last_col}1")
    _cell(ws, "A1", title, font=TITLE_FONT, align=CENTER, border=False)
    _cell(ws, "A2", "部门（单位）名称", font=BOLD, border=False)
    ws.merge_cells("B2:D2")
    _formula(ws, lay, "B2", written, border=False)
    _cell(ws, "E2", "预算年度", font=BOLD, border=False)
    _formula(ws, lay, "F2", written, border=False, align=Alignment(horizontal="left"))


def _scores(ws: Worksheet, lay: Layout, written: set) -> None:
    rubric = lay.rubric
    _title_block(ws, lay, written, "部门整体支出绩效评分表", "I")
    _cell(ws, "G2", "评分标准版本", font=BOLD, border=False)
    ws.merge_cells("H2:I2")
    _cell(ws, "H2", rubric.id, border=False)
    ws.merge_cells("A3:D3")
    _cell(ws, "A3", "评价指标", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("EFGHI", ("指标说明", "评分标准", "分数", "扣分", "计分函数")):
        ws.merge_cells(f"{col}3:{col}4")
        _cell(ws, f"{col}3", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCD", ("一级指标", "二级指标", "三级指标", "分值")):
        _cell(ws, f"{col}4", text, font=BOLD, fill=HEADER_FILL, align=CENTER)

    names = functions(rubric)
    rows_of: dict[str, list[int]] = {}
    level2_start: tuple[str, str, int] | None = None
    row = lay.scores[0].row
    for score in lay.scores:
        ind = rubric.indicator(score.indicator)
        row = score.row
        rows_of.setdefault(ind.level1, []).append(row)
        level1_max = dict(rubric.level1)[ind.level1]
        _cell(ws, f"A{row}", f"{ind.level1}\n（{level1_max:g}分）", align=CENTER)
        _cell(ws, f"B{row}", ind.level2, align=CENTER)
        _cell(ws, f"C{row}", ind.name, align=CENTER)
        _cell(ws, f"D{row}", ind.max, align=CENTER)
        _cell(ws, f"E{row}", ind.description)
        _cell(ws, f"F{row}", ind.rule_text + (f"\n【口径】{ind.reading}" if ind.reading else ""))
        _formula(ws, lay, f"G{row}", written, font=BOLD, align=CENTER, fmt="0.00")
        _formula(ws, lay, f"H{row}", written, align=CENTER, fmt="0.00")
        used = [ind.function] + [n for n in _nested(score.call) if n != ind.function]
        _cell(ws, f"I{row}", "、".join(n for n in used if n in names), align=CENTER)
        ws.row_dimensions[row].height = max(60, 15 * (ind.rule_text.count("\n") + 2))
        if level2_start and (level2_start[0], level2_start[1]) != (ind.level1, ind.level2):
            if row - 1 > level2_start[2]:
                ws.merge_cells(f"B{level2_start[2]}:B{row - 1}")
            level2_start = None
        if level2_start is None:
            level2_start = (ind.level1, ind.level2, row)
    if level2_start and row > level2_start[2]:
        ws.merge_cells(f"B{level2_start[2]}:B{row}")
    for rows in rows_of.values():
        if len(rows) > 1:
            ws.merge_cells(f"A{rows[0]}:A{rows[-1]}")
    last_indicator_row = row
    row += 1

    # sub-totals, total and grade: "+" (never SUM), so one error poisons the total
    for level1, level1_max in rubric.level1:
        row = lay.subtotal_rows[level1]
        ws.merge_cells(f"A{row}:C{row}")
        _cell(ws, f"A{row}", f"{level1}小计", font=BOLD, align=CENTER)
        _cell(ws, f"D{row}", level1_max, align=CENTER)
        _formula(ws, lay, f"G{row}", written, font=BOLD, align=CENTER, fmt="0.00")
    row = lay.total_row
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "综合评分", font=BOLD, align=CENTER)
    _cell(ws, f"D{row}", rubric.total, align=CENTER)
    _formula(ws, lay, f"G{row}", written, font=BOLD, align=CENTER, fmt="0.00")
    row = lay.grade_row
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "评分等级", font=BOLD, align=CENTER)
    _formula(ws, lay, f"G{row}", written, font=BOLD, align=CENTER)
    row += 1
    _cell(ws, f"A{row}", "填表人", font=BOLD, align=CENTER)
    _formula(ws, lay, f"B{row}", written, align=CENTER)

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

def _exec(ws: Worksheet, lay: Layout, written: set) -> None:
    """One table per schedule part: amounts, rates, schedule, period scores, the average and the score."""
    rubric = lay.rubric
    for table in lay.schedules:
        ind = rubric.indicator(table.indicator)
        part = ind.schedule
        top = table.top
        last = get_column_letter(1 + len(part.periods))
        ws.merge_cells(f"A{top - 2}:{last}{top - 2}")
        _cell(ws, f"A{top - 2}", f"{ind.name}指标", font=TITLE_FONT, align=CENTER, border=False)
        _cell(ws, f"A{top}", "指标", font=BOLD, fill=HEADER_FILL, align=CENTER)
        labels = [*table.arguments, "执行率", "序时进度", f"{part.period_label}执行率得分"]
        for offset, label in enumerate(labels, start=1):
            _cell(ws, f"A{top + offset}", label, font=BOLD)
        for i, period in enumerate(part.periods):
            col = get_column_letter(2 + i)
            _cell(ws, f"{col}{top}", period.name, font=BOLD, fill=HEADER_FILL, align=CENTER)
            for offset in range(1, len(table.arguments) + 1):
                _formula(ws, lay, f"{col}{top + offset}", written, fmt="#,##0.00", align=CENTER)
            if (EXEC, f"{col}{table.rate_row}") in lay.formulas:
                _formula(ws, lay, f"{col}{table.rate_row}", written, fmt="0.00%", align=CENTER)
            _cell(ws, f"{col}{table.schedule_row}", period.schedule, fmt="0%", align=CENTER)
            if part.period_function:
                _formula(ws, lay, f"{col}{table.score_row}", written, fmt="0.00", align=CENTER)
        summary = schedule_summary(table, lay)
        for j, (label, _formula_text) in enumerate(summary):
            row = table.summary_row + j
            _cell(ws, f"A{row}", label, font=BOLD)
            ws.merge_cells(f"B{row}:{last}{row}")
            fmt = "0.00%" if j == 0 and part.average_function else "0.00"
            _formula(ws, lay, f"B{row}", written, fmt=fmt, align=CENTER)
        note_row = table.summary_row + len(summary) + 1
        _cell(ws, f"A{note_row}", f"{ind.name}：{ind.summary}。" + (f"口径：{ind.reading}" if ind.reading else ""),
              border=False)
        ws.merge_cells(f"A{note_row}:{last}{note_row + 1}")
    _widths(ws, (26, 18, 18, 18, 18))
    ws.protection.sheet = True
    _print_setup(ws, "1:1")


def _nested(call) -> list[str]:
    from .layout import Call

    out = [call.function]
    for a in call.args:
        if isinstance(a, Call):
            out += _nested(a)
    return out


# ------------------------------------------------------------------ 自评表

def _self_evaluation(ws: Worksheet, lay: Layout, filled: Filled, written: set) -> None:
    """自评表: 年度主要任务完成情况, then 年度总体目标完成情况 (the targets have their own sheet)."""
    _title_block(ws, lay, written, "部门（单位）整体支出绩效目标完成情况自评表", "G")
    first, last = lay.tasks
    ws.merge_cells(f"A{first - 2}:G{first - 2}")
    _cell(ws, f"A{first - 2}", "年度主要任务完成情况", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCDEFG", ("任务名称", "完成情况", "预算数（元）全额", "其中：财政拨款",
                                    "执行数（元）全额", "其中：财政拨款", "执行率")):
        _cell(ws, f"{col}{first - 1}", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    for i in range(TASK_ROWS):
        row = first + i
        task = filled.tasks[i] if i < len(filled.tasks) else {}
        for col, key, fmt in (("A", "name", None), ("B", "status", None), ("C", "budget", "#,##0.00"),
                              ("D", "budget_fiscal", "#,##0.00"), ("E", "spent", "#,##0.00"),
                              ("F", "spent_fiscal", "#,##0.00")):
            cell = _cell(ws, f"{col}{row}", task.get(key), fill=INPUT_FILL, fmt=fmt)
            cell.protection = UNLOCKED
        _formula(ws, lay, f"G{row}", written, fmt="0.00%", align=CENTER)
    total_row = last + 1
    _cell(ws, f"A{total_row}", "金额合计", font=BOLD, align=CENTER)
    for col in "CDEF":
        _formula(ws, lay, f"{col}{total_row}", written, font=BOLD, fmt="#,##0.00")
    _formula(ws, lay, f"G{total_row}", written, fmt="0.00%", align=CENTER)

    goal_sheet, goal_ref = lay.names["年度总体目标"]
    goal_row = int(goal_ref.split("$")[-1])
    ws.merge_cells(f"A{goal_row - 2}:G{goal_row - 2}")
    _cell(ws, f"A{goal_row - 2}", "年度总体目标完成情况", font=BOLD, fill=HEADER_FILL, align=CENTER)
    ws.merge_cells(f"A{goal_row - 1}:C{goal_row - 1}")
    _cell(ws, f"A{goal_row - 1}", "预期目标", font=BOLD, fill=HEADER_FILL, align=CENTER)
    ws.merge_cells(f"D{goal_row - 1}:G{goal_row - 1}")
    _cell(ws, f"D{goal_row - 1}", "目标实际完成情况", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for first_col, last_col, name in (("A", "C", "年度总体目标"), ("D", "G", "总体目标完成情况")):
        ws.merge_cells(f"{first_col}{goal_row}:{last_col}{goal_row}")
        cell = _cell(ws, f"{first_col}{goal_row}", filled.texts.get(name), fill=INPUT_FILL,
                     align=Alignment(wrap_text=True, vertical="top"))
        cell.protection = UNLOCKED
    ws.row_dimensions[goal_row].height = 120
    _widths(ws, (18, 40, 18, 18, 18, 16, 12))
    ws.protection.sheet = True
    _print_setup(ws, "1:2")


def _targets(ws: Worksheet, lay: Layout, filled: Filled, written: set) -> None:
    """绩效指标: 年度绩效指标完成情况, its header repeated on every printed page."""
    _title_block(ws, lay, written, "年度绩效指标完成情况", "F")
    first, last = lay.targets
    for col, text in zip("ABCDEF", ("一级指标", "二级指标", "三级指标", "预期指标值", "实际完成值", "是否达成")):
        _cell(ws, f"{col}{first - 1}", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    _cell(ws, f"G{first - 1}", "判定（JX_TARGET_MET）", font=BOLD, fill=HEADER_FILL, align=CENTER)
    for i in range(TARGET_ROWS):
        row = first + i
        target = filled.targets[i] if i < len(filled.targets) else {}
        for col, key in (("A", "level1"), ("B", "level2"), ("C", "name"), ("D", "target"), ("E", "actual")):
            cell = _cell(ws, f"{col}{row}", target.get(key), fill=INPUT_FILL)
            cell.protection = UNLOCKED
        _formula(ws, lay, f"F{row}", written, align=CENTER)
        _formula(ws, lay, f"G{row}", written, align=CENTER)
    summary = last + 1
    _cell(ws, f"A{summary}", "已填指标数", font=BOLD)
    _formula(ws, lay, f"B{summary}", written, align=CENTER)
    _cell(ws, f"C{summary}", "未达成指标数", font=BOLD)
    _formula(ws, lay, f"D{summary}", written, align=CENTER)
    _cell(ws, f"E{summary}", "无法判定指标数", font=BOLD)
    _formula(ws, lay, f"F{summary}", written, align=CENTER)
    ws.conditional_formatting.add(f"F{first}:F{last}", FormulaRule(formula=[f'F{first}="未达成"'], fill=DEDUCTION_FILL))
    ws.conditional_formatting.add(f"F{first}:F{last}",
                                  FormulaRule(formula=[f'LEFT(F{first},4)="无法判定"'], fill=ERROR_FILL))
    ws.column_dimensions["G"].hidden = True
    _widths(ws, (14, 16, 34, 18, 18, 22, 14))
    ws.protection.sheet = True
    _print_setup(ws, f"1:{first - 1}")


def _texts(ws: Worksheet, lay: Layout, texts: Mapping[str, str]) -> None:
    """报告文字: the department's own words for the 自评报告, each an optional named cell."""
    _cell(ws, "A1", "报告文字（jx report 起草自评报告时使用；可不填，不填的部分在报告中留出待填写标记）",
          font=TITLE_FONT, border=False, align=Alignment(vertical="center"))
    for col, text in zip("ABC", ("报告中的位置", "内容", "填写")):
        _cell(ws, f"{col}3", text, font=BOLD, fill=HEADER_FILL, align=CENTER)
    for i, text in enumerate(lay.texts):
        row = TEXT_FIRST_ROW + i
        _cell(ws, f"A{row}", text.section)
        _cell(ws, f"B{row}", text.help)
        cell = _cell(ws, f"C{row}", texts.get(text.name), fill=INPUT_FILL, align=Alignment(wrap_text=True, vertical="top"))
        cell.protection = UNLOCKED
    _widths(ws, (30, 34, 90))
    ws.freeze_panes = f"A{TEXT_FIRST_ROW}"
    ws.protection.sheet = True
    _print_setup(ws, "3:3")


def _conf(ws: Worksheet) -> None:
    for row, (key, value) in enumerate(XLWINGS_CONF, start=1):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=value)
    ws.sheet_state = "hidden"


# ------------------------------------------------------------------ assemble

def build_workbook(filled: Filled | None, rubric: Rubric) -> Workbook:
    """The template of ``rubric`` as an openpyxl workbook (no VBA yet); ``filled`` pre-fills inputs."""
    lay = layout(rubric)
    filled = filled or Filled(values={})
    unknown = set(filled.values) - {f.name for f in lay.fields}
    unknown |= set(filled.texts) - {t.name for t in lay.texts} - {"年度总体目标", "总体目标完成情况"}
    if unknown:
        raise ValueError(f"未知的输入项：{'、'.join(sorted(unknown))}")
    wb = Workbook()
    wb.remove(wb.active)
    for title, code_name in lay.sheets:
        ws = wb.create_sheet(title)
        ws.sheet_properties.codeName = code_name
    wb.code_name = "ThisWorkbook"
    written: set = set()
    instructions(wb[INSTRUCTIONS], rubric)
    _inputs(wb[INPUT_SHEET], lay, filled.values, written)
    _scores(wb[SCORE_SHEET], lay, written)
    if EXEC_SHEET in wb.sheetnames:
        _exec(wb[EXEC_SHEET], lay, written)
    _self_evaluation(wb[SELF_SHEET], lay, filled, written)
    _targets(wb[TARGETS], lay, filled, written)
    _texts(wb[TEXTS], lay, filled.texts)
    _conf(wb[CONF])
    missing = set(lay.formulas) - written
    if missing:  # the layout and the builder are one: a formula the layout defines is never left out
        raise AssertionError(f"formulas of the layout not written: {sorted(missing)[:5]}")
    _define_all(wb, lay)
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


def workbook_bytes(filled: Filled | None, rubric: Rubric, vba: bytes | None = None) -> bytes:
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


def build(path: Path, filled: Filled | None = None, *, rubric: Rubric) -> Path:
    """Write the template of ``rubric`` (or a filled copy) with its VBA project, atomically."""
    from .vba_parts import vba_project

    write_atomically(path, workbook_bytes(filled, rubric, vba_project(rubric)))
    return path
