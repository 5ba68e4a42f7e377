"""Read what a filled workbook shows: named inputs and cached results.

python-calamine reads the cell values (for a formula cell: the value last
calculated, or blank if it never was); the defined names, parsed from
``xl/workbook.xml``, say where each named input and score lives. The file has
passed :func:`jxtools.workbook_io.open_checked` before any of this runs.
The workbook's edition is the id in its named cell 评分标准版本; a workbook
naming an edition this installation lacks is refused, never scored by another.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addin.layout import EDITION_NAME
from jx.rubric import Rubric, RubricError, load_rubric
from jx.values import ERROR_NAMES

from .workbook_io import WorkbookError, defined_names, open_checked, sheet_paths

EXCEL_ERROR_TEXT = ERROR_NAMES


def column_index(letters: str) -> int:
    """A → 1, AA → 27."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def _split(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if not match:
        raise ValueError(ref)
    return int(match.group(2)) - 1, column_index(match.group(1)) - 1


@dataclass
class WorkbookData:
    path: Path
    names: dict[str, tuple[str, str]]
    sheets: dict[str, tuple[tuple[int, int], list[list[Any]]]] = field(default_factory=dict)
    rubric: Rubric | None = None

    def cell(self, sheet: str, ref: str) -> Any:
        """A cell's value; None for an empty cell (calamine gives "")."""
        if sheet not in self.sheets:
            raise WorkbookError(f"{self.path.name}：缺少工作表“{sheet}”")
        (top, left), rows = self.sheets[sheet]
        row, col = _split(ref)
        row, col = row - top, col - left
        if 0 <= row < len(rows) and 0 <= col < len(rows[row]):
            value = rows[row][col]
            return None if value == "" else value
        return None

    def has(self, name: str) -> bool:
        return name in self.names

    def where(self, name: str) -> str:
        sheet, ref = self._name(name)
        return f"{sheet}!{ref}"

    def _name(self, name: str) -> tuple[str, str]:
        if name not in self.names:
            raise WorkbookError(f"{self.path.name}：缺少名称“{name}”（不是本模板生成的工作簿，或名称被删除）")
        return self.names[name]

    def value(self, name: str) -> Any:
        sheet, ref = self._name(name)
        return self.cell(sheet, ref.split(":")[0])

    def shown(self, name: str) -> Any:
        """What a named result cell shows, including a cached error value (#VALUE!).

        calamine reads a cached error as blank; only then is the sheet's XML
        consulted, so the common case costs nothing extra.
        """
        value = self.value(name)
        if value is not None:
            return value
        sheet, ref = self._name(name)
        part = sheet_paths(self.path).get(sheet)
        if part is None:
            return None
        with zipfile.ZipFile(self.path) as archive:
            xml = archive.read(part).decode("utf-8")
        match = re.search(r'<c r="' + ref.split(":")[0] + r'"[^>]*\bt="e"[^>]*>.*?<v>([^<]*)</v>', xml, re.S)
        return match.group(1) if match else None

    def column(self, name: str, offset: int = 0) -> list[tuple[int, Any]]:
        """(row number, value) for every cell of a one-column named range.

        ``offset`` reads the column that many places to the right instead
        (the 三级指标 names beside the 预期指标值, say).
        """
        sheet, ref = self._name(name)
        first, last = ref.split(":")
        (r1, col), (r2, _c2) = _split(first), _split(last)
        if sheet not in self.sheets:
            raise WorkbookError(f"{self.path.name}：缺少工作表“{sheet}”")
        (top, left), rows = self.sheets[sheet]
        col = col + offset - left
        out = []
        for r in range(r1, r2 + 1):
            row = rows[r - top] if 0 <= r - top < len(rows) else ()
            value = row[col] if 0 <= col < len(row) else None
            out.append((r + 1, None if value == "" else value))
        return out


def read_workbook(path: Path, sheets: tuple[str, ...] | None = None) -> WorkbookData:
    """Check, then read the named cells' workbook; raises WorkbookError with a Chinese message."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    open_checked(path).close()
    data = WorkbookData(path=path, names=defined_names(path))
    try:
        book = CalamineWorkbook.from_path(str(path))
        wanted = sheets if sheets is not None else tuple(book.sheet_names)
        for name in wanted:
            if name not in book.sheet_names:
                continue
            sheet = book.get_sheet_by_name(name)
            data.sheets[name] = (tuple(sheet.start or (0, 0)), sheet.to_python(skip_empty_area=False))
        book.close()
    except WorkbookError:
        raise
    except Exception as error:  # calamine's own errors: corrupt zip member, bad XML
        raise WorkbookError(f"{path.name}：无法读取（{type(error).__name__}: {error}）") from None
    data.rubric = edition_of(path, lambda: data.value(EDITION_NAME), EDITION_NAME in data.names)
    return data


def edition_of(path: Path, value, named: bool) -> Rubric:
    """The edition a workbook records in its named cell 评分标准版本, or a Chinese refusal."""
    if not named:
        raise WorkbookError(f"{Path(path).name}：缺少名称“{EDITION_NAME}”（不是本模板生成的工作簿，或名称被删除）")
    edition = value()
    if not isinstance(edition, str) or not edition.strip():
        raise WorkbookError(f"{Path(path).name}：{EDITION_NAME}为空，无法确定按哪一版评分标准评分")
    try:
        return load_rubric(edition.strip())
    except RubricError as error:
        raise WorkbookError(f"{Path(path).name}：按工作簿记录的{EDITION_NAME}“{edition.strip()}”无法评分——{error}") from None
