"""Audit and batch results as workbooks a finance bureau reads, sorts, filters and prints.

Two workbooks and one CSV, all built from :class:`~jxtools.audit.AuditReport`
objects (any iterable: a list, or a generator that never holds them all):

* :func:`summary_workbook` (``jx batch -o 汇总.xlsx``): 汇总 (one row per file,
  its 结论 and every indicator's recomputed score), 排名, 评分图 (a bar chart
  of the totals), 等级分布 (with a chart), 指标扣分, 重复;
* :func:`audit_workbook` (``jx audit --format xlsx``): 结论 (one row per file),
  复核结果 (one row per indicator per file), 需要注意;
* :func:`summary_csv` (``jx batch -o 汇总.csv``): the 汇总 rows, UTF-8 with BOM.

Every file gets exactly one 结论, by the precedence in :data:`jxtools.audit.CONCLUSIONS`
(see :func:`conclusion`): 无法读取 > 输入错误 > 分数不一致 > 需注意 > 一致.
一致 is exactly :attr:`AuditReport.ok`.

Each report is reduced as it arrives: the rows its sheets will show go to a
temporary file (:class:`_Spool`), and memory keeps only what the ranking, the
grade counts and the duplicates need (a few fields per file) and running
sums per indicator. Sheets are written once, with openpyxl's streaming
(write-only) worksheets, so the cost is linear in the number of reports and
memory nearly flat. Text that came
from a workbook or a file name is always stored as text, never as a formula
(``=HYPERLINK(...)`` in a 部门名称 stays the words it is). Widths, wrapped
text with row heights that show it, frozen bold headers, filters and A4
landscape printing fitted to the page width are set on every sheet.
"""

from __future__ import annotations

import csv
import io
import math
import pickle
import tempfile
from copy import copy as _copy_style
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.axis import ChartLines
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from jx.rubric import RubricError, load_rubric

from .audit import (AGREES, ATTENTION, CONCLUSIONS, INPUT_ERROR, SCORES_DIFFER, UNREADABLE, AuditReport,  # noqa: F401
                    Finding, _is_number, _score_differences, _total_agrees, conclusion, input_errors)



def _shown(value: Any) -> str:
    if value is None:
        return "空白"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if _is_number(value):
        return f"{value:.2f}"
    return str(value)


def first_difference(report: AuditReport) -> str | None:
    """The first indicator (in rubric order) whose score differs: ``项目完成及时性：填报 5.05，复核 4.98``.

    Then the 综合评分, then the 评分等级; None when everything that could be
    recomputed agrees.
    """
    for f in _score_differences(report):
        return f"{f.name}：填报 {_shown(f.claimed)}，复核 {_shown(f.recomputed)}"
    if report.error is not None or report.total is None:
        return None
    if not _total_agrees(report):
        return f"综合评分：填报 {_shown(report.claimed_total)}，复核 {_shown(report.total)}"
    if report.claimed_grade != report.grade:
        return f"评分等级：填报 {_shown(report.claimed_grade)}，复核 {_shown(report.grade)}"
    return None


# ----------------------------------------------------------------------------- compact rows

def _plain(value: Any) -> Any:
    """A value a cell can hold: numbers stay numbers (2020.0 is 2020), everything else is text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if _is_number(value):
        return value
    return str(value)


@dataclass(slots=True)
class _Row:
    """What the ranking, the grade counts and the duplicates need of one report; the rest is spooled."""

    file: str
    department: Any
    year: Any
    digest: str
    conclusion: str
    total: float | None
    grade: str | None
    claimed_grade: Any


class _Spool:
    """Records kept in a temporary file until their sheet is written: memory does not hold the rows.

    Read as often as needed (the widths are measured in one pass, the sheet
    written in the next); removed when closed or collected.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.count = 0

    def add(self, record: Any) -> None:
        pickle.dump(record, self._file, pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[Any]:
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)
        self._file.seek(0, io.SEEK_END)

    def close(self) -> None:
        self._file.close()


class _Indicators:
    """Indicator names over every edition seen, in rubric order (a new edition's names merged in place)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.meta: dict[str, tuple[str, set[float]]] = {}  # name → (一级指标, maxima)
        self._seen: set[tuple[str, ...]] = set()

    def add(self, findings: Sequence[Finding]) -> None:
        sequence = tuple(f.name for f in findings)
        if sequence in self._seen:
            return
        self._seen.add(sequence)
        position = None  # where this edition's next new name goes
        for i, f in enumerate(findings):
            if f.name in self.meta:
                position = self.names.index(f.name) + 1
                self.meta[f.name][1].add(f.max)
                continue
            if position is None:  # before the first name already known, else after everything
                after = next((g.name for g in findings[i + 1:] if g.name in self.meta), None)
                position = self.names.index(after) if after else len(self.names)
            self.names.insert(position, f.name)
            self.meta[f.name] = (f.level1, {f.max})
            position += 1


@dataclass
class _Lost:
    """One indicator's deductions over the files: how many were scored, how many lost points, sum, most."""

    scored: int = 0
    lost: int = 0
    cents: int = 0  # the deductions' sum in hundredths of a point: exact, whatever the order of the files
    most: float = 0.0

    def add(self, points: float) -> None:
        self.scored += 1
        self.lost += points > 0.004
        self.cents += round(points * 100)
        self.most = max(self.most, points)


class _Collected:
    """Each report reduced as it arrives: a small row in memory, its sheet rows spooled to disk."""

    def __init__(self, reports: Iterable[AuditReport], details: bool = False) -> None:
        self.rows: list[_Row] = []
        self.indicators = _Indicators()
        self.editions: dict[str, None] = {}
        self.lost: dict[str, _Lost] = {}  # indicator name → its deductions
        # per file: (lead values, scores by indicator, marks by indicator, missed, edition, notes)
        self.summary = _Spool()
        self.details = _Spool()  # per indicator of each file: (复核结果 values, status)
        self.notices = _Spool()  # per flag: (file, department, flag)
        for report in reports:
            self._add(report, details)

    def close(self) -> None:
        for spool in (self.summary, self.details, self.notices):
            spool.close()

    def _add(self, report: AuditReport, details: bool) -> None:
        verdict = conclusion(report)
        row = _Row(file=_text(report.file) or "", department=_plain(report.department), year=_plain(report.year),
                   digest=report.digest or "", conclusion=verdict, total=report.total, grade=report.grade,
                   claimed_grade=_plain(report.claimed_grade))
        claimed_total = _plain(report.claimed_total)
        error = report.error if report.error is not None else input_errors(report, named=False)
        lead = [row.file, row.department, row.year, verdict, len(_score_differences(report)), len(report.flags),
                first_difference(report), report.total, claimed_total, report.grade, row.claimed_grade]
        notes = ["\n".join(report.flags) or None, error]
        if report.edition and report.error is None:
            self.editions.setdefault(report.edition)
        self.indicators.add(report.findings)
        scores: dict[str, Any] = {}
        marks: dict[str, str] = {}
        for f in report.findings:
            if f.error is not None:
                scores[f.name], marks[f.name] = INPUT_ERROR, INPUT_ERROR
                continue
            scores[f.name] = f.recomputed
            if f.recomputed is not None:
                self.lost.setdefault(f.name, _Lost()).add(round(f.max - f.recomputed, 2))
            if not f.agrees:
                marks[f.name] = SCORES_DIFFER
        self.summary.add((lead, scores, marks, None if report.error is not None else len(report.missed_targets),
                          report.edition, notes))
        if details:
            self._details(report, row, verdict, claimed_total)
        self.rows.append(row)

    def _details(self, report: AuditReport, row: _Row, verdict: str, claimed_total: Any) -> None:
        who = [row.file, row.department]
        if report.error is not None:
            self.details.add(([*who, None, None, None, None, None, None, UNREADABLE, report.error], UNREADABLE))
        for f in report.findings:
            self.details.add(([*who, f.level1, f.name, f.max, _plain(f.claimed), f.recomputed, f.difference,
                               f.status, "；".join(f.notes) or None], f.status))
        if report.findings:
            total_ok = _total_agrees(report) and report.claimed_grade == report.grade
            difference = (round(report.claimed_total - report.total, 2)
                          if _is_number(report.claimed_total) and report.total is not None else None)
            status = "输入错误" if verdict == INPUT_ERROR else "一致" if total_ok else "不一致"
            self.details.add(([*who, None, "综合评分", sum(f.max for f in report.findings), claimed_total,
                               report.total, difference, status,
                               f"评分等级：填报 {_shown(report.claimed_grade)}，复核 {_shown(report.grade)}"], status))
        for flag in report.flags:
            self.notices.add([*who, flag])


# ----------------------------------------------------------------------------- safe text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32767  # characters Excel keeps in one cell


def _text(value: Any) -> str | None:
    """Text a workbook can store: control characters dropped, undecodable bytes replaced, Excel's length."""
    if value is None:
        return None
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL - 1] + "…"
    return text


def _csv_text(value: Any) -> Any:
    """A CSV field: text that a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str):
        value = _text(value)
        return "'" + value if value.startswith(_FORMULA_START) else value
    return value


# ----------------------------------------------------------------------------- columns

@dataclass(frozen=True)
class Col:
    header: str
    kind: str = "text"  # text | wrap | score | claimed | diff | int | pct
    cap: float = 30  # widest the column gets (width units: a CJK character is about 2)


WRAPPING = {"wrap", "claimed"}  # claimed: a score as filled in, which may be a long text
LEAD = (Col("文件", "wrap", 20), Col("部门", "wrap", 20), Col("年度", "int", 6.5), Col("结论", "text", 11),
        Col("不一致指标数", "int", 7), Col("需注意项数", "int", 7), Col("首个差异", "wrap", 22),
        Col("综合评分（复核）", "score", 8), Col("综合评分（填报）", "claimed", 8),
        Col("评分等级（复核）", "text", 7), Col("评分等级（填报）", "wrap", 7))
NOTES = (Col("需要注意", "wrap", 38), Col("错误", "wrap", 30))
TAIL = (Col("未达成绩效指标数", "int", 8), Col("评分标准版本", "text", 16), *NOTES)


@dataclass(frozen=True)
class _Rows:
    """A table's rows as (values, fills: column index → a key of FILLS), readable more than once."""

    read: Callable[[], Iterable[tuple[Sequence[Any], dict[int, str]]]]
    count: int


def _framed(frame: pd.DataFrame, fills: Sequence[dict[int, str]] = ()) -> _Rows:
    def read():
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            yield values, fills[i] if i < len(fills) else {}

    return _Rows(read, len(frame))


def _summary_table(data: _Collected) -> tuple[list[Col], _Rows]:
    """汇总: the lead columns, every indicator in rubric order, then the tail; and the cells to colour."""
    names = data.indicators.names
    cols = [*LEAD, *(Col(name, "score", 7) for name in names), *TAIL]
    position = {name: len(LEAD) + i for i, name in enumerate(names)}
    verdict = _column(LEAD, "结论")

    def read():
        for lead, scores, marks, missed, edition, notes in data.summary:
            fill = _verdict_fill(verdict, lead[verdict])
            for name, mark in marks.items():
                fill[position[name]] = mark
            yield [*lead, *(scores.get(n) for n in names), missed, edition, *notes], fill

    return cols, _Rows(read, data.summary.count)


def _column(cols: Sequence[Col], header: str) -> int:
    return next(i for i, c in enumerate(cols) if c.header == header)


def _verdict_fill(at: int, verdict: str) -> dict[int, str]:
    """The 结论 cell coloured when the conclusion is not 一致."""
    return {at: verdict} if verdict != AGREES else {}


def _verdict_fills(cols: Sequence[Col], verdicts: Iterable[str]) -> list[dict[int, str]]:
    at = _column(cols, "结论")
    return [_verdict_fill(at, v) for v in verdicts]


# ----------------------------------------------------------------------------- statistics

def _sort_key(value: Any) -> str:
    return "" if value is None else str(value)


def _ranking(data: _Collected) -> tuple[pd.DataFrame, dict[str, int]]:
    """Files with a recomputed total, best first; ties share the best rank (1, 2, 2, 4)."""
    frame = pd.DataFrame({
        "部门": [r.department for r in data.rows], "年度": [r.year for r in data.rows],
        "综合评分（复核）": [r.total for r in data.rows], "评分等级（复核）": [r.grade for r in data.rows],
        "结论": [r.conclusion for r in data.rows], "文件": [r.file for r in data.rows]}, dtype=object)
    excluded = frame["结论"].isin([UNREADABLE, INPUT_ERROR]) | frame["综合评分（复核）"].isna()
    left_out = {UNREADABLE: int((frame["结论"] == UNREADABLE).sum()),
                INPUT_ERROR: int((excluded & (frame["结论"] != UNREADABLE)).sum())}
    ranked = frame[~excluded].copy()
    ranked["_total"] = pd.to_numeric(ranked["综合评分（复核）"]).round(2)
    ranked["_dept"] = ranked["部门"].map(_sort_key)
    ranked["_year"] = ranked["年度"].map(_sort_key)
    ranked = ranked.sort_values(["_total", "_dept", "_year", "文件"], ascending=[False, True, True, True],
                                kind="stable")
    ranked.insert(0, "名次", ranked["_total"].rank(method="min", ascending=False).astype(int))
    return ranked.drop(columns=["_total", "_dept", "_year"]).reset_index(drop=True), left_out


@lru_cache(maxsize=None)
def _grade_order(edition: str) -> tuple[str, ...]:
    """An edition's grades, best first (优 良 中 差)."""
    try:
        return tuple(band.label for band in reversed(load_rubric(edition).grade_bands))
    except (RubricError, OSError, ValueError, KeyError):
        return ()


DEFAULT_GRADES = ("优", "良", "中", "差")


def _grades(data: _Collected) -> tuple[pd.DataFrame, dict[str, int]]:
    """Departments per grade (recomputed and as filled in), in the editions' order of grades."""
    readable = [r for r in data.rows if r.conclusion != UNREADABLE]
    recomputed = pd.Series([r.grade for r in readable if r.grade is not None], dtype=object)
    claimed = pd.Series([r.claimed_grade for r in readable], dtype=object)
    labels: list[str] = []
    for edition in data.editions:
        labels += [g for g in _grade_order(edition) if g not in labels]
    if not labels:
        labels = list(DEFAULT_GRADES)
    labels += sorted({g for g in recomputed if g not in labels}, key=str)
    counts = recomputed.value_counts().reindex(labels, fill_value=0)
    claimed_counts = claimed.value_counts().reindex(labels, fill_value=0)
    graded = int(counts.sum())
    table = pd.DataFrame({"等级": labels, "部门数（复核）": counts.to_numpy().astype(int),
                          "部门数（填报）": claimed_counts.to_numpy().astype(int),
                          "占比（复核）": counts.to_numpy() / graded if graded else [0.0] * len(labels)},
                         dtype=object)
    other = int(claimed.map(lambda g: g not in labels).sum())
    return table, {"graded": graded, "ungraded": len(readable) - graded,
                   "unreadable": len(data.rows) - len(readable), "claimed_other": other}


def _deductions(data: _Collected) -> pd.DataFrame:
    """Per indicator: how many files lost points there, the mean deduction among them and over all, the most."""
    rows = []
    for name in data.indicators.names:
        level1, maxima = data.indicators.meta[name]
        s = data.lost.get(name, _Lost())
        n, lost, total = s.scored, s.lost, s.cents / 100
        most = next(iter(maxima)) if len(maxima) == 1 else "/".join(f"{m:g}" for m in sorted(maxima))
        rows.append([level1, name, most, n, lost, lost / n if n else None, round(total / lost, 2) if lost else None,
                     round(total / n, 2) if n else None, s.most if n else None])
    return pd.DataFrame(rows, columns=[c.header for c in DEDUCTION_COLS], dtype=object)


DEDUCTION_COLS = (Col("一级指标", "text", 12), Col("三级指标", "wrap", 30), Col("分值", "score", 7),
                  Col("参评文件数", "int", 8), Col("扣分文件数", "int", 8), Col("扣分比例", "pct", 9),
                  Col("平均扣分（扣分的文件）", "score", 11), Col("平均扣分（全部参评）", "score", 11),
                  Col("最大扣分", "score", 8))


def _key(value: Any) -> str | None:
    """A department or year as compared for duplicates: width, spaces and 年/年度 do not matter."""
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    for suffix in ("年度", "年"):
        text = text.removesuffix(suffix)
    return text or None


DUPLICATE_COLS = (Col("类型", "text", 18), Col("组", "int", 5), Col("部门", "wrap", 26), Col("年度", "int", 7),
                  Col("文件", "wrap", 30), Col("综合评分（复核）", "score", 9), Col("结论", "text", 12),
                  Col("SHA-256（前 16 位）", "text", 19))
SAME_DEPARTMENT, SAME_FILE = "同一部门同一年度", "文件完全相同"


def _duplicates(data: _Collected) -> pd.DataFrame:
    """The same department and year more than once; byte-identical files (same SHA-256)."""
    frame = pd.DataFrame({"dept": [_key(r.department) for r in data.rows],
                          "year": [_key(r.year) or "" for r in data.rows],
                          "digest": [r.digest for r in data.rows]}, dtype=object)
    frame["i"] = range(len(frame))
    parts = []
    named = frame[frame["dept"].notna()]
    same = named[named.duplicated(["dept", "year"], keep=False)].copy()
    same["组"] = same.groupby(["dept", "year"], sort=False).ngroup() + 1
    same["类型"] = SAME_DEPARTMENT
    parts.append(same)
    hashed = frame[frame["digest"] != ""]
    identical = hashed[hashed.duplicated("digest", keep=False)].copy()
    identical["组"] = identical.groupby("digest", sort=False).ngroup() + 1
    identical["类型"] = SAME_FILE
    parts.append(identical)
    found = pd.concat(parts).sort_values(["类型", "组", "i"], key=lambda s: s.map(_type_order) if s.name == "类型" else s,
                                         kind="stable")
    rows = []
    for kind, group, i in zip(found["类型"], found["组"], found["i"]):
        r = data.rows[i]
        rows.append([kind, int(group), r.department, r.year, r.file, r.total, r.conclusion,
                     r.digest[:16] or None])
    return pd.DataFrame(rows, columns=[c.header for c in DUPLICATE_COLS], dtype=object)


def _type_order(kind: str) -> int:
    return 0 if kind == SAME_DEPARTMENT else 1


# ----------------------------------------------------------------------------- writing

FONT = "宋体"
SIZE = 10
LINE = 14.5  # points per wrapped line of 10 pt CJK text (Noto CJK and SimSun both fit)
PAD = 3.0
MAX_ROW_HEIGHT = 409.0  # Excel's limit
FILLS = {SCORES_DIFFER: "FFC7CE", INPUT_ERROR: "F8CBAD", UNREADABLE: "D9D9D9", ATTENTION: "FFEB9C",
         "header": "DDEBF7"}
STATUS_FILL = {"不一致": SCORES_DIFFER, "未计算": SCORES_DIFFER, "输入错误": INPUT_ERROR,
               "一致（输入错误）": INPUT_ERROR, UNREADABLE: UNREADABLE}
NUMBER_FORMATS = {"score": "0.00", "claimed": "0.00", "diff": "+0.00;-0.00;0.00", "int": "0", "pct": "0.00%"}
STYLE_NAMES = {"header": "表头", "text": "文本", "wrap": "换行文本", "score": "分数", "claimed": "填报分数",
               "diff": "差异", "int": "整数", "pct": "百分比", "note": "说明"}
EDGE = Side(style="thin", color="BFBFBF")
BORDER = Border(left=EDGE, right=EDGE, top=EDGE, bottom=EDGE)
CHART_MAX = 100  # departments drawn in the bar chart of totals
MAX_ROWS = 1_048_576 - 1 - 10  # data rows a sheet holds under its header, leaving room for the notes


def display_width(text: str) -> float:
    """Width units a line of 10 pt text takes: a CJK (3-byte UTF-8) character about 2 (1.9), others 1.

    A unit is the default font's digit (7 px); 宋体 10 pt draws a CJK character
    in about 13.3 px and an ASCII one in 6.7 px.
    """
    wide = (len(text.encode("utf-8", "replace")) - len(text)) // 2
    return 1.9 * wide + (len(text) - wide)


def _shown_width(value: Any, kind: str) -> float:
    if value is None:
        return 0
    if isinstance(value, str):
        return max((display_width(p) for p in value.split("\n")), default=0)
    if kind == "pct":
        return 8.5
    if kind in ("score", "claimed", "diff") and isinstance(value, float):
        return 1.2 * len(f"{value:+.2f}")
    return 1.2 * len(str(value))  # digits are a little wider than 1 unit in most fonts


CELL_PADDING = 0.7  # width units a cell keeps free around its text


def lines_needed(value: Any, width: float) -> int:
    """Lines a wrapped text takes in a column this wide (a little slack for words that do not break)."""
    if not isinstance(value, str) or not value:
        return 1
    usable = max(1.0, width - CELL_PADDING)
    lines = 0
    for paragraph in value.split("\n"):
        used = display_width(paragraph)
        lines += 1 if used <= usable else math.ceil(used * 1.05 / usable)
    return lines


def column_width(col: Col, content: float) -> float:
    """Wide enough for the longest value (up to the column's cap) and for the header on two or three lines."""
    header = display_width(col.header)
    wanted = max(6.0, content + CELL_PADDING + 0.5, header / 2.6 + CELL_PADDING + 0.5)
    return min(float(col.cap), math.ceil(wanted * 2) / 2)


def row_height(lines: int) -> float:
    return min(MAX_ROW_HEIGHT, lines * LINE + PAD)


class _Book:
    """A streaming workbook with the bureau's styles; every sheet is written top to bottom once."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self._styles: dict[tuple[str, str | None], str] = {}
        self._protos: dict[tuple[str, str | None], Any] = {}  # style → openpyxl's StyleArray of a cell so styled

    def style(self, kind: str, fill: str | None = None) -> str:
        key = (kind, fill)
        if key not in self._styles:
            name = f"JX {STYLE_NAMES[kind]}" + (f"（{fill}）" if fill else "")
            header = kind == "header"
            style = NamedStyle(name=name, font=Font(name=FONT, size=SIZE, bold=header, italic=kind == "note",
                                                   color="595959" if kind == "note" else None),
                               border=BORDER if kind != "note" else Border(),
                               alignment=Alignment(wrap_text=header or kind in WRAPPING,
                                                   vertical="center" if header else "top",
                                                   horizontal="center" if header else None),
                               number_format=NUMBER_FORMATS.get(kind, "General"))
            colour = FILLS.get("header" if header else fill)
            if colour:
                style.fill = PatternFill("solid", fgColor=colour)
            self.wb.add_named_style(style)
            self._styles[key] = name
        return self._styles[key]

    def cell(self, ws, value: Any, kind: str, fill: str | None = None) -> WriteOnlyCell:
        if isinstance(value, float) and math.isnan(value):
            value = None
        if isinstance(value, str):
            cell = WriteOnlyCell(ws, _text(value))
            cell.data_type = "s"  # text, whatever it starts with: never a formula or an error value
        else:
            if hasattr(value, "item"):  # numpy scalars from pandas
                value = value.item()
            cell = WriteOnlyCell(ws, _plain(value))
        proto = self._protos.get((kind, fill))
        if proto is None:  # the first cell of its style: named once, then its style array is copied (fast)
            cell.style = self.style(kind, fill)
            self._protos[(kind, fill)] = proto = cell._style
        cell._style = _copy_style(proto)
        return cell

    def table(self, title: str, cols: Sequence[Col], rows: _Rows, freeze: str = "A2", notes: Sequence[str] = (),
              before_rows: Callable[[Any], None] | None = None, repeat_columns: int = 0):
        """A sheet with one header row and one row per row of ``rows``; ``notes`` under it, outside the filter.

        The rows are read twice: once to size the columns to their content,
        once to write them (each row's height from its wrapped text). A table
        too wide for one page prints across several, the first
        ``repeat_columns`` columns repeated on each. More rows than a sheet
        holds continue on sheets named ``title（2）`` and so on. Returns the
        first sheet.
        """
        content = [0.0] * len(cols)
        for values, _fill in rows.read():
            for i, (value, col) in enumerate(zip(values, cols)):
                content[i] = max(content[i], _shown_width(value, col.kind))
        widths = [column_width(col, c) for col, c in zip(cols, content)]
        parts = max(1, math.ceil(rows.count / MAX_ROWS))
        remaining = iter(rows.read())
        first = None
        for part in range(parts):
            count = min(MAX_ROWS, rows.count - part * MAX_ROWS)
            ws = self._sheet(title if part == 0 else f"{title}（{part + 1}）", cols, widths,
                             islice(remaining, MAX_ROWS), count, freeze, notes if part == parts - 1 else (),
                             before_rows if part == 0 else None, repeat_columns)
            first = first or ws
        return first

    def _sheet(self, title, cols, widths, rows, count, freeze, notes, before_rows, repeat_columns):
        ws = self.wb.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = freeze
        last = get_column_letter(len(cols))
        ws.auto_filter.ref = f"A1:{last}{count + 1}"
        across = pages_across(widths)
        if across > 1 and repeat_columns:
            across = pages_across(widths, sum(widths[:repeat_columns]))
            ws.print_title_cols = f"A:{get_column_letter(repeat_columns)}"
        _print_setup(ws, across)
        if before_rows:
            before_rows(ws)
        ws.row_dimensions[1].height = row_height(max(lines_needed(c.header, w) for c, w in zip(cols, widths)))
        ws.append([self.cell(ws, c.header, "header") for c in cols])
        wrapped = [(i, w) for i, (c, w) in enumerate(zip(cols, widths)) if c.kind in WRAPPING]
        kinds = [c.kind for c in cols]
        for number, (values, fill) in enumerate(rows, start=2):
            ws.row_dimensions[number].height = row_height(max((lines_needed(values[i], w) for i, w in wrapped),
                                                              default=1))
            ws.append([self.cell(ws, v, k, fill.get(i)) for i, (v, k) in enumerate(zip(values, kinds))])
            del ws.row_dimensions[number]  # the row is written: its height need not be kept
        if notes:
            ws.append([])
            for note in notes:
                ws.append([self.cell(ws, note, "note")])
        return ws

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


PAGE_UNITS = 149  # width units (7 px) across an A4 landscape page at 100 % (0.4 inch side margins)
MIN_SCALE = 0.7  # a wide table goes onto more pages across rather than print smaller than this


def pages_across(widths: Sequence[float], repeated: float = 0.0) -> int:
    """Pages a table needs across so that it prints at MIN_SCALE or larger (``repeated`` columns on each page)."""
    total = sum(w + 0.7 for w in widths)  # each column also takes a few pixels of padding
    pages = 1
    while pages * PAGE_UNITS < MIN_SCALE * (total + repeated * (pages - 1)) and pages < 20:
        pages += 1
    return pages


def _print_setup(ws, across: int = 1, titles: bool = True) -> None:
    """A4 landscape fitted to ``across`` pages wide (any number down), header row on every page, page numbers."""
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = across
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if titles:
        ws.print_title_rows = "1:1"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.8
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = "&A"
    ws.oddHeader.center.size = 10
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 9


# ----------------------------------------------------------------------------- charts

def _labels() -> DataLabelList:
    """The value on each bar, nothing else (LibreOffice shows names too unless told not to)."""
    return DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
                         showPercent=False, showBubbleSize=False)


def _text_size(points: float) -> RichText:
    size = int(points * 100)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size)), r=[],
                                 endParaRPr=CharacterProperties(sz=size))])


def _text_categories(chart: BarChart, ref: Reference) -> None:
    """Categories that are text (department names, grades) as a string reference, as Excel writes them."""
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(ref)))


def _axes(chart) -> None:
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl 3.1 otherwise leaves the axes hidden in Excel
        axis.txPr = _text_size(9)


BAR_CM = 0.5  # height per department in the chart of totals
CHART_PAGE_CM = 16.5  # chart height that prints on one A4 landscape page


def _totals_chart(rank_ws, count: int) -> BarChart:
    """Horizontal bars of the recomputed totals, best at the top (at most CHART_MAX departments)."""
    shown = min(count, CHART_MAX)
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "综合评分（复核）" + (f"：前 {shown} 名" if count > shown else "")
    chart.add_data(Reference(rank_ws, min_col=4, min_row=1, max_row=shown + 1), titles_from_data=True)
    _text_categories(chart, Reference(rank_ws, min_col=2, min_row=2, max_row=shown + 1))
    chart.x_axis.scaling.orientation = "maxMin"  # rank 1 on top
    chart.x_axis.tickLblSkip = 1  # every department named
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.y_axis.majorUnit = 10
    chart.y_axis.number_format = "0"
    chart.y_axis.majorGridlines = ChartLines()
    chart.legend = None
    chart.dataLabels = _labels()
    chart.dataLabels.numFmt = "0.00"
    chart.dataLabels.txPr = _text_size(8)
    chart.gapWidth = 40
    _axes(chart)
    chart.x_axis.txPr = _text_size(8)  # department names
    chart.width = 25.0
    chart.height = max(8.0, 2.5 + BAR_CM * shown)
    return chart


def _grade_chart(ws, grades: int) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.style = 10
    chart.title = "等级分布（部门数）"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=grades + 1), titles_from_data=True)
    _text_categories(chart, Reference(ws, min_col=1, min_row=2, max_row=grades + 1))
    chart.y_axis.scaling.min = 0
    chart.y_axis.number_format = "0"
    chart.y_axis.majorGridlines = ChartLines()
    chart.dataLabels = _labels()
    chart.legend.position = "b"
    _axes(chart)
    chart.width, chart.height = 15.0, 9.0
    return chart


# ----------------------------------------------------------------------------- the workbooks

RANK_COLS = (Col("名次", "int", 6), Col("部门", "wrap", 30), Col("年度", "int", 7), Col("综合评分（复核）", "score", 10),
             Col("评分等级（复核）", "text", 9), Col("结论", "text", 12), Col("文件", "wrap", 30))
GRADE_COLS = (Col("等级", "text", 8), Col("部门数（复核）", "int", 9), Col("部门数（填报）", "int", 9),
              Col("占比（复核）", "pct", 10))


def summary_workbook(reports: Iterable[AuditReport]) -> bytes:
    """The batch summary (``jx batch -o 汇总.xlsx``): 汇总, 排名, 评分图, 等级分布, 指标扣分, 重复."""
    data = _Collected(reports)
    try:
        return _summary(data)
    finally:
        data.close()


def _summary(data: _Collected) -> bytes:
    book = _Book()
    cols, rows = _summary_table(data)
    book.table("汇总", cols, rows, freeze="C2", repeat_columns=2)

    ranked, left_out = _ranking(data)
    rank_fills = _verdict_fills(RANK_COLS, ranked["结论"])
    rank_notes = [f"共 {len(ranked)} 个文件参与排名（按复核的综合评分，同分并列，取最小名次，如 1、2、2、4）。"]
    if any(left_out.values()):
        rank_notes.append(f"未参与排名：无法读取 {left_out[UNREADABLE]} 个，输入错误 {left_out[INPUT_ERROR]} 个（见“汇总”的“错误”列）。")
    rank_ws = book.table("排名", RANK_COLS, _framed(ranked[[c.header for c in RANK_COLS]], rank_fills),
                         notes=rank_notes)

    chart_ws = book.wb.create_sheet("评分图")
    _print_setup(chart_ws, titles=False)
    if len(ranked):
        chart = _totals_chart(rank_ws, len(ranked))
        chart_ws.add_chart(chart, "A1")
        if chart.height <= CHART_PAGE_CM * 1.25:  # a little too tall for a page: shrink it onto one
            chart_ws.page_setup.fitToHeight = 1
    else:
        chart_ws.append([book.cell(chart_ws, "没有可排名的文件。", "note")])

    grades, counts = _grades(data)
    grade_notes = [f"按复核的综合评分评定等级：{counts['graded']} 个文件。"]
    if counts["ungraded"] or counts["unreadable"]:
        grade_notes.append(f"未评定：输入错误 {counts['ungraded']} 个，无法读取 {counts['unreadable']} 个。")
    if counts["claimed_other"]:
        grade_notes.append(f"填报的评分等级为空或不是以上等级：{counts['claimed_other']} 个。")
    book.table("等级分布", GRADE_COLS, _framed(grades), notes=grade_notes,
               before_rows=lambda ws: ws.add_chart(_grade_chart(ws, len(grades)), "F2"))

    deductions = _deductions(data)
    book.table("指标扣分", DEDUCTION_COLS, _framed(deductions),
               notes=["扣分＝分值−复核分数；参评文件：复核得出该指标分数的文件（输入错误的指标、无法读取的文件不计）。"])

    duplicates = _duplicates(data)
    dup_fills = _verdict_fills(DUPLICATE_COLS, duplicates["结论"])
    dup_notes = ([] if len(duplicates) else ["未发现重复：没有同一部门同一年度的多个文件，也没有内容完全相同的文件。"])
    dup_notes.append("同一部门同一年度：部门名称忽略空格和全角半角；文件完全相同：SHA-256 相同。")
    book.table("重复", DUPLICATE_COLS, _framed(duplicates, dup_fills), notes=dup_notes)
    return book.save()


AUDIT_COLS = (Col("文件", "wrap", 24), Col("部门", "wrap", 24), Col("一级指标", "text", 10), Col("三级指标", "wrap", 24),
              Col("分值", "score", 7), Col("填报分数", "claimed", 9), Col("复核分数", "score", 9), Col("差异", "diff", 7),
              Col("结论", "text", 14), Col("扣分原因或错误", "wrap", 60))
NOTICE_COLS = (Col("文件", "wrap", 30), Col("部门", "wrap", 30), Col("需要注意", "wrap", 90))


def audit_workbook(reports: Iterable[AuditReport]) -> bytes:
    """The audit (``jx audit --format xlsx``): 结论 per file, 复核结果 per indicator, 需要注意."""
    data = _Collected(reports, details=True)
    try:
        book = _Book()
        cols = [*LEAD, *NOTES]
        verdict = _column(cols, "结论")
        conclusions = _Rows(lambda: (([*lead, *notes], _verdict_fill(verdict, lead[verdict]))
                                     for lead, _scores, _marks, _missed, _edition, notes in data.summary),
                            data.summary.count)
        book.table("结论", cols, conclusions, freeze="C2", repeat_columns=2)
        status = _column(AUDIT_COLS, "结论")
        results = _Rows(lambda: ((values, {status: STATUS_FILL[s]} if s in STATUS_FILL else {})
                                 for values, s in data.details), data.details.count)
        book.table("复核结果", AUDIT_COLS, results, freeze="E2", repeat_columns=2)
        notices = _Rows(lambda: ((values, {}) for values in data.notices), data.notices.count)
        book.table("需要注意", NOTICE_COLS, notices, notes=[] if data.notices.count else ["没有需要注意的问题。"])
        return book.save()
    finally:
        data.close()


def summary_csv(reports: Iterable[AuditReport]) -> bytes:
    """The 汇总 rows as CSV (``jx batch -o 汇总.csv``): UTF-8 with BOM, formula-like text quoted with '."""
    data = _Collected(reports)
    try:
        cols, rows = _summary_table(data)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.header for c in cols])
        for values, _fill in rows.read():
            writer.writerow(["" if v is None else _csv_text(_plain(v)) for v in values])
        return out.getvalue().encode("utf-8-sig")
    finally:
        data.close()


__all__ = ["CONCLUSIONS", "audit_workbook", "conclusion", "first_difference", "summary_csv", "summary_workbook"]
