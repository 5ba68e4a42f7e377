"""Draft the 部门整体绩效自评报告 (Word) from a filled workbook.

Every figure in the draft comes from one computation, the audit's
(:func:`jxtools.audit.audit_data`): the scores, the rates behind them, the
sub-totals, the deductions (max − score of the rounded values, so 6 − 4.98 is
1.02 wherever it is written) and the total. The document follows the
structure and the formulaic sentences of the reference report
(深圳市科协 2020), for any edition: one section per level1 group of the
edition, a numbered subsection per level2 with its sub-total, a paragraph per
indicator. The department's own words come from the optional cells of the
报告文字 sheet; an empty one leaves a highlighted 【待填写：…】, never a
sentence made up. What the audit flags is listed in a 需要注意 box at the top.

Styles are set once (正文 宋体, headings 黑体, a table style); LibreOffice
substitutes a Simplified Chinese font where 宋体/黑体 are missing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addin.layout import MET_WORD, MISSED_WORD, REPORT_TEXTS, SELF, TARGETS, UNJUDGED_WORD, Text
from jx.excel import excel_round
from jx.expr import Ref
from jx.rubric import Indicator, Rubric
from jx.shapes import (CheckPart, EvaluatorPart, MeasuredPart, Part, PartialPart, PerItemPart, SchedulePart, Slot,
                       StatusesPart, bound, pct)

from .audit import AuditReport, Finding, input_errors, trusted
from .reading import WorkbookData
from .workbook_io import WorkbookError

BODY_FONT, HEADING_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
NOTICE_FILL, HEADER_FILL, MISSED_FILL = "FFF2CC", "D9E2F3", "FCE4D6"
MISSED, MET, UNJUDGED = MISSED_WORD, MET_WORD, UNJUDGED_WORD
SUFFIX = "-report"  # IN.xlsm → IN-report.docx

# Styles of the document (built-in names where Word has one: they show in its navigation pane).
TITLE, H1, H2, H3 = "Title", "Heading 1", "Heading 2", "Heading 3"
INFO, INFO_SMALL, CAPTION, NOTE = "封面信息", "封面说明", "表题", "注释"
CELL, CELL_HEAD, CELL_NUMBER, CELL_CENTER = "表格文字", "表头", "表格数字", "表格居中"
BLANK, STRONG, TABLE = "待填写", "强调", "JX 表格"


@dataclass
class Draft:
    """One workbook's draft: the .docx bytes and what its 需要注意 box lists, or why there is none."""

    file: str
    document: bytes | None = None
    notices: list[str] = field(default_factory=list)
    error: str | None = None
    path: Path | None = None
    blanks: int = 0  # how many 【待填写：…】 the draft leaves


# ------------------------------------------------------------------ numbers as the report writes them


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: float) -> str:
    """A score as the report writes it: Excel's ROUND to 2 decimals, trailing zeros dropped (1.89, 4.5, 10)."""
    text = f"{excel_round(value, 2):.2f}"
    return text.rstrip("0").rstrip(".")


def _points(value: float) -> str:
    """A part's points in a table: always two decimals (0.59, 2.40)."""
    return f"{excel_round(value, 2):.2f}"


def score_rate(points: float, maximum: float) -> str:
    """得分率 as the report writes it: 94.5%, 100%, 77.33% (of the rounded score)."""
    return f"{number(points / maximum * 100)}%" if maximum else "—"


def amount(value: float) -> str:
    """An amount in 元: 1,515,600.00."""
    return f"{excel_round(value, 2):,.2f}"


def deduction(finding: Finding) -> float:
    """max − score, of the rounded values."""
    return excel_round(finding.max - finding.recomputed, 2)


_CN = "零一二三四五六七八九十"


def chinese(n: int, two: bool = False) -> str:
    """1 → 一, 12 → 十二; ``two`` writes 2 as 两 (两个方面)."""
    if n == 2 and two:
        return "两"
    if n <= 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n - 10] if n > 10 else "")
    return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")


def _label(value: Any) -> str | None:
    """A department name or a year as written (2020, not 2020.0); None when blank."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


# ------------------------------------------------------------------ what one report says


@dataclass
class _Facts:
    data: WorkbookData
    report: AuditReport
    rubric: Rubric
    findings: dict[str, Finding]
    department: str | None
    year: str | None
    notices: list[str]


def notices(report: AuditReport) -> list[str]:
    """What the 需要注意 box lists: the audit's flags, then scores the workbook shows that the audit does not confirm."""
    out = list(report.flags)
    uncalculated = [f for f in report.findings if f.claimed is None]
    if uncalculated and len(uncalculated) == len(report.findings):
        out.append("工作簿中的分数尚未计算（未在 Excel 中打开计算，也未经 jx recalc），"
                   "本报告按复核结果填写；提交的工作簿应先完成计算")
    else:
        for f in report.findings:
            if f.error is None and not f.agrees:
                shown = "未计算" if f.claimed is None else (number(f.claimed) if _is_number(f.claimed) else str(f.claimed))
                out.append(f"评分表中“{f.name}”显示 {shown}，按评分规则复核为 {number(f.recomputed)} 分；本报告采用复核分数")
    if (report.total is not None and _is_number(report.claimed_total)
            and abs(report.claimed_total - report.total) >= 0.005 and not uncalculated):
        out.append(f"评分表显示的综合评分 {number(report.claimed_total)} 与复核结果 {number(report.total)} 不符；本报告采用复核结果")
    if report.grade is not None and report.claimed_grade not in (None, report.grade) and not uncalculated:
        out.append(f"评分表显示的评分等级“{report.claimed_grade}”与复核结果“{report.grade}”不符")
    return out


def _facts(data: WorkbookData, report: AuditReport) -> _Facts:
    return _Facts(data, report, data.rubric, {f.indicator: f for f in report.findings},
                  _label(report.department), _label(report.year), notices(report))


def _text(data: WorkbookData, name: str) -> list[str]:
    """A text cell of 报告文字 as paragraphs (one per line); [] when blank or absent."""
    if not data.has(name):
        return []
    value = _label(data.value(name))
    if value is None:
        return []
    return [line.strip() for line in value.splitlines() if line.strip()]


def _blank_label(text: Text) -> str:
    """What a placeholder asks for: the section's title without its numbering (部门主要职能)."""
    return re.sub(r"^[一二三四五六七八九十]+、(（[一二三四五六七八九十]+）)?", "", text.section)


_READERS: dict[tuple[int, str, str], Any] = {}


def _truth(slot: Slot, value: Any, rubric: Rubric) -> bool:
    """A 是/否 input as the rules read it (√, TRUE, 1 …)."""
    key = (id(rubric), slot.label, slot.kind)
    reader = _READERS.get(key)
    if reader is None:
        reader = _READERS[key] = slot.read(Ref("x"), rubric.vocabulary).compile()
    return bool(reader({"x": value}))


def _shown(slot: Slot | None, value: Any, rubric: Rubric) -> str:
    """An input's value as the report writes it, by its kind: 1,515,600.00 元, 4人, 23.53%, 是."""
    kind, unit = (slot.kind, slot.unit) if slot is not None else ("number", "")
    if value is None:
        return "（未填写）"
    if kind == "check" and slot is not None:
        return "是" if _truth(slot, value, rubric) else "否"
    if _is_number(value):
        if kind == "amount":
            return f"{amount(value)} {unit or '元'}"
        if kind == "rate":
            return pct(value)
        if kind in ("partial", "score"):
            return f"{number(value)}分"
        return f"{number(value)}{unit}"
    return str(value).strip()


def _input_slot(rubric: Rubric, name: str) -> Slot | None:
    try:
        return rubric.input(name)
    except KeyError:
        return None


def _formula(measure, values: Sequence[Any]) -> str | None:
    """The rate with the numbers put in (34/41, 4/(13+4)) when every input is a count."""
    if not values or not all(_is_number(v) for v in values) or measure.shape == "rate":
        return None
    return measure.written([str(number(v)) for v in values])


def _rate_phrase(label: str, rate: float | None, measure, slots: Sequence[Slot | None],
                 values: Sequence[Any]) -> str | None:
    """``项目完成率=已完成项目数/计划项目数=34/41=82.93%`` for counts, ``政府采购执行率89.47%`` otherwise."""
    if rate is None:
        return None
    counts = bool(slots) and all(s is not None and s.kind == "count" for s in slots)
    if counts and measure is not None and measure.shape != "rate":
        numbers = _formula(measure, values)
        if numbers:
            return f"{label}={measure.describe()}={numbers}={pct(rate)}"
    return f"{label}{pct(rate)}"


def _behind(slot: Slot, value: Any, facts: _Facts) -> tuple[list[tuple[Slot | None, Any]], Any]:
    """The named inputs behind one argument: itself, or the inputs its rate is computed from."""
    if slot.source is None:
        return [(slot, value)], None
    names = slot.source.inputs
    pairs = [(_input_slot(facts.rubric, n), facts.data.value(n) if facts.data.has(n) else None) for n in names]
    pairs = [(s if s is not None else Slot(None, n, n, "number"), v) for (s, v), n in zip(pairs, names)]
    try:
        measure = facts.rubric.measure_function(slot.source.function).measure
    except KeyError:
        measure = None
    return pairs, measure


def _inputs_phrase(pairs: Sequence[tuple[Slot | None, Any]], rubric: Rubric) -> list[str]:
    return [f"{s.label if s is not None else ''}为{_shown(s, v, rubric)}" for s, v in pairs if s is not None]


def basis(ind: Indicator, finding: Finding, facts: _Facts) -> list[str]:
    """What the score rests on, part by part: the inputs, the rates measured, the checks met."""
    rubric = facts.rubric
    values = [v for _label_, v in finding.inputs]
    slots = ind.slots()
    by_slot = dict(zip((id(s) for s in slots), values))
    measures = list(finding.measures)
    out: list[str] = []
    if ind.override is not None:
        slot = ind.override.input
        value = by_slot.get(id(slot))
        held = _truth(slot, value, rubric) if slot.kind == "check" else bool(value)
        if held:
            return [f"{slot.label}：是，本项指标得{number(ind.override.points)}分"]
    for part in ind.parts:
        out += _part_basis(part, by_slot, measures, facts, finding)
    if ind.override is not None:
        out.append(f"{ind.override.input.label}：否")
    return out


def _take(measures: list[tuple[str, float]], label: str) -> float | None:
    for i, (name, value) in enumerate(measures):
        if name == label:
            del measures[i]
            return value
    return None


def _part_basis(part: Part, by_slot: dict[int, Any], measures: list, facts: _Facts, finding: Finding) -> list[str]:
    rubric = facts.rubric
    if isinstance(part, CheckPart):
        met = _truth(part.input, by_slot.get(id(part.input)), rubric)
        return [f"{part.label}，得{number(part.points)}分" if met else f"未满足“{part.label}”，得0分"]
    if isinstance(part, (PartialPart, EvaluatorPart)):
        value = by_slot.get(id(part.input))
        points = number(value) if _is_number(value) else _shown(part.input, value, rubric)
        text = f"{part.label}得{points}分（满分{number(part.points)}分）"
        if isinstance(part, EvaluatorPart) and part.against_targets and facts.report.targets:
            missed = len(facts.report.missed_targets)
            text += (f"；年度绩效指标共{facts.report.targets}项，未达成{missed}项"
                     + ("（见四、自评表中标为“未达成”的指标）" if missed else ""))
        return [text]
    if isinstance(part, PerItemPart):
        return [f"{s.label}为{_shown(s, by_slot.get(id(s)), rubric)}" for s in part.slots()]
    if isinstance(part, StatusesPart):
        return [f"{part.label}：{_shown(part.input, by_slot.get(id(part.input)), rubric)}"]
    if isinstance(part, MeasuredPart):
        m = part.measure
        pairs: list[tuple[Slot | None, Any]] = []
        source_measure = None
        for slot in m.slots:
            behind, source_measure = _behind(slot, by_slot.get(id(slot)), facts)
            pairs += behind
        rate = _take(measures, m.label)
        texts = _inputs_phrase([p for p in pairs if p[0] is not None and p[0].kind != "rate"], rubric)
        if m.shape == "rate" and source_measure is not None:  # a rate computed by another function
            phrase = _rate_phrase(m.label, rate, source_measure, [s for s, _ in pairs], [v for _, v in pairs])
        else:
            phrase = _rate_phrase(m.label, rate, m, list(m.slots), [by_slot.get(id(s)) for s in m.slots])
        return texts + ([phrase] if phrase else [])
    if isinstance(part, SchedulePart):
        rates = [(p, _take(measures, p.rate.label)) for p in part.periods]
        average = _take(measures, part.average_label)
        out = []
        last, last_rate = rates[-1]
        if last.rate.source is not None:
            pairs, _m = _behind(last.rate, last_rate, facts)
            out += _inputs_phrase(pairs, rubric)
        if last_rate is not None:
            out.append(f"{last.rate.label}{pct(last_rate)}")
        shown = "、".join(f"{p.name}{pct(r)}" for p, r in rates if r is not None)
        out.append(f"各{part.period_label}执行率分别为{shown}（详见下表）")
        if average is not None:
            out.append(f"{part.average_label}{pct(average)}")
        return out
    return []


def _sentence(phrases: Sequence[str]) -> str:
    parts = [p.strip().rstrip("。；;，,") for p in phrases if p and p.strip()]
    return "；".join(parts) + "。" if parts else ""


# ------------------------------------------------------------------ the schedule table


@dataclass
class ScheduleRows:
    header: list[str]
    rows: list[list[str]]
    period_scores: list[float]
    average: float | None
    average_score: float | None
    unrounded: float
    score: float
    only_part: bool


def schedule_rows(ind: Indicator, finding: Finding, facts: _Facts) -> ScheduleRows | None:
    """The 预算执行率 table of a schedule part, from the audit's measures (rates) and the rules (period scores)."""
    part = ind.schedule
    if part is None:
        return None
    measures = dict(finding.measures)
    rates = [measures.get(p.rate.label) for p in part.periods]
    if any(r is None for r in rates):
        return None
    header = ["指标"] + [p.name for p in part.periods]
    rows: list[list[str]] = []
    sources = [p.rate.source for p in part.periods]
    if all(s is not None for s in sources) and len({s.function for s in sources}) == 1:
        try:
            labels = [s.label for s in facts.rubric.measure_function(sources[0].function).measure.slots]
        except KeyError:
            labels = list(sources[0].inputs)
        for i, label in enumerate(labels):
            cells = []
            for source in sources:
                name = source.inputs[i] if i < len(source.inputs) else None
                value = facts.data.value(name) if name and facts.data.has(name) else None
                slot = _input_slot(facts.rubric, name) if name else None
                unit = slot.unit if slot is not None else ""
                cells.append(amount(value) if _is_number(value) and slot is not None and slot.kind == "amount"
                             else (number(value) if _is_number(value) else ""))
            suffix = f"（{unit}）" if unit else ""
            rows.append([label + suffix] + cells)
    scores = [part.period_score(i, Ref("r")).compile()({"r": r}) for i, r in enumerate(rates)]
    rows.append([f"{part.period_label}执行率"] + [pct(r) for r in rates])
    rows.append(["序时进度"] + [bound(p.schedule) for p in part.periods])
    rows.append([f"{part.period_label}执行率得分"] + [_points(s) for s in scores])
    average = measures.get(part.average_label)
    average_score = average * part.average_points if average is not None and part.average_points else None
    unrounded = sum(scores) + (average_score or 0.0)
    return ScheduleRows(header, rows, scores, average, average_score, unrounded, finding.recomputed,
                        len(ind.parts) == 1 and ind.override is None)


def schedule_note(ind: Indicator, table: ScheduleRows) -> str:
    """The sum of the parts as shown, and the rule that the indicator is rounded once."""
    part = ind.schedule
    shown = [excel_round(s, 2) for s in table.period_scores]
    if table.average_score is not None:
        shown.append(excel_round(table.average_score, 2))
    total_shown = excel_round(sum(shown), 2)
    terms = "+".join(_points(s) for s in shown)
    text = (f"注：{part.period_label}执行率得分=执行率÷序时进度×{number(part.period_points)}分"
            f"（最高{number(part.period_cap * part.period_points)}分）")
    if table.average_score is not None:
        text += (f"，{part.average_label}得分={part.average_label}×{number(part.average_points)}分"
                 f"={number(table.average_score)}分")
    if not table.only_part:
        return text + f"；各项按两位小数列示，合计{terms}={number(total_shown)}分。"
    if total_shown == table.score:
        return text + f"；指标得分={terms}={number(table.score)}分（整项只在最后四舍五入一次）。"
    return (text + f"。表中各项按两位小数列示，其和为{terms}={number(total_shown)}；按评分规则，各项不单独四舍五入，"
            f"指标得分由未经四舍五入的合计{excel_round(table.unrounded, 4):.4f}只在最后四舍五入一次，"
            f"为{number(table.score)}分，两者之差仅来自四舍五入。")


# ------------------------------------------------------------------ the document


class _Blank(str):
    """A placeholder: 【待填写：…】, highlighted."""


class _Strong(str):
    """Bold text (未达成, an entry's lead)."""


def _placeholder(label: str) -> _Blank:
    return _Blank(f"【待填写：{label}】")


class _Writer:
    def __init__(self) -> None:
        from docx import Document

        self.doc = Document()
        _styles(self.doc)
        self.ids = {s.name: s.style_id for s in self.doc.styles}  # by id: python-docx looks names up slowly
        self.blanks = 0
        _page(self.doc.sections[0], landscape=False)
        _page_numbers(self.doc.sections[0])

    # paragraphs
    def paragraph(self, *pieces: str, style: str | None = None):
        p = self.doc.add_paragraph()
        if style is not None:
            p._p.style = self.ids[style]
        _runs(p, pieces, self.ids)
        self.blanks += sum(isinstance(piece, _Blank) for piece in pieces)
        return p

    def heading(self, text: str, level: int):
        return self.paragraph(text, style=(H1, H2, H3)[level - 1])

    def texts(self, lines: Sequence[str], blank: str) -> None:
        if not lines:
            self.paragraph(_placeholder(blank))
        for line in lines:
            self.paragraph(line)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def landscape(self) -> None:
        from docx.enum.section import WD_SECTION

        _page(self.doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)

    # tables
    def table(self, widths_mm: Sequence[float], header: Sequence[Sequence[str]] | None = None):
        from docx.shared import Mm

        table = self.doc.add_table(rows=0, cols=len(widths_mm))
        table.style = self.doc.styles[TABLE]
        table.autofit = False
        for column, width in zip(table.columns, widths_mm):
            column.width = Mm(width)
        table._jx_widths = [Mm(w) for w in widths_mm]
        table._jx_cells = []  # the cells of every row added, by row
        for cells in header or ():
            row = self.row(table, cells, style=CELL_HEAD, fill=HEADER_FILL)
            _repeat_header(row)
        return table

    def row(self, table, cells: Sequence[Any], style: str = CELL, fill: str | None = None,
            styles: Sequence[str | None] | None = None):
        row = table.add_row()
        row_cells = row.cells
        table._jx_cells.append(row_cells)
        for i, (cell, value) in enumerate(zip(row_cells, cells)):
            cell.width = table._jx_widths[i]
            pieces = value if isinstance(value, (list, tuple)) else [value]
            self.blanks += sum(isinstance(piece, _Blank) for piece in pieces)
            first = True
            cell_style = (styles[i] if styles and styles[i] else style)
            for piece in pieces:
                lines = str(piece).split("\n") if not isinstance(piece, (_Blank, _Strong)) else [piece]
                for line in lines:
                    p = cell.paragraphs[0] if first else cell.add_paragraph()
                    p._p.style = self.ids[cell_style]
                    _runs(p, [type(piece)(line) if isinstance(piece, (_Blank, _Strong)) else line], self.ids)
                    first = False
            if fill:
                _shade(cell, fill)
        return row

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _runs(paragraph, pieces: Sequence[str], ids: dict[str, str]) -> None:
    for piece in pieces:
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if isinstance(piece, _Blank):
            run._r.style = ids[BLANK]
        elif isinstance(piece, _Strong):
            run._r.style = ids[STRONG]


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _keep_together(row) -> None:
    """A row that does not break across pages."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement

    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:tblHeader"))


# ------------------------------------------------------------------ styles and page, set once


def _fonts(style, east_asia: str, size: float | None = None, bold: bool | None = None, color: str | None = "000000"):
    from docx.shared import Pt, RGBColor

    font = style.font
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = RGBColor.from_string(color)
    rpr = style.element.get_or_add_rPr()
    _rfonts(rpr, east_asia)
    return style


def _rfonts(rpr, east_asia: str) -> None:
    """The run fonts of a style: 宋体 text with Times New Roman digits; 黑体 throughout for headings."""
    from docx.oxml.ns import qn

    latin = east_asia if east_asia == HEADING_FONT else LATIN_FONT
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr, name in (("ascii", latin), ("hAnsi", latin), ("eastAsia", east_asia), ("cs", latin)):
        rfonts.set(qn(f"w:{attr}"), name)


def _lang(rpr) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph_format(style, *, indent_chars: float = 0, line: float | None = None, before: float = 0,
                      after: float = 0, align=None, keep_next: bool = False, size: float = 12):
    from docx.shared import Pt

    pf = style.paragraph_format
    pf.first_line_indent = Pt(indent_chars * size) if indent_chars else Pt(0)
    pf.left_indent = Pt(0)
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line is not None:
        pf.line_spacing = line
    if align is not None:
        pf.alignment = align
    pf.keep_with_next = keep_next
    pf.widow_control = True
    return style


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    styles = doc.styles
    # document defaults: every run not otherwise styled is 宋体 with the Chinese language tag
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    _rfonts(rpr, BODY_FONT)
    _lang(rpr)

    normal = _fonts(styles["Normal"], BODY_FONT, 12)
    _lang(normal.element.get_or_add_rPr())
    _paragraph_format(normal, indent_chars=2, line=1.5, align=WD_ALIGN_PARAGRAPH.JUSTIFY)

    title = _fonts(styles[TITLE], HEADING_FONT, 22, bold=False)
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    _paragraph_format(title, before=120, after=60, line=1.2, align=WD_ALIGN_PARAGRAPH.CENTER, size=22)

    headings = ((H1, HEADING_FONT, 16, False, 18, 6), (H2, HEADING_FONT, 14, False, 12, 3),
                (H3, BODY_FONT, 12, True, 6, 0))
    for name, font, size, bold, before, after in headings:
        style = _fonts(styles[name], font, size, bold=bold)
        style.font.italic = False
        _paragraph_format(style, indent_chars=2 if name != H1 else 0, line=1.5, before=before, after=after,
                          align=WD_ALIGN_PARAGRAPH.LEFT, keep_next=True, size=12)

    def paragraph_style(name: str, font: str, size: float, bold: bool = False, **fmt):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _fonts(style, font, size, bold=bold)
        _paragraph_format(style, size=size, **fmt)
        return style

    paragraph_style(INFO, BODY_FONT, 16, line=2.0, align=WD_ALIGN_PARAGRAPH.LEFT, indent_chars=0)
    styles[INFO].paragraph_format.left_indent = Pt(64)
    paragraph_style(INFO_SMALL, BODY_FONT, 12, line=1.5, before=24, align=WD_ALIGN_PARAGRAPH.CENTER)
    footer = styles["Footer"]
    _fonts(footer, BODY_FONT, 10.5)
    _paragraph_format(footer, line=1.0, align=WD_ALIGN_PARAGRAPH.CENTER, size=10.5)
    paragraph_style(CELL, BODY_FONT, 10.5, line=1.0, align=WD_ALIGN_PARAGRAPH.LEFT)
    paragraph_style(CELL_HEAD, HEADING_FONT, 10.5, line=1.0, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph_style(CELL_NUMBER, BODY_FONT, 10.5, line=1.0, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph_style(CELL_CENTER, BODY_FONT, 10.5, line=1.0, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph_style(CAPTION, HEADING_FONT, 14, line=1.5, before=6, after=6, align=WD_ALIGN_PARAGRAPH.CENTER,
                    keep_next=True)
    paragraph_style(NOTE, BODY_FONT, 10.5, line=1.25, before=3, after=6, indent_chars=2,
                    align=WD_ALIGN_PARAGRAPH.LEFT)

    blank = styles.add_style(BLANK, WD_STYLE_TYPE.CHARACTER)
    blank.font.highlight_color = WD_COLOR_INDEX.YELLOW  # Word and WPS
    blank.font.bold = True
    shading = OxmlElement("w:shd")  # LibreOffice shows a character style's shading, not its highlight
    for attr, value in (("val", "clear"), ("color", "auto"), ("fill", "FFFF00")):
        shading.set(qn(f"w:{attr}"), value)
    blank.element.get_or_add_rPr().append(shading)
    strong = styles.add_style(STRONG, WD_STYLE_TYPE.CHARACTER)
    strong.font.bold = True

    # the table style: thin borders everywhere, narrow cell margins
    table = styles.add_style(TABLE, WD_STYLE_TYPE.TABLE)
    table.base_style = styles["Normal Table"]
    tblpr = table.element.find(qn("w:tblPr"))
    if tblpr is None:
        tblpr = OxmlElement("w:tblPr")
        table.element.append(tblpr)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b = OxmlElement(f"w:{edge}")
        b.set(qn("w:val"), "single")
        b.set(qn("w:sz"), "4")
        b.set(qn("w:space"), "0")
        b.set(qn("w:color"), "000000")
        borders.append(b)
    tblpr.append(borders)
    margins = OxmlElement("w:tblCellMar")
    for edge, width in (("top", 28), ("left", 85), ("bottom", 28), ("right", 85)):
        m = OxmlElement(f"w:{edge}")
        m.set(qn("w:w"), str(width))
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    tblpr.append(margins)


def _page(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    width, height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    if landscape:
        section.top_margin = section.bottom_margin = Mm(22)
        section.left_margin = section.right_margin = Mm(25.4)
    else:
        section.top_margin = section.bottom_margin = Mm(25.4)
        section.left_margin = section.right_margin = Mm(31.7)
    section.header_distance = section.footer_distance = Mm(12)


def _page_numbers(section) -> None:
    """— 1 — centred in the footer (a PAGE field); later sections inherit it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.add_run("— ")
    run = p.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    p.add_run(" —")


# ------------------------------------------------------------------ the sections


def _groups(rubric: Rubric, findings: dict[str, Finding]) -> list[tuple[str, float, list[tuple[str, list[Indicator]]]]]:
    """level1 → level2 → indicators, in the edition's order."""
    out = []
    for level1, maximum in rubric.level1:
        level2s: dict[str, list[Indicator]] = {}
        for ind in rubric.indicators:
            if ind.level1 == level1:
                level2s.setdefault(ind.level2, []).append(ind)
        out.append((level1, maximum, list(level2s.items())))
    return out


def _total(findings: dict[str, Finding], inds: Sequence[Indicator]) -> tuple[float, float]:
    return (excel_round(sum(findings[i.id].recomputed for i in inds), 2),
            excel_round(sum(findings[i.id].max for i in inds), 2))


def _subtotal(name: str, score: float, maximum: float) -> str:
    return f"{name}指标满分{number(maximum)}分，评价得分{number(score)}分，得分率{score_rate(score, maximum)}。"


def _level1_block(w: _Writer, facts: _Facts, level1: str, level2s) -> None:
    inds = [i for _n, group in level2s for i in group]
    score, maximum = _total(facts.findings, inds)
    names = "、".join(n for n, _g in level2s)
    w.paragraph(f"{level1}指标满分{number(maximum)}分，分别从{names}{chinese(len(level2s), two=True)}个方面进行评价，"
                f"评价得分{number(score)}分，得分率{score_rate(score, maximum)}。")
    for k, (level2, group) in enumerate(level2s, start=1):
        w.heading(f"{k}. {level2}", 3)
        s, m = _total(facts.findings, group)
        aspects = "、".join(i.name for i in group)
        how = (f"本项分别从{aspects}{chinese(len(group), two=True)}个方面进行评价。" if len(group) > 1
               else (f"本项从{aspects}方面进行评价。" if aspects != level2 else ""))
        w.paragraph(_subtotal(level2, s, m) + how)
        for n, ind in enumerate(group, start=1):
            _indicator(w, facts, ind, n)


def _indicator(w: _Writer, facts: _Facts, ind: Indicator, n: int) -> None:
    f = facts.findings[ind.id]
    lead = f"（{n}）{ind.name}，指标满分{number(f.max)}分，评价得分{number(f.recomputed)}分，得分率{score_rate(f.recomputed, f.max)}。"
    body = _sentence(basis(ind, f, facts))
    if f.recomputed < f.max:
        notes = "；".join(n.rstrip("。；") for n in f.notes)
        total = f"，合计扣{number(deduction(f))}分" if len(f.notes) != 1 else ""
        body += f"扣分原因：{notes or '—'}{total}（情况说明及改进措施见三、（二））。"
    else:
        body += f"此项指标得{number(f.recomputed)}分。"
        # the department's words on an indicator without deduction are kept here, never dropped
        said = _text(facts.data, f"情况说明_{ind.id}")
        if said:
            body += _sentence(said)
        plan = _text(facts.data, f"改进措施_{ind.id}")
        if plan:
            body += "改进措施：" + _sentence(plan)
    w.paragraph(_Strong(lead), body)
    table = schedule_rows(ind, f, facts)
    if table is not None:
        _schedule_table(w, ind, table)


def _schedule_table(w: _Writer, ind: Indicator, table: ScheduleRows) -> None:
    part = ind.schedule
    w.paragraph(f"{ind.name}指标（各{part.period_label}）", style=CAPTION)
    first = 38.0
    rest = (146.6 - first) / (len(table.header) - 1)
    t = w.table([first] + [rest] * (len(table.header) - 1), header=[table.header])
    for cells in table.rows:
        w.row(t, cells, styles=[CELL] + [CELL_NUMBER] * (len(cells) - 1))
    extra = []
    if table.average is not None:
        extra.append((part.average_label, pct(table.average)))
    if table.average_score is not None:
        extra.append((f"{part.average_label}得分", _points(table.average_score)))
    extra.append(("指标得分", _points(table.score)))
    for label, value in extra:
        width = len(table.header)
        row = w.row(t, [label, value] + [""] * (width - 2), styles=[CELL] + [CELL_NUMBER] * (width - 1))
        if len(table.header) > 2:
            merged = row.cells[1].merge(row.cells[-1])
            for p in merged.paragraphs[1:]:
                p._p.getparent().remove(p._p)
    w.paragraph(schedule_note(ind, table), style=NOTE)


def _deductions(w: _Writer, facts: _Facts) -> None:
    lost = [(ind, facts.findings[ind.id]) for ind in facts.rubric.indicators
            if facts.findings[ind.id].recomputed < facts.findings[ind.id].max]
    if not lost:
        w.paragraph("各项指标均得满分，无扣分项。")
        return
    for k, (ind, f) in enumerate(lost, start=1):
        reasons = list(f.notes) + _text(facts.data, f"情况说明_{ind.id}")
        plan = _text(facts.data, f"改进措施_{ind.id}")
        pieces: list[str] = [_Strong(f"{k}. {ind.name}（扣{number(deduction(f))}分）："), _sentence(reasons), "改进措施："]
        pieces += [_sentence(plan)] if plan else [_placeholder("改进措施")]
        w.paragraph(*pieces)


def _overall(facts: _Facts, groups) -> str:
    r = facts.report
    who = facts.department or "本部门（单位）"
    year = f"{facts.year}年度" if facts.year else ""
    parts = []
    for level1, _max, level2s in groups:
        s, m = _total(facts.findings, [i for _n, g in level2s for i in g])
        parts.append(f"{level1}{number(s)}分（满分{number(m)}分）")
    lost = [f for f in r.findings if f.recomputed < f.max]
    text = (f"{year}{who}部门整体支出绩效自评综合评分{number(r.total)}分，评分等级为“{r.grade}”。"
            f"其中{'，'.join(parts)}。")
    if lost:
        text += f"共有{len(lost)}项指标扣分，合计扣{number(sum(deduction(f) for f in lost))}分，问题及改进措施如下。"
    return text


def _notice_box(w: _Writer, items: Sequence[str]) -> None:
    table = w.table([146.6])
    title = _Strong("需要注意（提交前逐条核对，核对后删除本框）")
    lines: list[str] = [title] + [f"{i}. {item}" for i, item in enumerate(items, start=1)]
    w.row(table, [lines], fill=NOTICE_FILL)
    w.paragraph("", style=CELL)


def _self_tables(w: _Writer, facts: _Facts) -> None:
    data = facts.data
    w.paragraph("部门（单位）整体支出绩效目标完成情况自评表", style=CAPTION)
    head = w.table([45, 121.2, 40, 40])
    w.row(head, ["部门（单位）名称", facts.department or _placeholder("部门名称"), "预算年度",
                 facts.year or _placeholder("预算年度")], styles=[CELL_HEAD, CELL, CELL_HEAD, CELL])
    goal = w.table([45, 201.2])
    for label, name in (("年度总体目标", "年度总体目标"), ("总体目标完成情况", "总体目标完成情况")):
        text = _cell_text(data.value(name)) if data.has(name) else ""
        _keep_together(w.row(goal, [label, text or _placeholder(f"{label}（工作簿“{SELF}”）")],
                             styles=[CELL_HEAD, CELL]))
    w.paragraph("年度主要任务完成情况", style=CAPTION)
    tasks = w.table([40, 90, 29, 29, 29, 29.2],
                    header=[["任务名称", "完成情况", "预算数（元）", "", "执行数（元）", ""],
                            ["", "", "全额", "其中：财政拨款", "全额", "其中：财政拨款"]])
    for column in (0, 1):
        tasks.cell(0, column).merge(tasks.cell(1, column))
    tasks.cell(0, 2).merge(tasks.cell(0, 3))
    tasks.cell(0, 4).merge(tasks.cell(0, 5))
    _clean_merged(tasks)
    totals = [0.0] * 4
    count = 0
    for _row, values in _rows(data, (("任务预算数", -2), ("任务预算数", -1), ("任务预算数", 0), ("任务预算数", 1),
                                     ("任务执行数", 0), ("任务执行数", 1))):
        if all(v is None for v in values):
            continue
        count += 1
        for i, v in enumerate(values[2:]):
            totals[i] += v if _is_number(v) else 0.0
        _keep_together(w.row(tasks, [_cell_text(values[0]), _cell_text(values[1])]
                             + [amount(v) if _is_number(v) else _cell_text(v) for v in values[2:]],
                             styles=[CELL, CELL] + [CELL_NUMBER] * 4))
    if count == 0:
        row = w.row(tasks, [_placeholder(f"年度主要任务完成情况（工作簿“{SELF}”）")] + [""] * 5)
        _merge_row(row)
    w.row(tasks, [_Strong("金额合计"), ""] + [amount(t) for t in totals], styles=[CELL_HEAD, CELL] + [CELL_NUMBER] * 4)

    w.paragraph("年度绩效指标完成情况", style=CAPTION)
    targets = w.table([30, 36, 74, 44, 44, 18.2],
                      header=[["一级指标", "二级指标", "三级指标", "预期指标值", "实际完成指标值", "完成情况"]])
    missed = {m["row"] for m in facts.report.missed_targets}
    unjudged = {u["row"] for u in facts.report.unjudged_targets}
    count_targets = 0  # every row carries its 一级/二级指标: a merged label would show on one page only
    for row, values in _rows(data, (("预期指标值", -3), ("预期指标值", -2), ("预期指标值", -1), ("预期指标值", 0),
                                    ("实际完成值", 0))):
        if all(v is None for v in values):
            continue
        judged = values[3] is not None or values[4] is not None
        status = (_Strong(MISSED) if row in missed else _Strong(UNJUDGED) if row in unjudged
                  else MET if judged else "")
        cells = [_cell_text(v) for v in values] + [status]
        r = w.row(targets, cells, styles=[CELL] * 5 + [CELL_CENTER])
        _keep_together(r)
        if row in missed or row in unjudged:
            for cell in r.cells[3:]:
                _shade(cell, MISSED_FILL)
        count_targets += 1
    if not count_targets:
        row = w.row(targets, [_placeholder(f"年度绩效指标完成情况（工作簿“{TARGETS}”）")] + [""] * 5)
        _merge_row(row)
    else:
        summary = (f"年度绩效指标共{facts.report.targets}项，达成{facts.report.targets - len(missed) - len(unjudged)}项，"
                   f"未达成{len(missed)}项" + (f"，{UNJUDGED}{len(unjudged)}项" if unjudged else "") + "（未达成的已加粗并加底色标出）。")
        w.paragraph(summary, style=NOTE)


def _rows(data: WorkbookData, columns: Sequence[tuple[str, int]]) -> list[tuple[int, list[Any]]]:
    """The rows of a table on the workbook, read through its defined names: (name, columns to the right) each."""
    if not all(data.has(name) for name, _offset in columns):
        return []
    read = [dict(data.column(name, offset)) for name, offset in columns]
    return [(row, [col.get(row) for col in read]) for row in sorted(read[0])]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return number(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def _merge_row(row) -> None:
    merged = row.cells[0].merge(row.cells[-1])
    for p in merged.paragraphs[1:]:
        if not p.text:
            p._p.getparent().remove(p._p)


def _clean_merged(table) -> None:
    """Merging keeps the empty paragraphs of the merged cells: drop them."""
    for row in table.rows:
        for cell in row.cells:
            paragraphs = cell.paragraphs
            if len(paragraphs) > 1:
                for p in paragraphs:
                    if not p.text and len(cell.paragraphs) > 1:
                        p._p.getparent().remove(p._p)


def _score_table(w: _Writer, facts: _Facts, groups) -> None:
    w.paragraph("部门整体支出绩效评分表", style=CAPTION)
    t = w.table([26, 26, 40, 14, 120.2, 20], header=[["一级指标", "二级指标", "三级指标", "分值", "评分标准", "分数"]])
    for level1, maximum, level2_groups in groups:
        for level2, inds in level2_groups:
            for ind in inds:
                f = facts.findings[ind.id]
                row = w.row(t, [f"{level1}\n（{number(maximum)}分）", level2, ind.name, number(ind.max), ind.rule_text,
                                number(f.recomputed)],
                            styles=[CELL_CENTER, CELL, CELL, CELL_CENTER, CELL, CELL_CENTER])
                _keep_together(row)
    for label, value in (("综合评分", number(facts.report.total)), ("评分等级", facts.report.grade)):
        row = w.row(t, [_Strong(label), "", "", "", "", _Strong(value)], styles=[CELL_HEAD] * 5 + [CELL_CENTER])
        merged = row.cells[0].merge(row.cells[4])
        for p in merged.paragraphs[1:]:
            p._p.getparent().remove(p._p)


def build_document(facts: _Facts) -> bytes:
    """The draft of one workbook, as .docx bytes."""
    return _build(facts).save()


def _build(facts: _Facts) -> _Writer:
    rubric = facts.rubric
    w = _Writer()
    texts = {t.name: t for t in REPORT_TEXTS}
    blank = {name: _blank_label(t) for name, t in texts.items()}
    year = facts.year or ""
    if facts.notices:
        _notice_box(w, facts.notices)
    w.paragraph(f"{year} 年度部门整体绩效自评报告" if year else "部门整体绩效自评报告", style=TITLE)
    w.paragraph("部门名称：", facts.department or _placeholder("部门名称"), style=INFO)
    filler = _label(facts.data.value("填报人")) if facts.data.has("填报人") else None
    w.paragraph("填报人：", filler or _placeholder("填报人"), style=INFO)
    w.paragraph(f"评分标准：{rubric.title}", style=INFO_SMALL)
    w.page_break()

    groups = _groups(rubric, facts.findings)
    middle, last = groups[:-1], groups[-1]

    w.heading("一、部门（单位）基本情况", 1)
    w.heading("（一）部门主要职能", 2)
    w.texts(_text(facts.data, "主要职能"), blank["主要职能"])
    w.heading("（二）年度总体工作和重点工作任务", 2)
    w.texts(_text(facts.data, "年度重点工作"), blank["年度重点工作"])
    heads = ["预算编制情况", "预算执行情况"]
    for k, (level1, _max, level2s) in enumerate(middle):
        what = heads[k] if k < len(heads) else f"{level1}情况"
        w.heading(f"（{chinese(k + 3)}）{year}年部门{what}", 2)
        _level1_block(w, facts, level1, level2s)

    w.heading("二、部门（单位）主要履职绩效分析", 1)
    w.heading("（一）主要履职目标", 2)
    w.texts(_text(facts.data, "履职目标"), blank["履职目标"])
    w.heading("（二）主要履职情况", 2)
    w.texts(_text(facts.data, "履职情况"), blank["履职情况"])
    w.heading("（三）部门履职绩效情况", 2)
    level1, _max, level2s = last
    who = facts.department or "本部门（单位）"
    w.paragraph(f"{year}年度{who}整体预算使用的{'、'.join(n for n, _g in level2s)}分析如下：")
    _level1_block(w, facts, level1, level2s)

    w.heading("三、总体评价和整改措施", 1)
    w.paragraph(_overall(facts, groups))
    w.heading("（一）预算绩效管理工作主要经验、做法", 2)
    w.texts(_text(facts.data, "经验做法"), blank["经验做法"])
    w.heading("（二）部门整体支出绩效存在问题及改进措施", 2)
    _deductions(w, facts)
    w.heading("（三）后续工作计划、相关建议等", 2)
    w.heading("1. 后续工作计划", 3)
    w.texts(_text(facts.data, "后续工作计划"), blank["后续工作计划"])
    w.heading("2. 相关建议", 3)
    w.texts(_text(facts.data, "相关建议"), blank["相关建议"])

    w.landscape()
    w.heading("四、部门整体支出绩效评价指标评分情况", 1)
    _self_tables(w, facts)
    w.page_break()
    _score_table(w, facts, groups)

    core = w.doc.core_properties
    core.title = f"{year} 年度部门整体绩效自评报告（{facts.department or ''}）"
    core.author = "jx report"
    core.comments = f"由 jx report 按评分标准 {rubric.id} 从 {facts.report.file} 起草"
    return w


# ------------------------------------------------------------------ entry points


def draft_data(data: WorkbookData, report: AuditReport) -> Draft:
    """The draft of a workbook read and scored by :func:`jxtools.audit.trusted`."""
    facts = _facts(data, report)
    w = _build(facts)
    return Draft(facts.report.file, w.save(), facts.notices, blanks=w.blanks)


def draft_file(path: Path) -> Draft:
    """One workbook's draft; a file that cannot be read, or has an input error, gives ``error`` and no document."""
    path = Path(path)
    try:
        data, report = trusted(path)
        problem = input_errors(report, "未生成自评报告")
        if problem:  # a report needs every indicator scored
            return Draft(path.name, error=problem, path=path)
        draft = draft_data(data, report)
    except WorkbookError as error:
        return Draft(path.name, error=str(error), path=path)
    except Exception as error:  # one odd file must never stop a batch or show a traceback
        return Draft(path.name, error=f"{path.name}：无法处理（{type(error).__name__}: {error}）", path=path)
    draft.path = path
    return draft


def run_drafts(files: Sequence[Path], jobs: int | None = None, progress: bool = False) -> Iterator[Draft]:
    """Draft every file, in input order, on ``jobs`` processes (default: every core), with a progress bar."""
    from .batch import ordered_map

    return ordered_map(draft_file, files, jobs, "报告" if progress else None)


def output_paths(source: Path, output: Path | None, pdf: bool) -> tuple[Path, Path | None]:
    """Where one workbook's report goes: (.docx, .pdf or None); raises ValueError (Chinese) for a bad ``-o``.

    No ``-o``: beside the workbook, ``IN-report.docx``; ``-o`` a folder: in it;
    ``-o X.pdf``: ``X.docx`` beside and the PDF implied.
    """
    source = Path(source)
    name = f"{source.stem}{SUFFIX}.docx"
    if output is None:
        docx = source.with_name(name)
    elif Path(output).is_dir():
        docx = Path(output) / name
    elif Path(output).suffix.lower() == ".pdf":
        docx, pdf = Path(output).with_suffix(".docx"), True
    elif Path(output).suffix.lower() == ".docx":
        docx = Path(output)
    else:
        raise ValueError(f"{Path(output).name}：报告应保存为 .docx（或与 --pdf 一起给 .pdf）")
    return docx, (docx.with_suffix(".pdf") if pdf else None)


def batch_paths(files: Sequence[Path], sources: Sequence[Path], outdir: Path) -> dict[Path, Path]:
    """Each workbook's .docx under ``outdir``, mirroring its folder below the source folder, names never clashing."""
    out: dict[Path, Path] = {}
    taken: set[Path] = set()
    folders = [Path(s) for s in sources if Path(s).is_dir()]
    for file in map(Path, files):
        rel = Path(file.name)
        for folder in folders:
            try:
                rel = file.relative_to(folder)
                break
            except ValueError:
                continue
        target = Path(outdir) / rel.parent / f"{rel.stem}{SUFFIX}.docx"
        n = 1
        while target in taken:
            n += 1
            target = Path(outdir) / rel.parent / f"{rel.stem}{SUFFIX}-{n}.docx"
        taken.add(target)
        out[file] = target
    return out


def write_pdfs(pairs: Sequence[tuple[Path, Path]], progress: bool = False, chunk: int = 20) -> None:
    """Convert each written .docx to its .pdf with LibreOffice, atomically.

    Raises :class:`jxtools.soffice.SofficeError`.
    """
    from addin.atomic import write_atomically

    from .soffice import to_pdf

    bar = None
    if progress and len(pairs) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), desc="PDF", unit="个", leave=True)
    try:
        for start in range(0, len(pairs), chunk):
            part = list(pairs[start:start + chunk])
            converted = to_pdf([docx for docx, _pdf in part])
            for docx, pdf in part:
                write_atomically(pdf, converted[docx])
            if bar:
                bar.update(len(part))
    finally:
        if bar:
            bar.close()


__all__ = ["Draft", "amount", "batch_paths", "build_document", "deduction", "draft_data",
           "draft_file", "notices", "number", "output_paths", "run_drafts", "score_rate", "write_pdfs"]
