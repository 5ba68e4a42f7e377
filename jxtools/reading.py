"""One trusted reading of a workbook, for every command.

``recalc``, ``audit``, ``batch``, ``export``, ``report`` and ``demo`` all read a
workbook here, so the same file gets the same verdict from each: accepted, or
refused with one Chinese message naming file and cell (:class:`WorkbookError`).

The file is read once into memory and checked as a package
(:func:`jxtools.workbook_io.check_package`: size, zip, bombs, DTDs, exotic
compression). Its edition is the id in the named cell 评分标准版本; that
edition's layout (:mod:`addin.layout`) then says what the workbook must be:

* every defined name present and pointing where the template put it; the
  ranges a user may extend (task and target rows) well formed, on the right
  columns, no longer than the layout allows; the sheets found through the
  names, whatever their titles;
* every formula cell still holding the template's formula: a score typed over
  its formula, or an edited formula, is a finding every command reports;
* every input cell holding what a cell of its kind may hold (a date where a
  number is due is refused).

Values come from python-calamine; formulas and cached error values (which
calamine reads as blank, or cannot read at all, like ``#SPILL!``) from one
scan of each sheet's XML. Every sheet is scanned within a size limit and
refused beyond the extent any template has (rows, columns, cells holding
something); only the sheets the layout uses are parsed into values. So a
hostile file costs seconds, not gigabytes, in every command.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from addin.layout import EDITION_NAME, SCORES, TARGET_RANGES, TARGETS, TASK_RANGES, Layout, layout
from jx.excel import number_text
from jx.rubric import Rubric, RubricError, load_rubric
from jx.values import ERROR_NAMES, XlError, cell_value

from .workbook_io import (MAX_SHEET_BYTES, WorkbookError, all_defined_names, check_package, display_name, read_file,
                          sheet_paths)

EXCEL_ERROR_TEXT = ERROR_NAMES
# Rows a user may add to an extendable range (task or target rows) by inserting rows inside it.
MAX_EXTRA_ROWS = 5000
# No sheet of a template holds more (the target sheet: 250 rows + MAX_EXTRA_ROWS; the Python-free
# copy's helper columns end before column 100): beyond this a sheet is refused before it is parsed.
MAX_ROWS, MAX_COLUMNS = 10_000, 200
# Cells holding something, over the sheets read: a filled template has about 5,000 (40,000 with
# every extra target row); beyond this no command could finish in seconds.
MAX_CELLS = 100_000
# The error values python-calamine understands; others are read from the XML only.
_CALAMINE_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"}

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ATTR_T = re.compile(rb'\bt="([^"]*)"')
_SI = re.compile(rb'\bsi="(\d+)"')
_SHARED = re.compile(rb'\bt="shared"')
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_REFERENCE = re.compile(r"(?<![A-Za-z0-9_$.\u4e00-\u9fff])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![0-9(!])")


def column_index(letters: str) -> int:
    """A → 1, AA → 27."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def split_ref(ref: str) -> tuple[int, int]:
    """"G5" → (row 5, column 7), 1-based."""
    match = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    if not match:
        raise ValueError(ref)
    return int(match.group(2)), column_index(match.group(1))


def _shift(formula: str, rows: int) -> str:
    """A shared formula as it stands ``rows`` below its master cell (relative references move)."""
    if rows == 0:
        return formula
    parts = formula.split('"')
    for i in range(0, len(parts), 2):
        parts[i] = _REFERENCE.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{m[4] if m[3] else int(m[4]) + rows}", parts[i])
    return '"'.join(parts)


def normalize_formula(text: str) -> str:
    """A formula as written for comparison: no leading =, no _xlfn./_xludf. prefixes, no spaces outside text.

    LibreOffice saves the logical constants as functions (``FALSE()``): the same formula.
    """
    text = text[1:] if text.startswith("=") else text
    parts = text.split('"')
    for i in range(0, len(parts), 2):
        part = re.sub(r"_xl(?:fn|udf)\.", "", parts[i], flags=re.I).replace(" ", "")
        parts[i] = re.sub(r"\b(TRUE|FALSE)\(\)", r"\1", part, flags=re.I)
    return '"'.join(parts)


@dataclass
class SheetScan:
    """What one sheet's XML says beyond calamine: formula texts and cached error values."""

    formulas: dict[str, str] = field(default_factory=dict)  # ref → formula text as the XML writes it (escaped)
    errors: dict[str, str] = field(default_factory=dict)
    unsupported: bool = False  # an error value calamine cannot read (#SPILL!, #CALC!…)
    max_row: int = 0  # the last row and column holding a value or formula (styled empty cells do not count)
    max_col: int = 0
    cells: int = 0  # cells holding a value or formula


_FORMULA = re.compile(rb"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
_CELL_HEAD = re.compile(rb"<c\b([^>]*)>\s*")  # a cell's start tag, directly before its <f> (the schema's order)
_CELL_REF = re.compile(rb'(?:^|\s)r="([A-Z]+)(\d+)"')
_ERROR_CELL = re.compile(rb"<c\b([^>]*\bt=\"e\"[^>]*)>([^<]*(?:<(?!/c>)[^<]*)*)</c>")
_ROW_NUMBER = re.compile(rb"<row\b[^>]*?\br=\"(\d+)\"")
_COLUMN = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]+)\d+\"")


_CHARREF = re.compile(r"&#(\d+);")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _unescape(text: str) -> str:
    """XML text as written: decimal character references (openpyxl writes non-ASCII so) and the five entities."""
    if "&" not in text:
        return text
    text = _CHARREF.sub(lambda m: chr(int(m.group(1))), text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return html.unescape(text) if "&#" in text else text  # hexadecimal references: rare


def _formula_cells(xml: bytes) -> Iterable[tuple[bytes, bytes, bytes, bytes]]:
    """(column letters, row digits, <f> attributes, formula text) of every cell holding a formula.

    Each ``<f`` is found first (a third of a target sheet's cells have one), then its cell's start
    tag just before it: one pass in C, where matching every ``<c`` against a pattern costs twice as much.
    """
    for m in _FORMULA.finditer(xml):
        at = m.start()
        head = _CELL_HEAD.fullmatch(xml, max(xml.rfind(b"<c", 0, at), 0), at)
        ref = _CELL_REF.search(head.group(1)) if head else None
        if ref is not None:
            yield ref.group(1), ref.group(2), m.group(1), m.group(2) or b""


def scan_sheet(xml: bytes) -> SheetScan:
    """Formulas, cached errors and the extent of one sheet's XML.

    This runs for every sheet of every file of a batch, so each question is
    one regular-expression pass in C: the formula cells (``<f`` first in the
    cell, as the schema orders it), the cells of type ``e``, the row numbers,
    the column letters, and the count of cells with a body (``</c>``).
    """
    scan = SheetScan()
    masters: dict[bytes, tuple[int, str]] = {}
    for letters, digits, options, raw in _formula_cells(xml):
        text = raw.decode("utf-8", "replace")  # as written: unescaped only when compared (see _check_formulas)
        if b"shared" in options and _SHARED.search(options):
            row = int(digits)
            si = _SI.search(options)
            if si and text:
                masters[si.group(1)] = (row, text)
            elif si and si.group(1) in masters:
                first, master = masters[si.group(1)]
                text = _shift(master, row - first)
        scan.formulas[(letters + digits).decode()] = text
    if b'"e"' in xml:
        for m in _ERROR_CELL.finditer(xml):
            r, v = _ATTR_R.search(m.group(1)), _VALUE.search(m.group(2))
            if r is None or v is None:
                continue
            shown = v.group(1).decode("ascii", "replace").strip()
            scan.errors[(r.group(1) + r.group(2)).decode()] = shown if shown in ERROR_NAMES else "#VALUE!"
            if shown not in _CALAMINE_ERRORS:
                scan.unsupported = True
    rows = _ROW_NUMBER.findall(xml)
    scan.max_row = max(max(map(int, rows), default=0), xml.count(b"<row"))  # rows without r count by position
    columns = set(_COLUMN.findall(xml))
    scan.max_col = max((column_index(c.decode()) for c in columns), default=0)
    scan.cells = xml.count(b"</c>")  # cells with a value, formula or inline text (empty ones close themselves)
    return scan


def _sanitized(xml: bytes) -> bytes:
    """The sheet XML with error values calamine cannot read replaced by #N/A (the scan keeps the real ones)."""
    def fix(m: re.Match) -> bytes:
        whole = m.group(0)
        t = _ATTR_T.search(m.group(1))
        if not (t and t.group(1) == b"e"):
            return whole
        return re.sub(rb"<v>(.*?)</v>", lambda v: v.group(0) if v.group(1).strip().decode("ascii", "replace")
                      in _CALAMINE_ERRORS else b"<v>#N/A</v>", whole)

    return _CELL.sub(fix, xml)


@dataclass
class Deviation:
    """A place where the workbook is not what its template made it (a finding, not a refusal)."""

    where: str  # 评分表!G5
    text: str  # Chinese, says what was found and what was expected


@dataclass
class WorkbookData:
    """A workbook read and checked against its edition's layout."""

    label: str  # the file name as shown to people
    path: Path | None
    rubric: Rubric
    layout: Layout
    names: dict[str, tuple[str, str]]  # name → (actual sheet, reference without $)
    sheet_of: dict[str, str]  # layout sheet title → actual sheet title
    rows: dict[str, tuple[tuple[int, int], list[list[Any]]]]  # actual sheet → (origin, calamine rows)
    scans: dict[str, SheetScan]  # actual sheet → formulas and errors
    deviations: list[Deviation] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # other things a reviewer must look at
    digest: str = ""  # SHA-256 of the file's bytes: byte-identical copies are found by it
    package: bytes = field(default=b"", repr=False)  # the file as read (written back by recalc: one read per file)

    # ---------------------------------------------------------------- cells

    def _raw(self, sheet: str, row: int, col: int) -> Any:
        scan = self.scans.get(sheet)
        if scan is not None and scan.errors:
            ref = f"{_letters(col)}{row}"
            if ref in scan.errors:
                return XlError(scan.errors[ref])
        (top, left), rows = self.rows.get(sheet, ((0, 0), []))
        r, c = row - 1 - top, col - 1 - left
        if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
            value = rows[r][c]
            return None if value == "" else value
        return None

    def cell(self, sheet: str, ref: str) -> Any:
        row, col = split_ref(ref)
        return cell_value(self._raw(sheet, row, col))

    def has(self, name: str) -> bool:
        return name in self.names

    def where(self, name: str) -> str:
        sheet, ref = self.names[name]
        return f"{sheet}!{ref}"

    def value(self, name: str) -> Any:
        """The value of a named cell, as a worksheet holds it (an error value included)."""
        sheet, ref = self.names[name]
        return self.cell(sheet, ref.split(":")[0])

    shown = value

    def column(self, name: str, offset: int = 0) -> list[tuple[int, Any]]:
        """(row number, value) for every cell of a one-column named range (``offset`` columns to the right)."""
        sheet, ref = self.names[name]
        first, last = ref.split(":")
        (r1, col), (r2, _c) = split_ref(first), split_ref(last)
        return [(r, cell_value(self._raw(sheet, r, col + offset))) for r in range(r1, r2 + 1)]

    def formula(self, sheet: str, ref: str) -> str | None:
        scan = self.scans.get(sheet)
        found = scan.formulas.get(ref) if scan else None
        return None if found is None else _unescape(found)

    @property
    def edited(self) -> bool:
        """Some formula of the template was changed or overwritten."""
        return bool(self.deviations)


def _letters(col: int) -> str:
    from jx.expr import column_letter

    return column_letter(col)


# ------------------------------------------------------------------ reading


def read_workbook(source: Path | str | bytes | IO[bytes], label: str | None = None,
                  rubric: Rubric | None = None) -> WorkbookData:
    """Read and check a workbook from a path, bytes or a binary file object; raises WorkbookError.

    ``rubric``: the edition to read it by, given explicitly (an edition not
    installed, or per-file work that must not look editions up); the
    workbook must record that edition's id. Default: the installed edition
    the workbook records.
    """
    if isinstance(source, (bytes, bytearray)):
        data, label = bytes(source), label or "工作簿"
        path = None
    elif hasattr(source, "read"):
        data, label = source.read(), label or getattr(source, "name", "工作簿")
        path = None
    else:
        path = Path(source)
        data, shown = read_file(path)
        label = label or shown
    try:
        return _read(data, label, path, rubric)
    except WorkbookError:
        raise
    except Exception as error:  # a package the parsers cannot digest: still one message, never a traceback
        raise WorkbookError(f"{label}：无法读取（{type(error).__name__}: {error}）") from None


def _read(data: bytes, label: str, path: Path | None, given: Rubric | None = None) -> WorkbookData:
    archive = check_package(data, label)
    parts = sheet_paths(archive, label)
    raw_names = all_defined_names(archive)
    if EDITION_NAME not in raw_names:
        raise WorkbookError(f"{label}：缺少名称“{EDITION_NAME}”（不是本模板生成的工作簿，或名称被删除）")
    names = {n: t for n, t in raw_names.items() if isinstance(t, tuple)}
    edition_target = raw_names[EDITION_NAME]
    if not isinstance(edition_target, tuple) or edition_target[0] not in parts or ":" in edition_target[1]:
        raise WorkbookError(f"{label}：{_bad_target(EDITION_NAME, edition_target, parts)}")

    # the sheets any name points to: scanned (size-checked), sanitized for calamine if needed
    # the sheets any name points to are read; every sheet is scanned (size, extent, formulas), since
    # recalc's engine and export load them all
    wanted = sorted({sheet for sheet, _ref in names.values() if sheet in parts})
    xml: dict[str, bytes] = {}
    scans: dict[str, SheetScan] = {}
    for sheet in parts:
        xml[sheet] = _part(archive, parts[sheet], sheet, label)
        scans[sheet] = scan = scan_sheet(xml[sheet])
        if scan.max_row > MAX_ROWS or scan.max_col > MAX_COLUMNS:
            raise WorkbookError(f"{label}：工作表“{sheet}”有内容到第 {scan.max_row} 行、第 {scan.max_col} 列，"
                                f"超出模板的范围（最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列），不是正常填报的工作簿，已拒绝")
    total = sum(scan.cells for scan in scans.values())
    for sheet in set(parts) - set(wanted):
        del xml[sheet]
    if total > MAX_CELLS:
        raise WorkbookError(f"{label}：有内容的单元格达 {total} 个，超出模板的范围（最多 {MAX_CELLS} 个），"
                            "不是正常填报的工作簿，已拒绝")
    book_bytes = data
    if any(s.unsupported for s in scans.values()):
        book_bytes = _repacked(archive, {parts[s]: _sanitized(xml[s]) for s in wanted if scans[s].unsupported})
    rows = _calamine(book_bytes, wanted, label)

    probe = WorkbookData(label, path, None, None, names, {}, rows, scans)  # type: ignore[arg-type]
    edition = probe.value(EDITION_NAME)
    if not isinstance(edition, str) or not edition.strip():
        raise WorkbookError(f"{label}：{EDITION_NAME}为空，无法确定按哪一版评分标准评分")
    if given is not None:
        if given.id != edition.strip():
            raise WorkbookError(f"{label}：工作簿记录的{EDITION_NAME}是“{edition.strip()}”，不是指定的“{given.id}”")
        rubric = given
    else:
        try:
            rubric = load_rubric(edition.strip())
        except RubricError as error:
            raise WorkbookError(f"{label}：按工作簿记录的{EDITION_NAME}“{edition.strip()}”无法评分——{error}") from None
    lay = layout(rubric, *_row_counts(layout(rubric), raw_names, label))
    sheet_of = _check_names(lay, raw_names, parts, label)
    wb = WorkbookData(label, path, rubric, lay, names, sheet_of, rows, scans,
                      digest=hashlib.sha256(data).hexdigest(), package=data)
    _check_formulas(wb)
    _check_cells(wb)
    return wb


def _part(archive: zipfile.ZipFile, name: str, sheet: str, label: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_SHEET_BYTES:
        raise WorkbookError(f"{label}：工作表“{sheet}”过大（{info.file_size / 1024 / 1024:.0f} MB），"
                            "不是正常填报的工作簿，已拒绝")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
        raise WorkbookError(f"{label}：文件已损坏（{name}：{error}）") from None


def _repacked(archive: zipfile.ZipFile, replaced: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in archive.infolist():
            target.writestr(info.filename, replaced.get(info.filename) or archive.read(info.filename))
    return out.getvalue()


def _calamine(data: bytes, sheets: Iterable[str], label: str) -> dict[str, tuple[tuple[int, int], list[list[Any]]]]:
    from python_calamine import CalamineWorkbook

    out = {}
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in sheets:
            sheet = book.get_sheet_by_name(name)
            out[name] = (tuple(sheet.start or (0, 0)), sheet.to_python(skip_empty_area=False))
        book.close()
    except Exception as error:  # calamine's own errors: corrupt member, bad XML
        raise WorkbookError(f"{label}：无法读取（{type(error).__name__}: {error}）") from None
    return out


# ------------------------------------------------------------------ the layout's names


def _range(ref: str) -> tuple[int, int, int, int] | None:
    """(first row, first column, last row, last column) of ``A1`` or ``A1:B9`` (None for whole columns)."""
    try:
        first, _, last = ref.partition(":")
        r1, c1 = split_ref(first)
        r2, c2 = split_ref(last or first)
        return r1, c1, r2, c2
    except ValueError:
        return None


def _bad_target(name: str, target: tuple[str, str] | str, parts: dict[str, str], expected: str = "") -> str:
    should = f"，应为 {expected}" if expected else ""
    if isinstance(target, str):
        if "#REF!" in target.upper():
            return f"名称“{name}”指向的单元格或工作表已被删除（{target[:40]}）"
        if re.search(r"!\$?(?:[A-Z]+:\$?[A-Z]+|\d+:\$?\d+)$", target.strip()):
            return f"名称“{name}”指向整列或整行（{target[:40]}）{should}"
        return f"名称“{name}”没有指向单元格区域（{target[:40]}）{should}"
    if target[0] not in parts:
        return f"名称“{name}”指向的工作表“{target[0]}”不存在"
    return f"名称“{name}”指向 {target[0]}!{target[1]}，应为一个单元格"


def _row_counts(base: Layout, raw: dict[str, tuple[str, str] | str], label: str) -> tuple[int, int]:
    """How many task and target rows the workbook has: its ranges may have grown by inserted rows.

    Each extendable range must start where the template started it, keep its
    column, and all ranges of one table must end on the same row.
    """
    counts = []
    for group in (TASK_RANGES, TARGET_RANGES):
        found = set()
        for name in group:
            target = raw.get(name)
            sheet, expected = base.names[name]
            if isinstance(target, str):
                raise WorkbookError(f"{label}：{_bad_target(name, target, {}, sheet + '!' + expected.replace('$', ''))}")
            want = _range(expected.replace("$", ""))
            got = _range(target[1]) if target else None
            if (got is None or got[:2] != want[:2] or got[3] != want[3]
                    or not got[0] <= got[2] <= want[2] + MAX_EXTRA_ROWS):
                shown = f"{target[0]}!{target[1]}" if target else "不存在"
                raise WorkbookError(f"{label}：名称“{name}”指向 {shown}，应为 {sheet}!"
                                    f"{expected.replace('$', '')}（可在范围内插入或删除行，最多再加 {MAX_EXTRA_ROWS} 行）"
                                    if target else f"{label}：缺少名称“{name}”（不是本模板生成的工作簿，或名称被删除）")
            found.add(got[2] - got[0] + 1)
        if len(found) != 1:
            raise WorkbookError(f"{label}：名称{'、'.join(f'“{n}”' for n in group)}应覆盖相同的行")
        counts.append(found.pop())
    return counts[0], counts[1]


def _check_names(lay: Layout, raw: dict[str, tuple[str, str] | str], parts: dict[str, str], label: str) -> dict[str, str]:
    """Every name of the layout where the template put it; the layout's sheets found through the names."""
    sheet_of: dict[str, str] = {}
    problems = []
    for name, (sheet, expected) in lay.names.items():
        if name not in raw:
            problems.append(f"缺少名称“{name}”（不是本模板生成的工作簿，或名称被删除）")
            continue
        target = raw[name]
        if not isinstance(target, tuple) or target[0] not in parts:
            problems.append(_bad_target(name, target, parts))
            continue
        actual_sheet, ref = target
        if sheet_of.setdefault(sheet, actual_sheet) != actual_sheet:
            problems.append(f"名称“{name}”指向“{actual_sheet}”，应与“{sheet_of[sheet]}”的其他名称在同一张表（{sheet}）")
            continue
        if _range(ref) != _range(expected.replace("$", "")):
            problems.append(f"名称“{name}”指向 {actual_sheet}!{ref}，应为 {sheet}!{expected.replace('$', '')}")
    if problems:
        raise WorkbookError(f"{label}：" + "；".join(problems[:3]) + ("等" if len(problems) > 3 else ""))
    return sheet_of


# ------------------------------------------------------------------ the layout's formulas


def _check_formulas(wb: WorkbookData) -> None:
    """Each formula cell of the layout still holds the template's formula."""
    lay = wb.layout
    scans = {sheet: wb.scans.get(actual) for sheet, actual in wb.sheet_of.items()}
    for (sheet, ref), formula in lay.formulas.items():
        scan = scans.get(sheet)
        if scan is None:
            continue
        raw = scan.formulas.get(ref)
        if raw is not None and raw in _written(lay, sheet, ref):
            continue  # exactly as the template wrote it: the common case, one comparison
        found = None if raw is None else _unescape(raw)
        if found is not None and normalize_formula(found) == _normalized(lay, sheet, ref):
            continue
        actual_sheet = wb.sheet_of[sheet]
        where = f"{actual_sheet}!{ref}"
        what = _describe(lay, sheet, ref)
        if found is None:
            value = wb.cell(actual_sheet, ref)
            if value is None:
                hint = "（插入的行需要公式：选中上一行的这一格向下填充）" if _inserted(lay, sheet, ref) else ""
                wb.deviations.append(Deviation(where, f"{where}（{what}）的公式被删除{hint}"))
            else:
                shown = (value.text if isinstance(value, XlError) else number_text(value) if isinstance(value, float)
                         else value)
                wb.deviations.append(Deviation(where, f"{where}（{what}）不是公式：手工填写了 {shown}"))
        else:
            wb.deviations.append(Deviation(where, f"{where}（{what}）的公式被改动：{found[:60]}，模板为 {formula[1:][:60]}"))


def _inserted(lay: Layout, sheet: str, ref: str) -> bool:
    """The cell is on a task or target row beyond the template's count: a row the user inserted."""
    from addin.layout import TARGET_ROWS, TASK_ROWS

    row, _col = split_ref(ref)
    for (first, last), count in ((lay.tasks, TASK_ROWS), (lay.targets, TARGET_ROWS)):
        if first <= row <= last and last - first + 1 > count:
            return True
    return False


_PER_LAYOUT: dict[int, tuple[Layout, dict[tuple[str, str], str], dict[tuple[str, str], tuple[str, str]]]] = {}


def _escaped(text: str, ascii_only: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text) if ascii_only else text


def _cached_forms(lay: Layout):
    """Per layout, once (a batch reads thousands of files of a few layouts): normalized and written forms."""
    cached = _PER_LAYOUT.get(id(lay))
    if cached is None or cached[0] is not lay:
        normalized = {key: normalize_formula(text) for key, text in lay.formulas.items()}
        # as XML holds them: UTF-8 (Excel, LibreOffice) or non-ASCII as character references (openpyxl)
        written = {key: (_escaped(text[1:], False), _escaped(text[1:], True)) for key, text in lay.formulas.items()}
        cached = _PER_LAYOUT[id(lay)] = (lay, normalized, written)
    return cached


def _normalized(lay: Layout, sheet: str, ref: str) -> str:
    """The layout's formula for a cell, normalized for comparison."""
    return _cached_forms(lay)[1][(sheet, ref)]


def _written(lay: Layout, sheet: str, ref: str) -> tuple[str, str]:
    """The layout's formula for a cell as a sheet's XML holds it (either way a writer escapes it)."""
    return _cached_forms(lay)[2][(sheet, ref)]


def _describe(lay: Layout, sheet: str, ref: str) -> str:
    """What a formula cell is, in words: the score of an indicator, a sub-total…"""
    row, col = split_ref(ref)
    if sheet == SCORES:
        for s in lay.scores:
            if s.row == row and col == 7:
                return f"{lay.rubric.indicator(s.indicator).name}的分数"
        if row == lay.total_row:
            return "综合评分"
        if row == lay.grade_row:
            return "评分等级"
        for level1, r in lay.subtotal_rows.items():
            if r == row:
                return f"{level1}小计"
    if sheet == TARGETS and col in (6, 7):
        return "是否达成"
    return "公式单元格"


# ------------------------------------------------------------------ what the cells hold


def _check_cells(wb: WorkbookData) -> None:
    """Values no input cell of its kind may hold are refused; other oddities are flagged."""
    lay = wb.layout
    for f in lay.fields:
        raw = wb._raw(*_at(wb, f.name))
        if isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)) and f.kind not in ("text",):
            raise WorkbookError(f"{wb.label}：{wb.where(f.name)}（{f.name}）填的是日期或时间，应为"
                                f"{'数字' if f.kind not in ('check', 'status') else '是/否或规定的文字'}")
    year = wb.value("预算年度")
    if year is not None and not (isinstance(year, float) and year.is_integer() and 2000 <= year <= 2100):
        wb.flags.append(f"预算年度“{year}”应为四位数字的年份（{wb.where('预算年度')}）")
    # content below the target range is not counted: say so
    target_sheet, ref = wb.names["预期指标值"]
    last = _range(ref)[2]
    (top, _left), rows = wb.rows.get(target_sheet, ((0, 0), []))
    below = [i + top + 1 for i, r in enumerate(rows) if i + top + 1 > last + 1 and any(v not in ("", None) for v in r[:5])]
    if below:
        wb.flags.append(f"{target_sheet}第 {below[0]} 行起还有内容，在“预期指标值”范围之外，没有计入"
                        "（请在范围内插入行后再填写）")


def _at(wb: WorkbookData, name: str) -> tuple[str, int, int]:
    sheet, ref = wb.names[name]
    row, col = split_ref(ref.split(":")[0])
    return sheet, row, col


__all__ = ["Deviation", "EXCEL_ERROR_TEXT", "WorkbookData", "normalize_formula", "read_workbook", "scan_sheet"]
