"""``jx export``: the same workbook with every JX call replaced by a native formula.

For offices on WPS, machines where Python cannot be installed, and auditors
who open a workbook with no add-in: the copy keeps the layout, inputs, defined
names, formatting, data validation and sheet protection; its formulas are the
rendered expression trees of :mod:`jx.formula` (the same trees Python
evaluates), each converted cell carries a comment
naming the JX formula it stands for, and there are no macros (no VBA project,
no hidden ``xlwings.conf`` sheet). Excel, WPS and LibreOffice recalculate it on
opening (``fullCalcOnLoad``).

``JX_TARGET_MET`` reads its target text step by step in helper cells on its own
row; they sit in hidden columns to the right of the table, each headed with
the step it computes.
"""

from __future__ import annotations

import io
import re
from copy import copy
from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from addin.atomic import write_atomically
from addin.layout import CONF, INSTRUCTIONS
from addin.template import normalize_zip
from jx.expr import HelperColumns, column_letter
from jx.formula import MAX_FORMULA_CHARS, MAX_NESTING, NativeFormulaError, native_formula, nesting_depth
from jx.functions import functions
from jx.rubric import Rubric

from .workbook_io import WorkbookError

CONF_SHEET = CONF
INSTRUCTIONS_SHEET = INSTRUCTIONS
COMMENT_AUTHOR = "jx export"
_JX_CALL = re.compile(r"(?<![\w.$])JX_[A-Za-z0-9_]+\s*\(", re.I)


def export_workbook(src: Path, dst: Path, rubric: Rubric | None = None) -> Path:
    """Write the native-formula copy of ``src`` to ``dst`` (an .xlsx); ``src`` is only read.

    ``rubric`` is the edition to read it by (default: the one the workbook
    records in its named cell 评分标准版本). Raises :class:`WorkbookError`
    with a Chinese message.
    """
    src, dst = Path(src), Path(dst)
    if _same_file(src, dst):
        raise WorkbookError(f"{dst.name}：输出文件不能与原文件相同，原文件不会被改写")
    from .reading import read_workbook

    return export_data(read_workbook(src, rubric=rubric), dst)  # the same verdict as every other command


def export_data(data, dst: Path) -> Path:
    """The native-formula copy of a workbook read by :func:`jxtools.reading.read_workbook`, written to ``dst``."""
    dst = Path(dst)
    if dst.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{dst.name}：无宏副本应保存为 .xlsx 文件")
    try:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data.package), keep_vba=False)
    except Exception as error:  # openpyxl's own errors on a damaged part
        raise WorkbookError(f"{data.label}：无法读取（{type(error).__name__}: {error}）") from None
    rubric = data.rubric
    label = data.label
    if CONF_SHEET in wb.sheetnames:
        wb.remove(wb[CONF_SHEET])
    helper_columns: dict[str, tuple[int, int]] = {}
    for ws in wb.worksheets:
        span = _convert_sheet(ws, rubric, label)
        if span:
            helper_columns[ws.title] = span
    _convert_names(wb, rubric, label)
    _note_in_instructions(wb, rubric, helper_columns)
    wb.calculation.fullCalcOnLoad = True  # Excel, WPS and LibreOffice recompute on opening
    buffer = io.BytesIO()
    wb.save(buffer)
    write_atomically(dst, normalize_zip(buffer.getvalue()))
    return dst


def _same_file(src: Path, dst: Path) -> bool:
    if dst.exists() and src.exists():
        return src.samefile(dst)
    return src.resolve() == dst.resolve()


def _formula(value: object) -> str | None:
    if isinstance(value, ArrayFormula):
        return value.text
    if isinstance(value, str) and value.startswith("="):
        return value
    return None


def _convert(formula: str, rubric: Rubric, where: str, helpers=None) -> str:
    try:
        native = native_formula(formula, rubric, helpers)
    except NativeFormulaError as error:
        raise WorkbookError(f"{where} 无法转换为普通公式：{error}") from None
    if len(native) > MAX_FORMULA_CHARS or nesting_depth(native) > MAX_NESTING:
        raise WorkbookError(f"{where} 转换后的公式超出 Excel 的长度或嵌套层数限制")
    return native


def _convert_sheet(ws: Worksheet, rubric: Rubric, label: str) -> tuple[int, int] | None:
    """Convert every JX formula of ``ws``; returns the helper columns used (first, last)."""
    helpers = HelperColumns(first_column=ws.max_column + 2)  # one empty column apart from the table
    comments: dict[str, str] = {}
    stepped: dict[int, list[int]] = {}  # column → rows whose formula uses helper cells
    for row in ws.iter_rows():
        for cell in row:
            formula = _formula(cell.value)
            if formula is None or not _JX_CALL.search(formula):
                continue
            where = f"{label}：{ws.title}!{cell.coordinate}"
            before = len(helpers.cells)
            native = _convert(formula, rubric, where, helpers.row(cell.row))
            cell.value = ArrayFormula(cell.coordinate, native) if isinstance(cell.value, ArrayFormula) else native
            # Each cell names the JX formula it stands for; the rule itself is on the sheet (评分标准,
            # 计分函数) or, for a column of target rows, in the comment of the column head. Kept to one
            # line: LibreOffice lays out every comment's text when it loads a file.
            comments[cell.coordinate] = f"JX: {formula}"
            if len(helpers.cells) > before:
                stepped.setdefault(cell.column, []).append(cell.row)
    for coordinate, text in comments.items():
        _comment(ws[coordinate], text)
    for column, rows in stepped.items():
        head = ws.cell(row=min(rows) - 1, column=column)
        if isinstance(head.value, str) and head.comment is None:
            example = comments[ws.cell(row=min(rows), column=column).coordinate].removeprefix("JX: ")
            _comment(head, "\n".join([f"本列第 {min(rows)}–{max(rows)} 行原为 JX 公式，例如 {example}",
                                      *_comment_text(example, rubric).splitlines()[1:],
                                      _steps_note(helpers)]))
    for rule_range in ws.conditional_formatting:
        for rule in rule_range.rules:
            rule.formula = [_convert(f, rubric, f"{label}：{ws.title} 的条件格式") if _JX_CALL.search(f) else f
                            for f in rule.formula]
    for validation in ws.data_validations.dataValidation:
        for attr in ("formula1", "formula2"):
            value = getattr(validation, attr)
            if value and _JX_CALL.search(value):
                setattr(validation, attr, _convert(value, rubric, f"{label}：{ws.title} 的数据验证"))
    if not helpers.cells:
        return None
    _place_helpers(ws, helpers)
    return helpers.first_column, helpers.first_column + len(helpers.columns) - 1


def _place_helpers(ws: Worksheet, helpers: HelperColumns) -> None:
    """Write the helper steps, head each column with its step, hide the columns."""
    for (row, column), formula in helpers.cells.items():
        ws.cell(row=row, column=column, value=f"={formula}")
    header_row = min(row for row, _ in helpers.cells) - 1
    for step, column in helpers.columns.items():
        if header_row >= 1 and ws.cell(row=header_row, column=column).value is None:
            ws.cell(row=header_row, column=column, value=f"辅助列：{step}")
        dimension = ws.column_dimensions[column_letter(column)]
        dimension.hidden = True
        dimension.width = 16


def _comment(cell, text: str) -> None:
    comment = Comment(text, COMMENT_AUTHOR)
    lines = sum(1 + len(line) // 45 for line in text.splitlines())
    comment.width, comment.height = 360, 20 + 16 * lines  # points
    cell.comment = comment


def _steps_note(helpers: HelperColumns) -> str:
    first = column_letter(helpers.first_column)
    last = column_letter(helpers.first_column + len(helpers.columns) - 1)
    return f"计算步骤在同一行隐藏的辅助列 {first}–{last}，每列一步（撤消工作表保护后可取消隐藏查看）。"


def _comment_text(formula: str, rubric: Rubric) -> str:
    """``JX: =JX_…`` and, for each function, the rule it applies."""
    lines = [f"JX: {formula}"]
    known = functions(rubric)
    for name in dict.fromkeys(m.group(0).rstrip("( ").upper() for m in _JX_CALL.finditer(formula)):
        if name in known:
            lines.append(f"{name}：{known[name].summary}")
    return "\n".join(lines)


def _convert_names(wb: Workbook, rubric: Rubric, label: str) -> None:
    """Defined names that are JX formulas (the template has none; a user might)."""
    scopes = [wb.defined_names] + [ws.defined_names for ws in wb.worksheets]
    for names in scopes:
        for name in names.values():
            text = name.attr_text or ""
            if _JX_CALL.search(text):
                name.attr_text = _convert(text, rubric, f"{label}：名称“{name.name}”")


def _note_in_instructions(wb: Workbook, rubric: Rubric, helper_columns: dict[str, tuple[int, int]]) -> None:
    """Write 填报说明 anew for this copy: no Python, no macros, and where the helper columns are."""
    if INSTRUCTIONS_SHEET not in wb.sheetnames:
        return
    from addin.template import instructions

    ws = wb[INSTRUCTIONS_SHEET]
    for merged in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(merged))
    ws.delete_rows(1, ws.max_row)  # values and styles: the sheet is written anew
    for key in list(ws.row_dimensions):
        del ws.row_dimensions[key]
    steps = "；".join(f"“{sheet}”的 {column_letter(a)}–{column_letter(b)} 列"
                     for sheet, (a, b) in helper_columns.items())
    instructions(ws, rubric, native=steps)


