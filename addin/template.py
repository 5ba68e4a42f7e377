"""Build workbook_template.xlsm from code and the rubric data.

The template is never edited by hand: ``jx template`` rebuilds it, and a test
fails when the committed file differs from a fresh build. The same builder,
given the reference inputs, writes the filled example in ``examples/``.

Sheets (the official tables of the report, in Chinese):
填报说明, 基础数据 (every input as one named cell), 评分表 (every 分数 a JX
formula), 预算执行 (the quarterly table), 自评表 (tasks and the overall goal),
绩效指标 (the targets), 报告文字 (the report's own words), and the hidden
``xlwings.conf``. Each table prints like the official one: A4 landscape at
full size, rows as tall as their text, its head on every page, no pages of
empty input rows, nothing shown in a blank template's computed cells. Its
VBA project carries xlwings' standalone module, the generated
``xlwings_udfs`` wrappers and ``jx_register``, which gives the Function
Wizard the Chinese descriptions when the workbook opens.
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
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from jx.functions import functions
from jx.rubric import Rubric
from jx.shapes import CheckPart, SchedulePart

from .atomic import write_atomically
from .layout import (CONF, EDITION_NAME, EXEC, FILLED_NAME, INPUTS, INSTRUCTIONS, MET_WORD, MISSED_WORD, SCORES,
                     SELF, SELFCHECK_NAME, SELFCHECK_ROW, TARGETS, TARGET_RANGES, TASK_RANGES, TASK_ROWS,
                     TARGET_ROWS, TEXT_FIRST_ROW, TEXTS,
                     UNJUDGED_WORD, Field, Layout, layout, schedule_summary, score_name, target_formula)

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
NORMAL_FONT = Font(name="宋体", size=11, charset=134)
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


# ------------------------------------------------------------------ printing like the official tables
#
# Every table sheet prints on A4 landscape at full size: its columns add up to at most PRINT_UNITS
# width units, so "fit to one page wide" never shrinks the 10-point body. A width unit is the digit
# of the workbook's Normal font, 宋体 11 as in Chinese Excel: 8 px = 6 pt in Excel and WPS, about
# 6.15 pt in LibreOffice, so 126 units fill the 784 pt between 0.4-inch margins in all three.
# Neither LibreOffice nor Excel grows a row that a file gives a height, and LibreOffice does not
# fit the rows of an openpyxl file on loading: every row with text gets the height its wrapped
# text needs, computed from the text, the font size and the (merged) column width.

PRINT_UNITS = 126  # the widest a landscape table may be (width units)
SIDE_MARGIN, TOP_MARGIN, FOOTER_MARGIN = 0.4, 0.6, 0.3  # inches
FOOTER = "&A　第 &P 页"  # the sheet's name and its own page number
UNIT_POINTS = 6.0  # a width unit in Excel (宋体 11's digit, 8 px; LibreOffice's is a little wider)
CELL_PADDING = 3.75  # points of a column's width that text never uses
LINE_PITCH = 1.45  # line height ÷ font size (Noto CJK, what LibreOffice draws 宋体 with; 宋体 needs less)
ROW_PADDING = 6.0  # points above and below the lines, together
MAX_ROW_HEIGHT = 409.0  # Excel's tallest row
DEFAULT_ROW_HEIGHT = 15.0  # a row without a height of its own (openpyxl's sheet default)
A4_HEIGHT = 595.3  # points, landscape
PAGE_SLACK = 3.0  # points of a page the builder's page breaks leave unused
HEAD = Font(name="宋体", size=10, bold=True)  # column heads and labels of the tables
CODE = Font(name="宋体", size=9)  # the 计分函数 column: most function names fit on one line
# The tables' columns (width units): 评分表 A–I, 自评表 A–G, 绩效指标 A–G (G hidden), 报告文字 A–C
SCORE_WIDTHS = (11, 8, 10, 5, 22, 50, 7, 13, 22)  # I (计分函数) is read on screen, not printed
SELF_WIDTHS = (16, 38, 16, 16, 16, 16, 8)
TARGET_WIDTHS = (12, 16, 38, 22, 22, 16, 14)
TEXT_WIDTHS = (16, 28, 82)  # 报告文字 A–C
_OPENING = "（《「『【〈“‘([{"
_CLOSING = "，。、；：？！）》」』】〉”’,.;:?!)]}%％"
# Until an input is entered (已填写项数=0) a computed cell shows nothing: numbers and texts get
# the empty format, errors (which no format can change) a white font. No 0, no wall of #VALUE!.
BLANK_FORMAT = NumberFormat(numFmtId=300, formatCode=";;;")
BLANK_STYLE = DifferentialStyle(font=Font(color="FFFFFFFF"), numFmt=BLANK_FORMAT)
NO_ZERO = "#,##0.00;-#,##0.00;;@"  # a sum of no amounts shows nothing


# ------------------------------------------------------------------ the print areas of the growing tables
#
# 自评表's task rows and 绩效指标's target rows print as far as they are filled, never fewer than a blank
# template's page of them. Two faces set these areas: the builder, from the rows it writes, and, before
# Excel prints, the template's Workbook_BeforePrint (addin.vba_parts.print_source: the jx_print module),
# from the rows the user typed. The macro is generated from PRINT_TABLES: the same names, input columns,
# minimums and area shapes; it only finds the last filled row and fills in the numbers, as print_area does.

BLANK_TASK_ROWS, BLANK_TARGET_ROWS = 10, 25  # the rows the blank template prints (one page each)


@dataclass(frozen=True)
class PrintTable:
    """How one growing table prints. In ``areas`` and ``whole``: ``{last}`` is the last table row printed,
    ``{total}`` the row after the table, ``{goal}`` the row of ``goal_name`` (the last one printed)."""

    sheet: str
    rows_name: str  # a defined name spanning exactly the table's rows (it grows when rows are inserted inside)
    inputs: int  # the input columns, A onwards: a row with anything in them is filled
    blank_rows: int  # the fewest table rows printed: a blank template prints its empty form
    areas: tuple[str, ...]  # the print area while rows of the table are left out
    whole: tuple[str, ...]  # the print area when every row of the table prints
    goal_name: str | None = None


# 自评表: the task rows printed, then 金额合计 and 年度总体目标完成情况 (columns A–G; inputs A–F)
TASK_PRINT = PrintTable(SELF, TASK_RANGES[0], 6, BLANK_TASK_ROWS, ("A1:G{last}", "A{total}:G{goal}"),
                        ("A1:G{goal}",), "年度总体目标")
# 绩效指标: the target rows printed (columns A–F, G hidden; inputs A–E); the counts below are read on screen
TARGET_PRINT = PrintTable(TARGETS, TARGET_RANGES[0], 5, BLANK_TARGET_ROWS, ("A1:F{last}",), ("A1:F{last}",))
PRINT_TABLES = (TASK_PRINT, TARGET_PRINT)


def print_area(table: PrintTable, first: int, filled: int, total: int, goal: int = 0) -> list[str]:
    """The print area of ``table``, whose rows are ``first`` to ``total - 1``, filled up to row ``filled``
    (``first - 1``: none filled); ``goal``: the row of its goal_name. The macro computes the same."""
    last = min(total - 1, max(filled, first + table.blank_rows - 1))
    shape = table.whole if last == total - 1 else table.areas
    return [a.replace("{last}", str(last)).replace("{total}", str(total)).replace("{goal}", str(goal)) for a in shape]


def _last_filled(ws: Worksheet, first: int, last: int, inputs: int) -> int:
    """The last of rows ``first``…``last`` with anything in columns 1…``inputs`` (``first - 1``: none)."""
    for row in range(last, first - 1, -1):
        if any(ws.cell(row=row, column=col).value not in (None, "") for col in range(1, inputs + 1)):
            return row
    return first - 1


def _blank_until_filled(ws: Worksheet, ranges: Sequence[str]) -> None:
    """Hide what the cells show while the template is blank (add before the ranges' other rules)."""
    for cells in ranges:
        ws.conditional_formatting.add(cells, Rule(type="expression", formula=[f"{FILLED_NAME}=0"], dxf=BLANK_STYLE,
                                                  stopIfTrue=True))


def _page(ws: Worksheet, title_rows: str, area: Sequence[str] | str | None = None) -> None:
    """A4 landscape, one page wide, the title rows on every page, the sheet's name and page in the footer."""
    _print_setup(ws, title_rows)
    margins = ws.page_margins
    margins.left = margins.right = SIDE_MARGIN
    margins.top = margins.bottom = TOP_MARGIN
    margins.header = margins.footer = FOOTER_MARGIN
    ws.oddFooter.center.text = FOOTER
    ws.oddFooter.center.font = "宋体"  # &"宋体": a font name alone is valid (its style then the regular)
    ws.oddFooter.center.size = 10
    ws.page_setup.firstPageNumber = 1
    ws.page_setup.useFirstPageNumber = True
    last = ws.max_column
    if area:
        ws.print_area = area
        last = max(range_boundaries(a)[2] for a in ([area] if isinstance(area, str) else area))
    units = sum(_column_width(ws, col) for col in range(1, last + 1)
                if not ws.column_dimensions[get_column_letter(col)].hidden)
    assert units <= PRINT_UNITS, f"{ws.title}: {units:g} width units print below 10 pt"


def _column_width(ws: Worksheet, col: int) -> float:
    dimension = ws.column_dimensions.get(get_column_letter(col))
    return dimension.width if dimension is not None and dimension.width else 8.43


def _char_em(ch: str) -> float:
    """A character's advance in ems: CJK and full-width 1, ASCII as wide as 宋体's or Noto's, whichever is wider."""
    if ord(ch) > 0x7F:
        return 1.0
    return 0.72 if ch.isupper() else 0.6


def _units(paragraph: str) -> list[str]:
    """The paragraph cut where a line may break: after a space or a CJK character, not before closing
    punctuation, not after opening punctuation, never inside a run of ASCII letters and digits."""
    out: list[str] = []
    for ch in paragraph:
        if out:
            prev = out[-1][-1]
            joined = (ch in _CLOSING or prev in _OPENING
                      or (ord(ch) <= 0x7F and ord(prev) <= 0x7F and not prev.isspace() and not ch.isspace()))
            if joined:
                out[-1] += ch
                continue
        out.append(ch)
    return out


def _line_count(paragraph: str, width_em: float) -> int:
    """How many lines a paragraph takes in a line ``width_em`` ems wide (greedy, as both applications wrap)."""
    lines, used = 1, 0.0
    for unit in _units(paragraph):
        width = sum(_char_em(ch) for ch in unit)
        if used + width <= width_em or (unit.isspace() and used):
            used += width
        elif width <= width_em:
            lines, used = lines + 1, width
        else:  # longer than a line: broken at characters
            for ch in unit:
                w = _char_em(ch)
                if used + w > width_em and used:
                    lines, used = lines + 1, 0.0
                used += w
    return lines


def _text_height(text: str, width: float, size: float = 11) -> float:
    """The row height (points) that shows ``text`` wrapped in ``width`` width units at ``size`` points."""
    width_em = max(1.0, (width * UNIT_POINTS - CELL_PADDING) * 0.98 / size)
    lines = sum(_line_count(p, width_em) for p in str(text).split("\n"))
    return min(MAX_ROW_HEIGHT, round(lines * size * LINE_PITCH + ROW_PADDING + 0.049, 1))


def _shown_value(cell) -> str | None:
    """What a cell shows, when the builder knows it (a formula's result it does not)."""
    value = cell.value
    if value is None or (isinstance(value, str) and value.startswith("=")):
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, (int, float)):
        return f"{value:,.2f}" if "0.00" in (cell.number_format or "") else f"{value:g}"
    return str(value)


def _fit_rows(ws: Worksheet, rows, shown: Mapping[str, str] | None = None) -> None:
    """Give each row of ``rows`` that holds text the height its wrapped text needs.

    A cell merged across columns wraps in their total width; one merged
    across rows may spread over their heights. ``shown``: what formula
    cells will show, by coordinate, where the builder knows it. A row with
    nothing but empty input cells and formulas keeps no height of its own
    (Excel fits it to what the user types).
    """
    shown = shown or {}
    rows = list(rows)
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        spans[(merged.min_row, merged.min_col)] = merged.bounds
        covered |= {(r, c) for r in range(merged.min_row, merged.max_row + 1)
                    for c in range(merged.min_col, merged.max_col + 1)} - {(merged.min_row, merged.min_col)}
    hidden = {col for col in range(1, ws.max_column + 1) if ws.column_dimensions[get_column_letter(col)].hidden}
    heights: dict[int, float] = {}
    tall: list[tuple[int, int, float]] = []
    wanted = set(rows)
    for (row, col), cell in sorted(ws._cells.items()):  # the cells there are (ws[row] would add empty ones)
        if row in wanted:
            if (row, col) in covered or col in hidden:
                continue
            text = shown.get(cell.coordinate, _shown_value(cell))
            if text is None or text == "":
                continue
            min_col, min_row, max_col, max_row = spans.get((row, col), (col, row, col, row))
            width = sum(_column_width(ws, c) for c in range(min_col, max_col + 1) if c not in hidden)
            if not cell.alignment.wrap_text:  # one line (a title runs on over the empty cells to its right)
                width = 10 * PRINT_UNITS
            need = _text_height(text, width, cell.font.sz or 11)
            if max_row > min_row:
                tall.append((min_row, max_row, need))
            else:
                heights[row] = max(heights.get(row, 0), need)
    for first, last, need in tall:  # a cell merged down: its rows together are tall enough
        span = range(first, last + 1)
        have = sum(heights.get(r, ws.row_dimensions[r].height or DEFAULT_ROW_HEIGHT) for r in span)
        if have < need:
            for r in span:
                height = heights.get(r, ws.row_dimensions[r].height or DEFAULT_ROW_HEIGHT)
                heights[r] = round(height + (need - have) / len(span) + 0.05, 1)
    for row, height in heights.items():
        ws.row_dimensions[row].height = min(MAX_ROW_HEIGHT, height)


# ------------------------------------------------------------------ 填报说明

INSTRUCTION_WIDTHS = (20, 28, 30)  # on a portrait page: the body prints at 10 pt  # 填报说明's three columns: the texts span them, the troubleshooting table fills them


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
    _cell(ws, "C2", FILLED_NAME, font=HEAD, border=False)
    _formula(ws, lay, "D2", written, border=False, align=Alignment(horizontal="left"))
    headers = ("序号", "类别", "名称", "填报值", "单位", "说明")
    for col, text in enumerate(headers, start=1):
        _cell(ws, f"{get_column_letter(col)}3", text, font=HEAD, fill=HEADER_FILL, align=CENTER)
    vocabulary = lay.rubric.vocabulary
    validations: dict[str, DataValidation] = {}
    for i, field in enumerate(lay.fields):
        row = lay.input_rows[field.name]
        _cell(ws, f"A{row}", i + 1, align=CENTER)
        _cell(ws, f"B{row}", field.group)
        _cell(ws, f"C{row}", field.name)
        value = values.get(field.name)
        if field.kind == "check" and isinstance(value, bool):  # shown as the drop-down offers it, not TRUE/FALSE
            value = vocabulary.yes[0] if value else vocabulary.no[0]
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
    _widths(ws, (5, 16, 20, 18, 6, 61))
    _blank_until_filled(ws, ["D2"])
    ws.freeze_panes = "A4"
    ws.protection.sheet = True
    _fit_rows(ws, range(1, ws.max_row + 1))
    _page(ws, "3:3")


# ------------------------------------------------------------------ 评分表

def _title_block(ws: Worksheet, lay: Layout, written: set, title: str, last_col: str, width: float) -> None:
    """The official tables' head: title, then 部门名称 and 预算年度 from the inputs (column A ``width`` wide)."""
    ws.merge_cells(f"A1:{last_col}1")
    _cell(ws, "A1", title, font=TITLE_FONT, align=CENTER, border=False)
    label = "部门（单位）名称"
    if _text_height(label, width, HEAD.sz) > _text_height("部", width, HEAD.sz):  # two lines: broken after the brackets
        label = "部门（单位）\n名称"
    _cell(ws, "A2", label, font=HEAD, border=False)
    ws.merge_cells("B2:D2")
    _formula(ws, lay, "B2", written, border=False)
    _cell(ws, "E2", "预算年度", font=HEAD, border=False)
    _formula(ws, lay, "F2", written, border=False, align=Alignment(horizontal="left", vertical="center"))


def _head_shown(filled: Filled) -> dict[str, str]:
    """What the head's two formulas show: the department's name and the year, as filled in."""
    return {ref: str(filled.values[name]) for ref, name in (("B2", "部门名称"), ("F2", "预算年度"))
            if filled.values.get(name) not in (None, "")}


def _scores(ws: Worksheet, lay: Layout, written: set, filled: Filled) -> None:
    rubric = lay.rubric
    _title_block(ws, lay, written, "部门整体支出绩效评分表", "H", SCORE_WIDTHS[0])
    _cell(ws, "G2", "评分标准版本", font=HEAD, border=False)
    _cell(ws, "H2", rubric.id, font=CODE, border=False)
    ws.merge_cells("A3:D3")
    _cell(ws, "A3", "评价指标", font=HEAD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("EFGHI", ("指标说明", "评分标准", "分数", "扣分", "计分函数")):
        ws.merge_cells(f"{col}3:{col}4")
        _cell(ws, f"{col}3", text, font=HEAD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCD", ("一级指标", "二级指标", "三级指标", "分值")):
        _cell(ws, f"{col}4", text, font=HEAD, fill=HEADER_FILL, align=CENTER)

    names = functions(rubric)
    groups: dict[str, list[list[int]]] = {"A": [], "B": []}  # the rows of each 一级指标 and 二级指标
    row = lay.scores[0].row
    previous: tuple[str, str] | None = None
    for score in lay.scores:
        ind = rubric.indicator(score.indicator)
        row = score.row
        if previous is None or previous[0] != ind.level1:
            groups["A"].append([])
        if previous != (ind.level1, ind.level2):
            groups["B"].append([])
        groups["A"][-1].append(row)
        groups["B"][-1].append(row)
        previous = (ind.level1, ind.level2)
        level1_max = dict(rubric.level1)[ind.level1]
        _cell(ws, f"A{row}", f"{ind.level1}\n（{level1_max:g}分）", align=CENTER)
        _cell(ws, f"B{row}", ind.level2, align=CENTER)
        _cell(ws, f"C{row}", ind.name, align=CENTER)
        _cell(ws, f"D{row}", ind.max, align=CENTER)
        _cell(ws, f"E{row}", ind.description)
        _cell(ws, f"F{row}", ind.rule_text + (f"\n【口径】{ind.reading}" if ind.reading else ""))
        _formula(ws, lay, f"G{row}", written, font=HEAD, align=CENTER, fmt="0.00")
        _formula(ws, lay, f"H{row}", written, align=CENTER, fmt="0.00")
        used = [ind.function] + [n for n in _nested(score.call) if n != ind.function]
        _cell(ws, f"I{row}", "\n".join(n for n in used if n in names), font=CODE, align=CENTER)  # one a line
    last_indicator_row = row
    row += 1

    # sub-totals, total and grade: "+" (never SUM), so one error poisons the total
    for level1, level1_max in rubric.level1:
        row = lay.subtotal_rows[level1]
        ws.merge_cells(f"A{row}:C{row}")
        _cell(ws, f"A{row}", f"{level1}小计", font=HEAD, align=CENTER)
        _cell(ws, f"D{row}", level1_max, align=CENTER)
        _formula(ws, lay, f"G{row}", written, font=HEAD, align=CENTER, fmt="0.00")
    row = lay.total_row
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "综合评分", font=HEAD, align=CENTER)
    _cell(ws, f"D{row}", rubric.total, align=CENTER)
    _formula(ws, lay, f"G{row}", written, font=HEAD, align=CENTER, fmt="0.00")
    row = lay.grade_row
    ws.merge_cells(f"A{row}:C{row}")
    _cell(ws, f"A{row}", "评分等级", font=HEAD, align=CENTER)
    _formula(ws, lay, f"G{row}", written, font=HEAD, align=CENTER)
    for r in range(lay.subtotal_rows[rubric.level1[0][0]], lay.grade_row + 1):  # the rows' empty cells framed too
        for col in "DEFH":
            if ws[f"{col}{r}"].value is None:
                _cell(ws, f"{col}{r}")
    row += 1
    _cell(ws, f"A{row}", "填表人", font=HEAD, align=CENTER)
    ws.merge_cells(f"B{row}:D{row}")
    _formula(ws, lay, f"B{row}", written, align=CENTER)

    # nothing shows while the template is blank; then a deduction is highlighted, an error is red
    scores = f"G5:G{last_indicator_row}"
    totals = f"G{last_indicator_row + 1}:G{row - 1}"
    _blank_until_filled(ws, [scores, totals])
    ws.conditional_formatting.add(scores, FormulaRule(formula=["NOT(ISNUMBER(G5))"], fill=ERROR_FILL, stopIfTrue=True))
    ws.conditional_formatting.add(scores, FormulaRule(formula=["AND(ISNUMBER(G5),G5<D5)"], fill=DEDUCTION_FILL))
    ws.conditional_formatting.add(totals, FormulaRule(formula=[f"ISERROR(G{last_indicator_row + 1})"], fill=ERROR_FILL))
    _widths(ws, SCORE_WIDTHS)
    ws.freeze_panes = "A5"
    ws.protection.sheet = True
    _fit_rows(ws, range(1, row + 1), _head_shown(filled))
    # The pages break where the builder says (the rows' heights are fixed, so both applications agree),
    # and an 一级指标 or 二级指标 cell is merged down to the end of its page: on the next page it
    # starts again, under the repeated head, instead of running under it.
    breaks = _page_breaks(ws, row, (3, 4))
    for col, runs in groups.items():
        for rows in runs:
            for part in _split(rows, breaks):
                if len(part) > 1:
                    ws.merge_cells(f"{col}{part[0]}:{col}{part[-1]}")
    # Printed: the official table's columns and 扣分; which functions compute a score is read on screen
    _page(ws, "3:4", f"A1:H{row}")


def _split(rows: list[int], breaks: Sequence[int]) -> list[list[int]]:
    """``rows`` cut after each page break (a break after row n)."""
    parts: list[list[int]] = [[]]
    for row in rows:
        if parts[-1] and parts[-1][-1] in breaks:
            parts.append([])
        parts[-1].append(row)
    return parts


def _page_breaks(ws: Worksheet, last: int, repeat: tuple[int, int]) -> list[int]:
    """Break the pages of rows 1–``last`` by their heights, the ``repeat`` rows atop every later page."""
    usable = A4_HEIGHT - 2 * TOP_MARGIN * 72 - PAGE_SLACK
    head = sum(ws.row_dimensions[r].height or DEFAULT_ROW_HEIGHT for r in range(repeat[0], repeat[1] + 1))
    breaks: list[int] = []
    used = 0.0
    for row in range(1, last + 1):
        height = ws.row_dimensions[row].height or DEFAULT_ROW_HEIGHT
        if used + height > usable and row > repeat[1] + 1:
            breaks.append(row - 1)
            ws.row_breaks.append(Break(id=row - 1))
            used = head
        used += height
    return breaks


# ------------------------------------------------------------------ 预算执行

def _exec(ws: Worksheet, lay: Layout, written: set) -> None:
    """One table per schedule part: amounts, rates, schedule, period scores, the average and the score."""
    rubric = lay.rubric
    computed: list[str] = []
    for table in lay.schedules:
        ind = rubric.indicator(table.indicator)
        part = ind.schedule
        top = table.top
        last = get_column_letter(1 + len(part.periods))
        ws.merge_cells(f"A{top - 2}:{last}{top - 2}")
        _cell(ws, f"A{top - 2}", f"{ind.name}指标", font=TITLE_FONT, align=CENTER, border=False)
        _cell(ws, f"A{top}", "指标", font=HEAD, fill=HEADER_FILL, align=CENTER)
        labels = [*table.arguments, "执行率", "序时进度", f"{part.period_label}执行率得分"]
        for offset, label in enumerate(labels, start=1):
            _cell(ws, f"A{top + offset}", label, font=HEAD)
        for i, period in enumerate(part.periods):
            col = get_column_letter(2 + i)
            _cell(ws, f"{col}{top}", period.name, font=HEAD, fill=HEADER_FILL, align=CENTER)
            for offset in range(1, len(table.arguments) + 1):
                _formula(ws, lay, f"{col}{top + offset}", written, fmt="#,##0.00", align=CENTER)
            if (EXEC, f"{col}{table.rate_row}") in lay.formulas:
                _formula(ws, lay, f"{col}{table.rate_row}", written, fmt="0.00%", align=CENTER)
            _cell(ws, f"{col}{table.schedule_row}", period.schedule, fmt="0%", align=CENTER)
            if part.period_function:
                _formula(ws, lay, f"{col}{table.score_row}", written, fmt="0.00", align=CENTER)
        computed += [f"B{table.rate_row}:{last}{table.rate_row}", f"B{table.score_row}:{last}{table.score_row}"]
        summary = schedule_summary(table, lay)
        for j, (label, _formula_text) in enumerate(summary):
            row = table.summary_row + j
            _cell(ws, f"A{row}", label, font=HEAD)
            ws.merge_cells(f"B{row}:{last}{row}")
            fmt = "0.00%" if j == 0 and part.average_function else "0.00"
            _formula(ws, lay, f"B{row}", written, fmt=fmt, align=CENTER)
        computed.append(f"B{table.summary_row}:B{table.summary_row + len(summary) - 1}")
        note_row = table.summary_row + len(summary) + 1
        _cell(ws, f"A{note_row}", f"{ind.name}：{ind.summary}。" + (f"口径：{ind.reading}" if ind.reading else ""),
              border=False)
        ws.merge_cells(f"A{note_row}:{last}{note_row + 1}")
    _blank_until_filled(ws, computed)
    _widths(ws, (24, 18, 18, 18, 18))
    ws.protection.sheet = True
    _fit_rows(ws, range(1, ws.max_row + 1))
    _page(ws, "1:1")


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
    _title_block(ws, lay, written, "部门（单位）整体支出绩效目标完成情况自评表", "G", SELF_WIDTHS[0])
    first, last = lay.tasks
    ws.merge_cells(f"A{first - 2}:G{first - 2}")
    _cell(ws, f"A{first - 2}", "年度主要任务完成情况", font=HEAD, fill=HEADER_FILL, align=CENTER)
    for col, text in zip("ABCDEFG", ("任务名称", "完成情况", "预算数（元）全额", "其中：财政拨款",
                                    "执行数（元）全额", "其中：财政拨款", "执行率")):
        _cell(ws, f"{col}{first - 1}", text, font=HEAD, fill=HEADER_FILL, align=CENTER)
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
    _cell(ws, f"A{total_row}", "金额合计", font=HEAD, align=CENTER)
    for col in "CDEF":
        _formula(ws, lay, f"{col}{total_row}", written, font=HEAD, fmt=NO_ZERO)
    _formula(ws, lay, f"G{total_row}", written, fmt="0.00%", align=CENTER)

    goal_sheet, goal_ref = lay.names["年度总体目标"]
    goal_row = int(goal_ref.split("$")[-1])
    ws.merge_cells(f"A{goal_row - 2}:G{goal_row - 2}")
    _cell(ws, f"A{goal_row - 2}", "年度总体目标完成情况", font=HEAD, fill=HEADER_FILL, align=CENTER)
    ws.merge_cells(f"A{goal_row - 1}:C{goal_row - 1}")
    _cell(ws, f"A{goal_row - 1}", "预期目标", font=HEAD, fill=HEADER_FILL, align=CENTER)
    ws.merge_cells(f"D{goal_row - 1}:G{goal_row - 1}")
    _cell(ws, f"D{goal_row - 1}", "目标实际完成情况", font=HEAD, fill=HEADER_FILL, align=CENTER)
    for first_col, last_col, name in (("A", "C", "年度总体目标"), ("D", "G", "总体目标完成情况")):
        ws.merge_cells(f"{first_col}{goal_row}:{last_col}{goal_row}")
        cell = _cell(ws, f"{first_col}{goal_row}", filled.texts.get(name), fill=INPUT_FILL,
                     align=Alignment(wrap_text=True, vertical="top"))
        cell.protection = UNLOCKED
    _widths(ws, SELF_WIDTHS)
    ws.protection.sheet = True
    _fit_rows(ws, range(1, ws.max_row + 1), _head_shown(filled))
    ws.row_dimensions[goal_row].height = max(120, ws.row_dimensions[goal_row].height or 0)  # room to write
    # Printed: the filled task rows (the blank template: a page of them), then the total and the overall goal
    area = print_area(TASK_PRINT, first, _last_filled(ws, first, last, TASK_PRINT.inputs), total_row, goal_row)
    _page(ws, f"1:{first - 1}", area)


def _verdict(target: Mapping[str, object], rubric: Rubric) -> str | None:
    """What 是否达成 will show for a filled target row (its height must hold it)."""
    from jx.errors import JXInputError
    from jx.targets import target_met

    expected, actual = target.get("target"), target.get("actual")
    if expected in (None, "") and actual in (None, ""):
        return None
    try:
        return MET_WORD if target_met(expected, actual, rubric) else MISSED_WORD
    except JXInputError as error:
        return f"{UNJUDGED_WORD}：{error}"


def _targets(ws: Worksheet, lay: Layout, filled: Filled, written: set) -> None:
    """绩效指标: 年度绩效指标完成情况, its header repeated on every printed page."""
    _title_block(ws, lay, written, "年度绩效指标完成情况", "F", TARGET_WIDTHS[0])
    first, last = lay.targets
    for col, text in zip("ABCDEF", ("一级指标", "二级指标", "三级指标", "预期指标值", "实际完成值", "是否达成")):
        _cell(ws, f"{col}{first - 1}", text, font=HEAD, fill=HEADER_FILL, align=CENTER)
    _cell(ws, f"G{first - 1}", "判定（JX_TARGET_MET）", font=HEAD, fill=HEADER_FILL, align=CENTER)
    shown = _head_shown(filled)
    for i in range(last - first + 1):
        row = first + i
        target = filled.targets[i] if i < len(filled.targets) else {}
        for col, key in (("A", "level1"), ("B", "level2"), ("C", "name"), ("D", "target"), ("E", "actual")):
            cell = _cell(ws, f"{col}{row}", target.get(key), fill=INPUT_FILL)
            cell.protection = UNLOCKED
        _formula(ws, lay, f"F{row}", written, align=CENTER)
        _formula(ws, lay, f"G{row}", written, align=CENTER)
        verdict = _verdict(target, lay.rubric) if target else None
        if verdict:
            shown[f"F{row}"] = verdict
    summary = last + 1
    _cell(ws, f"A{summary}", "已填指标数", font=HEAD)
    _formula(ws, lay, f"B{summary}", written, align=CENTER)
    _cell(ws, f"C{summary}", "未达成指标数", font=HEAD)
    _formula(ws, lay, f"D{summary}", written, align=CENTER)
    _cell(ws, f"E{summary}", "无法判定指标数", font=HEAD)
    _formula(ws, lay, f"F{summary}", written, align=CENTER)
    ws.conditional_formatting.add(f"F{first}:F{last}",
                                  FormulaRule(formula=[f'F{first}="{MISSED_WORD}"'], fill=DEDUCTION_FILL))
    ws.conditional_formatting.add(f"F{first}:F{last}", FormulaRule(
        formula=[f'LEFT(F{first},{len(UNJUDGED_WORD)})="{UNJUDGED_WORD}"'], fill=ERROR_FILL))
    ws.column_dimensions["G"].hidden = True
    _widths(ws, TARGET_WIDTHS)
    ws.protection.sheet = True
    _fit_rows(ws, range(1, ws.max_row + 1), shown)
    ws.row_dimensions[first - 2].height = 6  # the empty row between the head and the table
    # Printed: the filled target rows (the blank template: one page of them); the counts are read on screen
    _page(ws, f"1:{first - 1}", print_area(TARGET_PRINT, first, _last_filled(ws, first, last, TARGET_PRINT.inputs),
                                           last + 1))


def _texts(ws: Worksheet, lay: Layout, texts: Mapping[str, str]) -> None:
    """报告文字: the department's own words for the 自评报告, each an optional named cell."""
    _cell(ws, "A1", "报告文字（jx report 起草自评报告时使用；可不填，不填的部分在报告中留出待填写标记）",
          font=TITLE_FONT, border=False, align=Alignment(vertical="center"))
    for col, text in zip("ABC", ("报告中的位置", "内容", "填写")):
        _cell(ws, f"{col}3", text, font=HEAD, fill=HEADER_FILL, align=CENTER)
    for i, text in enumerate(lay.texts):
        row = TEXT_FIRST_ROW + i
        _cell(ws, f"A{row}", text.section)
        _cell(ws, f"B{row}", text.help)
        value = texts.get(text.name)
        font = BODY
        if value and _text_height(value, TEXT_WIDTHS[2], 10) >= MAX_ROW_HEIGHT:  # longer than a row holds: 9 pt
            font = Font(name="宋体", size=9)
        cell = _cell(ws, f"C{row}", value, font=font, fill=INPUT_FILL, align=Alignment(wrap_text=True, vertical="top"))
        cell.protection = UNLOCKED
    _widths(ws, TEXT_WIDTHS)
    ws.freeze_panes = f"A{TEXT_FIRST_ROW}"
    ws.protection.sheet = True
    _fit_rows(ws, range(1, ws.max_row + 1))
    _page(ws, "3:3")


def _conf(ws: Worksheet) -> None:
    for row, (key, value) in enumerate(XLWINGS_CONF, start=1):
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=value)
    ws.sheet_state = "hidden"


# ------------------------------------------------------------------ assemble

def build_workbook(filled: Filled | None, rubric: Rubric, target_rows: int = TARGET_ROWS) -> Workbook:
    """The template of ``rubric`` as an openpyxl workbook (no VBA yet); ``filled`` pre-fills inputs.

    ``target_rows``: the rows of 年度绩效指标 (as if a user had inserted rows inside the table).
    """
    lay = layout(rubric, TASK_ROWS, target_rows)
    filled = filled or Filled(values={})
    unknown = set(filled.values) - {f.name for f in lay.fields}
    unknown |= set(filled.texts) - {t.name for t in lay.texts} - {"年度总体目标", "总体目标完成情况"}
    if unknown:
        raise ValueError(f"未知的输入项：{'、'.join(sorted(unknown))}")
    wb = Workbook()
    # Normal is 宋体 11, as in Chinese Excel: cells without a font of their own, and the width unit
    wb._fonts = IndexedList([NORMAL_FONT])
    wb._named_styles["Normal"].font = NORMAL_FONT
    wb.remove(wb.active)
    for title, code_name in lay.sheets:
        ws = wb.create_sheet(title)
        ws.sheet_properties.codeName = code_name
    wb.code_name = "ThisWorkbook"
    written: set = set()
    instructions(wb[INSTRUCTIONS], rubric)
    _inputs(wb[INPUT_SHEET], lay, filled.values, written)
    _scores(wb[SCORE_SHEET], lay, written, filled)
    if EXEC_SHEET in wb.sheetnames:
        _exec(wb[EXEC_SHEET], lay, written)
    _self_evaluation(wb[SELF_SHEET], lay, filled, written)
    _targets(wb[TARGETS], lay, filled, written)
    _texts(wb[TEXTS], lay, filled.texts)
    _conf(wb[CONF])
    for ws in wb.worksheets:
        if ws.protection.sheet:  # a protected sheet still lets its rows be made taller (or shorter)
            ws.protection.formatRows = False
        if ws.title != INSTRUCTIONS:
            for merged in ws.merged_cells.ranges:  # the edges of a merged cell get its border (styled after merging)
                merged.format()
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


def workbook_bytes(filled: Filled | None, rubric: Rubric, vba: bytes | None = None,
                   target_rows: int = TARGET_ROWS) -> bytes:
    """The .xlsm bytes: the workbook plus, if given, its vbaProject.bin."""
    wb = build_workbook(filled, rubric, target_rows)
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


def build(path: Path, filled: Filled | None = None, *, rubric: Rubric, target_rows: int = TARGET_ROWS) -> Path:
    """Write the template of ``rubric`` (or a filled copy) with its VBA project, atomically."""
    from .vba_parts import vba_project

    write_atomically(path, workbook_bytes(filled, rubric, vba_project(rubric), target_rows))
    return path
