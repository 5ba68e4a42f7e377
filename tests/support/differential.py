"""The machinery of the LibreOffice differential tests, for any edition.

An :class:`Edition` knows the Python side of every cell the exported copy
converts: each JX formula of 评分表 and 预算执行 evaluated with
:func:`addin.layout.evaluate` (the same functions the add-in calls), and the
sub-totals, total and grade as the template's ``=ROUND(G5+G6+…)`` and
``=JX_GRADE(综合评分)`` give them. Input sets (:class:`Case`) are generated
from the edition's data: every boundary of every part just below, at and just
above (:func:`boundary_cases`), the edition's yes/no vocabulary, bad inputs
of every kind, totals around every grade line.

:func:`recalculate` writes each input set into one copy of the exported
workbook (only the input cells of 基础数据 are rewritten; no formula is
touched), and a few go the whole way instead (a filled template, then
exported); all of them, and any extra workbooks, are recalculated by
LibreOffice in one batch of two soffice runs side by side.
"""

from __future__ import annotations

import io
import math
import re
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from addin.layout import EXEC, INPUTS, SCORES, TARGETS, Call, evaluate, layout
from addin.template import NUMBER_FORMATS, Filled, build
from jx.errors import JXInputError
from jx.excel import approx_add, excel_round
from jx.formula import split_args
from jx.functions import functions
from jx.rubric import Rubric
from jx.shapes import (BandsPart, CheckPart, EvaluatorPart, LinearPart, Measure, PartialPart, PerItemPart,
                       SchedulePart, StatusesPart, StepPart)
from jxtools.export import export_workbook
from jxtools.workbook_io import defined_names, sheet_paths

from .libreoffice import read_values, recalculate_in_parallel

ERROR = object()  # the cell shows an error value (#VALUE!): "text"+number, or such a value carried on
ERROR_VALUES = ("#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!")
# LibreOffice 7.4's ERROR.TYPE(#NULL!) is #N/A (Excel and OpenFormula give 1; the other six error values
# give 2–7 there too): an input holding #NULL! makes the message "…引用的单元格有错误（#NULL!）" an #N/A.
NULL_QUIRK = ("LibreOffice 7.4 的 ERROR.TYPE(#NULL!) 返回 #N/A（Excel 与 OpenFormula 规定为 1），"
              "输入单元格为 #NULL! 时提示文字整体成为 #N/A")
COMPARED_ERRORS = tuple(e for e in ERROR_VALUES if e != "#NULL!")
WHERE = (("just below", -1), ("at", 0), ("just above", 1))
# ROUND's known edge cases (half-way values that binary floating point stores a hair below)
ROUND_EDGES = (2.675, 1.005, 4.639999999999999, 12.345, 0.285, 8.345, 24.995)


@dataclass
class Case:
    name: str
    values: dict[str, Any]
    full_export: bool = False  # build the filled template and export it (not a patched copy)
    boundary: str | None = None  # the cases around one bound of the data share it
    known: str | None = None  # a known LibreOffice difference: why


class Edition:
    """One edition under test, and Python's side of every cell the export converts."""

    def __init__(self, rubric: Rubric, reference: Mapping[str, Any]):
        self.rubric = rubric
        self.lay = layout(rubric)
        self.functions = functions(rubric)
        self.fields = {f.name: f for f in self.lay.fields}
        self.reference = dict(reference)
        self.subtotals = [f"{name}得分" for name, _ in rubric.level1]
        self.yes, self.no = rubric.vocabulary.yes[0], rubric.vocabulary.no[0]

    def case(self, name: str, boundary: str | None = None, **changes: Any) -> Case:
        """The reference inputs with ``changes``."""
        return Case(name, {**self.reference, **changes}, boundary=boundary)

    # ------------------------------------------------------------ Python's side

    def scores(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Indicator id → points, or the text its cell shows for a bad input."""
        out = {}
        for row in self.lay.scores:
            try:
                out[row.indicator] = evaluate(row.call, values, self.lay)
            except JXInputError as error:
                out[row.indicator] = error.cell_text
        return out

    def totals(self, scores: Mapping[str, Any]) -> dict[str, Any]:
        """Sub-totals, 综合评分 and 评分等级: ``ROUND(G5+G6+…)`` (the spreadsheet's ``+``) and JX_GRADE."""
        decimals = self.rubric.decimals
        out: dict[str, Any] = {}
        for (level1, _max), name in zip(self.rubric.level1, self.subtotals):
            out[name] = _rounded_sum([scores[i.id] for i in self.rubric.indicators if i.level1 == level1], decimals)
        out["综合评分"] = _rounded_sum([out[name] for name in self.subtotals], decimals)
        try:
            out["评分等级"] = self.functions["JX_GRADE"](out["综合评分"] if out["综合评分"] is not ERROR else "#VALUE!")
        except JXInputError as error:
            out["评分等级"] = error.cell_text
        return out

    def total(self, values: Mapping[str, Any]) -> Any:
        return self.totals(self.scores(values))["综合评分"]

    def fingerprint(self, values: Mapping[str, Any]) -> tuple:
        """Every score, derived rate and total Python gives for ``values`` (errors as their text)."""
        out = [repr(v) for v in self.scores(values).values()]
        for name in self.lay.derived:
            try:
                out.append(repr(evaluate(name, values, self.lay)))
            except JXInputError as error:
                out.append(error.cell_text)
        return (*out, *map(repr, self.totals(self.scores(values)).values()))

    def cell(self, formula: str, values: Mapping[str, Any]) -> Any:
        """What the add-in shows for one of the template's JX formulas (``=JX_…(…)`` or ``=JX_…(…)*k``)."""
        match = re.fullmatch(r"=(JX_\w+\(.*\))(?:\*([\d.]+))?", formula)
        assert match, formula
        try:
            result = evaluate(parse_call(match.group(1)), values, self.lay)
        except JXInputError as error:
            return ERROR if match.group(2) else error.cell_text
        return result * float(match.group(2)) if match.group(2) else result

    def libreoffice_reads(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """LibreOffice has no logical type: TRUE/FALSE in a cell with a number format is 1/0 there.

        Excel and WPS keep the logical (the native formula then shows the add-in's
        message); the 是/否 and status inputs are General-formatted, so there
        TRUE/FALSE stay logicals everywhere.
        """
        return {k: int(v) if isinstance(v, bool) and k in self.fields and self.fields[k].kind in NUMBER_FORMATS
                else v for k, v in values.items()}

    def expected(self, values: Mapping[str, Any], jx_cells: Mapping[tuple[str, str], str],
                 names: Mapping[str, tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Python's value of every compared cell for the inputs as LibreOffice reads them."""
        read = self.libreoffice_reads(values)
        totals = self.totals(self.scores(read))
        env = {**read, "综合评分": totals["综合评分"] if totals["综合评分"] is not ERROR else "#VALUE!"}
        out = {cell: self.cell(formula, env) for cell, formula in jx_cells.items()}
        for name in self.subtotals + ["综合评分", "评分等级"]:
            out[names[name]] = totals[name]
        return out

    # ------------------------------------------------------------ data of the edition

    def indicators_of(self, kind: type) -> list[tuple[Any, Any]]:
        return [(ind, p) for ind in self.rubric.indicators for p in ind.parts if isinstance(p, kind)]

    def check_inputs(self) -> list[str]:
        return [p.input.name for _ind, p in self.indicators_of(CheckPart)]

    def knobs(self) -> list[tuple[str, float]]:
        """Inputs scored as typed (evaluator, then partial credit): (name, upper), largest first."""
        out = [(p.input.name, p.points) for _i, p in self.indicators_of(EvaluatorPart)]
        out += [(p.input.name, p.points) for _i, p in self.indicators_of(PartialPart)]
        return sorted(out, key=lambda k: -k[1])


def _rounded_sum(parts: Sequence[Any], decimals: int) -> Any:
    if not all(isinstance(p, float) for p in parts):
        return ERROR
    total = parts[0]
    for p in parts[1:]:
        total = approx_add(total, p)
    return excel_round(total, decimals)


def parse_call(text: str) -> Call:
    """``JX_F(a,JX_G(b),1)`` as the layout's :class:`Call` (names, numbers, nested calls)."""
    name, inner = re.fullmatch(r"(JX_\w+)\((.*)\)", text, re.S).groups()
    args: list[Any] = []
    for raw in split_args(inner):
        arg = raw.strip()
        if arg.startswith("JX_"):
            args.append(parse_call(arg))
        elif re.fullmatch(r"[+-]?\d+(\.\d*)?", arg):
            args.append(float(arg))
        elif arg:
            args.append(arg)
    return Call(name, tuple(args))


def agrees(libreoffice: Any, python: Any, exact: bool = True) -> bool:
    """Equal; an unrounded rate (``exact=False``) as the 15 significant digits LibreOffice writes into a
    file (0.146688941413847 for Python's 0.14668894141384656): see :func:`written`."""
    if python is ERROR:
        return isinstance(libreoffice, str) and libreoffice.startswith("#")
    if isinstance(python, (bool, str)):
        return type(libreoffice) is type(python) and libreoffice == python
    if not isinstance(libreoffice, float) or isinstance(libreoffice, bool):
        return False
    if libreoffice == python or exact:
        return libreoffice == python
    return libreoffice in written(python)


def written(value: float) -> set[float]:
    """``value`` with 15 significant digits, as a file holds it: rounded from its exact binary value, or
    half up from its shortest or its 17-digit decimal text (LibreOffice rounds that text a second time:
    0.5830656242152075 is written 0.583065624215208, where correct rounding gives …207)."""
    out = {float(f"{value:.15g}")}
    for text in (repr(value), f"{value:.17g}"):
        d = Decimal(text)
        if d:
            out.add(float(d.scaleb(-d.adjusted()).quantize(Decimal("1e-14"), ROUND_HALF_UP).scaleb(d.adjusted())))
    return out


def is_rounded(ed: Edition, formula: str) -> bool:
    """A rounded value (a score, the grade): compared exactly. Rates and period scores: to 15 digits."""
    match = re.fullmatch(r"=(JX_\w+)\(.*\)(\*[\d.]+)?", formula)
    return match.group(2) is None and ed.functions[match.group(1)].role in ("score", "grade")


# ------------------------------------------------------------------ input sets from the data


def _nice(value: Any, fallback: float) -> float:
    """A positive amount near ``value`` on which every bound with ≤ 4 decimals lands on a whole cent."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return fallback
    return max(10_000.0, round(value / 10_000) * 10_000.0)


def _whole(rate: float, preferred: Any = None) -> int:
    """A count ``n`` for which ``rate × n`` is a whole number (the preferred one if it works)."""
    candidates = ([int(preferred)] if isinstance(preferred, (int, float)) and not isinstance(preferred, bool)
                  and preferred > 0 and preferred == int(preferred) else []) + [20, 100, 1000, 10_000]
    for n in candidates:
        if abs(rate * n - round(rate * n)) < 1e-9:
            return n
    raise AssertionError(f"no count makes {rate} whole")


def solve(ed: Edition, shape: str, names: Sequence[str], rate: float, offset: int) -> dict[str, Any] | None:
    """Inputs whose measure is ``rate`` exactly (``offset`` 0), or one cent / one person / 0.0001 either side.

    Denominators stay near the reference ones (other indicators share them);
    None when no valid inputs give that rate.
    """
    ref = ed.reference
    kinds = [ed.fields[n].kind for n in names]
    if shape == "rate":
        value = round(rate + offset * 0.0001, 4)
        return {names[0]: value} if value >= 0 else None
    if shape == "share":  # a / (a + b): one person more or less in b moves the rate the other way
        if kinds[0] == "count":
            total = _whole(rate, 1000)
            a = round(rate * total)
            b = total - a - offset
        else:
            total = 1_000_000.0
            a = round(rate * total, 2)
            b = round(total - a - offset * 0.01, 2)
        return {names[0]: a, names[1]: b} if b >= 0 and (a + b) > 0 else None
    if shape == "change":  # (a − b) / b
        b = _nice(ref.get(names[1]), 100_000.0)
        a = round(b * (1 + rate) + offset * 0.01, 2)
        return {names[0]: a, names[1]: b} if a >= 0 else None
    # ratio and net_ratio: a / b, a / (b − c)
    if kinds[0] == "count":
        b = _whole(rate, ref.get(names[1]))
        a = round(rate * b) + offset
        return {names[0]: a, names[1]: b} if a >= 0 else None
    out: dict[str, Any] = {}
    b = _nice(ref.get(names[1]), 1_000_000.0)
    available = b
    if shape == "net_ratio" and len(names) > 2:
        frozen = ref.get(names[2])
        frozen = round(frozen / 10_000) * 10_000.0 if isinstance(frozen, (int, float)) and frozen else 0.0
        out[names[2]] = frozen
        available = b - frozen
    a = round(rate * available + offset * 0.01, 2)
    if a < 0:
        return None
    return {**out, names[0]: a, names[1]: b}


def measure_names(ed: Edition, measure: Measure) -> tuple[str, list[str]]:
    """The shape of a measure and the named inputs it is computed from (through a rate function's)."""
    slot = measure.slots[0]
    if measure.shape == "rate" and slot.source is not None:
        f = ed.rubric.measure_function(slot.source.function)
        return f.measure.shape, list(slot.source.inputs)
    return measure.shape, [s.name for s in measure.slots]


def around(ed: Edition, label: str, measure: Measure, rate: float, points: Sequence[int] = (-1, 0, 1),
           discrete: bool = True) -> list[Case]:
    """The measure just below, at and just above ``rate`` (``discrete``: the points jump there)."""
    shape, names = measure_names(ed, measure)
    cases = []
    for where, offset in WHERE:
        if offset not in points:
            continue
        values = solve(ed, shape, names, rate, offset)
        if values is not None:
            boundary = f"{label} {_bound(rate)}" if discrete and len(points) > 1 else None
            cases.append(ed.case(f"{label} {where} {_bound(rate)}", boundary=boundary, **values))
    return cases


def _bound(rate: float) -> str:
    return f"{rate * 100:.6g}%"


def boundary_cases(ed: Edition, only: Iterable[str] | None = None) -> list[Case]:
    """Every bound of every part of the edition's data, just below, at and just above."""
    cases: list[Case] = []
    vocab = ed.rubric.vocabulary
    for ind in ed.rubric.indicators:
        if only is not None and ind.id not in only:
            continue
        statuses = [p for p in ind.parts if isinstance(p, StatusesPart)]
        for part in ind.parts:
            name = f"{ind.name}·{part.label}" if part.label != ind.name else ind.name
            if isinstance(part, CheckPart):
                cases.append(ed.case(f"{part.input.name} {ed.no}", **{part.input.name: ed.no}))
            elif isinstance(part, PartialPart):
                for value in (0, part.points / 2, round(part.points * 0.99, 2), part.points, vocab.yes[0],
                              vocab.no[0]):
                    cases.append(ed.case(f"{part.input.name}={value!r}", **{part.input.name: value}))
            elif isinstance(part, EvaluatorPart):
                for value in sorted({0.0, part.points, round(part.points - 0.005, 3),
                                     *(e for e in ROUND_EDGES if e <= part.points)}):
                    cases.append(ed.case(f"{part.input.name}={value!r}", **{part.input.name: value}))
            elif isinstance(part, PerItemPart):
                cases += _per_item(ed, ind, part)
            elif isinstance(part, BandsPart):
                for band in part.bands[:-1]:
                    cases += around(ed, f"{name} 分档", part.measure, band.upper)
                cases += _ends(ed, name, part.measure)
            elif isinstance(part, LinearPart):
                cases += _linear(ed, name, part)
            elif isinstance(part, StepPart):
                cases += _step(ed, name, part)
            elif isinstance(part, SchedulePart):
                cases += _schedule(ed, ind, part)
        if statuses:  # every combination of the statuses
            combos: list[dict[str, Any]] = [{}]
            for part in statuses:
                combos = [{**c, part.input.name: s} for c in combos for s, _p in part.statuses]
            for combo in combos:
                cases.append(ed.case(f"{ind.name} {'/'.join(combo.values())}", **combo))
        if ind.override is not None:
            o = ind.override.input.name
            junk = {p.input.name: "乱填" for p in statuses}
            cases.append(ed.case(f"{o} {ed.yes}：得 {ind.override.points:g} 分（各项不读）", **{o: ed.yes}, **junk))
            cases.append(ed.case(f"{o} 留空：视为{ed.no}", **{o: None}))
    return cases


def _per_item(ed: Edition, ind, part: PerItemPart) -> list[Case]:
    floor_at = math.ceil((part.points - part.floor) / part.per_item)
    counts = sorted({0, 1, floor_at - 1, floor_at, floor_at + 1, floor_at + 5} - {-1})
    n = part.count.name
    if part.total is None:
        return [ed.case(f"{ind.name} {k} 项（每项扣 {part.per_item:g}，最低 {part.floor:g}）", **{n: k}) for k in counts]
    cases = []
    for total in sorted({0, floor_at, floor_at + 1}):
        for k in range(total + 1):
            cases.append(ed.case(f"{ind.name} {k}/{total} 项（每项扣 {part.per_item:g}）",
                                 **{n: k, part.total.name: total}))
    return cases


def _ends(ed: Edition, name: str, measure: Measure) -> list[Case]:
    """A typed rate at 0 and at its upper bound; a change rate falling (down to −100%)."""
    shape, names = measure_names(ed, measure)
    slot = measure.slots[0]
    if shape == "rate" and slot.source is None:
        return [ed.case(f"{name} 为 {v!r}", **{names[0]: v}) for v in (0, slot.upper if slot.upper else 1)]
    if shape == "change":
        return [c for rate in (-0.2, -1.0) for c in around(ed, f"{name} 下降", measure, rate, points=(0,))]
    return []


def _linear(ed: Edition, name: str, part: LinearPart) -> list[Case]:
    m = part.measure
    full = part.cap if part.cap is not None else 1.0
    cases = around(ed, f"{name} 比率", m, full)
    for rate in (0.0, 0.5, full * 1.2):
        cases += around(ed, f"{name} 比率", m, rate, points=(0,))
    shape, names = measure_names(ed, m)
    if shape in ("ratio", "net_ratio"):
        cases.append(ed.case(f"{name} 两项均为 0", **{names[0]: 0, names[1]: 0}))
        cases.append(ed.case(f"{name} 分母为 0、分子大于 0", **{names[0]: 5, names[1]: 0}))
    return cases


def _step(ed: Edition, name: str, part: StepPart) -> list[Case]:
    """The limit, then whole steps beyond it (and, pro rata, fractions of steps) up to past the floor."""
    sign = 1 if part.direction == "above" else -1
    to_floor = (part.points - part.floor) / part.per_step
    # the points jump at the limit only when a started step counts (pro rata and whole steps begin at 0)
    cases = around(ed, f"{name} 限值", part.measure, part.limit, discrete=part.steps == "started")
    if part.steps == "pro_rata":
        for steps in sorted({0.5, 1, to_floor / 2 + 0.5, to_floor - 0.01, to_floor, to_floor + 0.01, to_floor * 1.5}):
            rate = part.limit + sign * steps * part.step
            if rate >= 0:
                cases += around(ed, f"{name} 超出 {steps:g} 档", part.measure, rate, points=(0,))
    else:
        for k in range(1, math.ceil(to_floor) + 2):
            rate = round(part.limit + sign * k * part.step, 12)
            if rate >= 0:  # past the floor the points no longer move
                cases += around(ed, f"{name} 第 {k} 档", part.measure, rate, discrete=k <= to_floor)
    return cases


def _schedule(ed: Edition, ind, part: SchedulePart) -> list[Case]:
    """Each period just below, at and just above its schedule (the others behind it), from amounts."""
    sources = [p.rate.source for p in part.periods]
    f = ed.rubric.measure_function(sources[0].function)
    total_name = sources[0].inputs[1]
    frozen_name = sources[0].inputs[2] if len(sources[0].inputs) > 2 else None
    total, frozen = 1_000_000.0, (200_000.0 if frozen_name else 0.0)
    available = total - frozen
    base = {total_name: total, **({frozen_name: frozen} if frozen_name else {})}
    cases = []
    for i, period in enumerate(part.periods):
        for where, offset in WHERE:
            spent = {}
            for j, (other, source) in enumerate(zip(part.periods, sources)):
                rate = other.schedule if j == i else other.schedule * 0.9
                spent[source.inputs[0]] = round(available * rate + (offset * 0.01 if j == i else 0), 2)
            cases.append(ed.case(f"{period.rate.label} {where} 序时进度 {_bound(period.schedule)}",
                                 boundary=f"{ind.id} {period.name}", **base, **spent))
    on_time = {s.inputs[0]: round(available * p.schedule, 2) for p, s in zip(part.periods, sources)}
    cases.append(ed.case(f"{ind.name} 各{part.period_label}都达序时进度", **base, **on_time))
    cases.append(ed.case(f"{ind.name} 各{part.period_label}支出为 0", **base, **{k: 0 for k in on_time}))
    if frozen_name:
        cases.append(ed.case(f"{frozen_name}留空：视为 0", **{frozen_name: None}))
    assert f.measure.shape in ("ratio", "net_ratio"), f.name
    return cases


def vocabulary_cases(ed: Edition) -> list[Case]:
    """Every yes/no word of the edition, in lower case, logicals, 1/0 and padded, in a check and a 酌情 item."""
    vocab = ed.rubric.vocabulary
    words = list(vocab.yes) + list(vocab.no)
    spellings: list[Any] = words + [w.lower() for w in words if w.isascii() and w.isalpha()]
    spellings += [True, False, 1, 0, f" {ed.yes} ", f"{ed.no}  "]
    check = ed.check_inputs()[0]
    cases = [ed.case(f"检查项 {check}={v!r}", **{check: v}) for v in spellings]
    partials = [p.input.name for _i, p in ed.indicators_of(PartialPart)]
    for partial in partials[:1]:
        cases += [ed.case(f"酌情项 {partial}={v!r}", **{partial: v})
                  for v in (True, False, vocab.yes[-1], vocab.no[-1], 1, 0, 0.25, f" {ed.no} ")]
    optional = [ind.override.input.name for ind in ed.rubric.indicators if ind.override]
    for name in optional[:1]:
        cases += [ed.case(f"可选检查 {name}={v!r}", **{name: v}) for v in (True, "FALSE", 0, vocab.no[-1], "  ")]
    return cases


def invalid_cases(ed: Edition) -> list[Case]:
    """Bad inputs of every kind: blank, text, negative, not whole, out of range, logical, error value,
    a message carried from upstream, every zero denominator, every "cannot be more than"."""
    cases: list[Case] = []
    used = [n for n, f in ed.fields.items() if f.kind not in ("text", "year")]
    for n, name in enumerate(used):
        f = ed.fields[name]
        if f.required:
            cases.append(ed.case(f"{name} 留空", **{name: None}))
        text = {"check": "也许", "status": "已公开", "partial": "大概"}.get(f.kind, "一百")
        cases.append(ed.case(f"{name} 填文字", **{name: text}))
        if f.kind in ("amount", "count", "rate", "score", "partial"):
            cases.append(ed.case(f"{name} 负数", **{name: -1}))
        if f.kind in ("amount", "count", "rate", "score"):
            cases.append(ed.case(f"{name} 逻辑值", **{name: True}))
        if f.kind == "count":
            cases.append(ed.case(f"{name} 非整数", **{name: 2.5}))
        if f.kind == "check":
            cases.append(ed.case(f"{name} 数字 2", **{name: 2}))
        if f.kind == "status":
            cases.append(ed.case(f"{name} 为数字", **{name: 1}))
        if f.upper is not None:
            cases.append(ed.case(f"{name} 超过上限", **{name: f.upper + 0.5}))
        if n % 4 == 0:
            cases.append(ed.case(f"{name} 错误值", **{name: COMPARED_ERRORS[n // 4 % len(COMPARED_ERRORS)]}))
        if n % 7 == 0:
            cases.append(ed.case(f"{name} 带来的错误信息", **{name: "错误：上游已出错"}))
        if f.kind in ("amount",) and n % 3 == 0:
            cases.append(ed.case(f"{name} 超出合理范围", **{name: 2e15}))
    seen = set()
    for ind in ed.rubric.indicators:
        for part in ind.parts:
            measures = []
            if isinstance(part, (BandsPart, LinearPart, StepPart)):
                measures.append(measure_names(ed, part.measure))
            if isinstance(part, SchedulePart):
                f = ed.rubric.measure_function(part.periods[0].rate.source.function)
                measures += [(f.measure.shape, list(p.rate.source.inputs)) for p in part.periods]
            for shape, names in measures:
                if tuple(names) in seen or shape == "rate":
                    continue
                seen.add(tuple(names))
                a, b = names[0], names[1]
                if shape == "share":
                    cases.append(ed.case(f"{a} {b} 都为 0", **{a: 0, b: 0}))
                    continue
                cases.append(ed.case(f"{b} 为 0", **{b: 0}))
                if shape != "change":
                    cases.append(ed.case(f"{a} 大于 {b}", **{a: 2, b: 1}))
                if shape == "net_ratio" and len(names) > 2:
                    total = ed.reference[b]
                    cases.append(ed.case(f"{names[2]} 等于 {b}", **{names[2]: total}))
                    cases.append(ed.case(f"{names[2]} 大于 {b}", **{names[2]: total + 1}))
            if isinstance(part, PerItemPart) and part.total is not None:
                cases.append(ed.case(f"{part.count.name} 大于 {part.total.name}",
                                     **{part.count.name: 3, part.total.name: 2}))
    return cases


def grade_cases(ed: Edition, bases: Sequence[Mapping[str, Any]]) -> list[Case]:
    """Totals just below, at and just above every grade line, from the first base that reaches them.

    From a base: checks turned off and statuses set to the worst one by one
    until the rest is below the line, then the evaluator's and the partial
    scores typed to make up the difference.
    """
    cases = []
    for band in ed.rubric.grade_bands[1:]:
        for where, offset in WHERE:
            goal = round(band.lower + offset * 0.01, 2)
            values = next((v for v in (_reach(ed, b, goal) for b in bases) if v is not None), None)
            assert values is not None, f"no base reaches a total of {goal}"
            case = Case(f"综合评分 {where} {band.lower:g}（{band.label}）", values, boundary=f"grade {band.lower:g}")
            assert ed.total(values) == goal, (case.name, ed.total(values))
            cases.append(case)
    return cases


def _reach(ed: Edition, base: Mapping[str, Any], goal: float) -> dict[str, Any] | None:
    knobs = ed.knobs()
    values = {**base, **{k: 0 for k, _u in knobs}}
    moves = [{n: ed.no} for n in ed.check_inputs()]
    moves += [{p.input.name: min(p.statuses, key=lambda s: s[1])[0]} for _i, p in ed.indicators_of(StatusesPart)]
    for move in moves:
        total = ed.total(values)
        if total is ERROR or total <= goal:
            break
        values.update(move)
    total = ed.total(values)
    if total is ERROR or total > goal:
        return None
    for knob, upper in knobs:
        missing = round(goal - ed.total(values), 2)
        values[knob] = round(min(upper, max(0.0, missing)), 2)
    return values if ed.total(values) == goal else None


def null_error_case(ed: Edition) -> Case:
    """One check input holding the error value #NULL!: the known difference :data:`NULL_QUIRK`."""
    name = ed.check_inputs()[0]
    return Case(f"{name} 错误值 #NULL!", {**ed.reference, name: "#NULL!"}, known=NULL_QUIRK)


def null_quirk(expected: Mapping[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """Python's values as LibreOffice shows them under :data:`NULL_QUIRK`: the message an #N/A, and the
    grade naming the total's #N/A (the sub-totals and the total are errors either way)."""
    out = {}
    for cell, value in expected.items():
        if isinstance(value, str) and value.endswith("（#NULL!）"):
            value = "#N/A"
        elif isinstance(value, str) and value.startswith("错误：综合评分") and value.endswith("（#VALUE!）"):
            value = value.replace("（#VALUE!）", "（#N/A）")
        out[cell] = value
    return out


def unique(cases: list[Case]) -> list[Case]:
    """The cases with distinct names and distinct inputs (the first of each kept; a bound's three kept whole)."""
    out, names, inputs = [], set(), set()
    for case in cases:
        key = tuple(sorted((k, repr(v)) for k, v in case.values.items()))
        if case.name in names or (key in inputs and case.boundary is None):
            continue
        names.add(case.name)
        inputs.add(key)
        out.append(case)
    return out


# ------------------------------------------------------------------ writing inputs into the exported copy


def _cell_xml(ref: str, style: str, value: Any) -> str:
    attrs = f'r="{ref}"{style}'
    if value is None:
        return f"<c {attrs}/>"
    if isinstance(value, bool):
        return f'<c {attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f"<c {attrs}><v>{value!r}</v></c>"
    if value in ERROR_VALUES:
        return f'<c {attrs} t="e"><v>{value}</v></c>'
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class Base:
    """The exported copy of the empty template, ready to take one input set after another.

    Two things no compared cell reads are left out of the patched copies:
    the comments (one per converted cell, ``JX: =…``; without a Chinese font
    LibreOffice spends a third of its time laying them out), and the rows of
    the ``unread`` sheets (绩效指标: 250 target rows of helper formulas, the
    bulk of the file) — after checking that no formula elsewhere refers to
    those sheets or to a name defined on them. The full exports keep
    everything and are compared with their patched twins; the target rows are
    proved by the reference report and the synthetic targets.
    """

    def __init__(self, path: Path, input_cells: Mapping[str, str], unread: Sequence[str] = ()):
        parts = sheet_paths(path)
        self.part = parts[INPUTS]
        self.cells = dict(input_cells)
        gutted = {parts[sheet] for sheet in unread}
        self.entries: list[tuple[zipfile.ZipInfo, bytes]] = []
        dropped: set[str] = set()
        with zipfile.ZipFile(path) as source:
            for info in source.infolist():
                if re.fullmatch(r"xl/comments/comment\d+\.xml|xl/drawings/commentsDrawing\d+\.vml", info.filename):
                    dropped.add(info.filename.rsplit("/", 1)[1])
                    continue
                self.entries.append((info, source.read(info.filename)))
        self.entries = [(info, _without_comments(info.filename, data, dropped)) for info, data in self.entries]
        if unread:
            names = defined_names(path)
            words = [*unread, *(n for n, (sheet, _ref) in names.items() if sheet in unread)]
            for info, data in self.entries:
                if info.filename.startswith("xl/worksheets/sheet") and info.filename not in gutted:
                    for formula in re.findall(rb"<f[^>]*>(.*?)</f>", data, re.S):
                        text = formula.decode("utf-8")
                        assert not any(w in text for w in words), (info.filename, text[:200])
            self.entries = [(info, re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", data, flags=re.S)
                             if info.filename in gutted else data) for info, data in self.entries]
        self.sheet = next(data for info, data in self.entries if info.filename == self.part).decode("utf-8")

    def patched(self, values: Mapping[str, Any]) -> bytes:
        """This copy with only the input cells of 基础数据 rewritten (no formula of a compared cell touched)."""
        xml = self.sheet
        for name, ref in self.cells.items():
            pattern = re.compile(rf'<c r="{ref}"(?P<style> s="\d+")?[^>]*?(?:/>|>.*?</c>)')
            xml, n = pattern.subn(lambda m: _cell_xml(ref, m.group("style") or "", values.get(name)), xml, count=1)
            assert n == 1, ref
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
            for info, data in self.entries:
                target.writestr(info.filename, xml.encode("utf-8") if info.filename == self.part else data)
        return out.getvalue()


def _without_comments(name: str, data: bytes, dropped: set[str]) -> bytes:
    if name.endswith(".rels"):
        return re.sub(rb'<Relationship [^>]*Target="[^"]*(?:' + b"|".join(re.escape(d.encode()) for d in dropped)
                      + rb')"[^>]*/>', b"", data) if dropped else data
    if name.startswith("xl/worksheets/sheet"):
        return re.sub(rb"<legacyDrawing [^>]*/>", b"", data)
    if name == "[Content_Types].xml":
        return re.sub(rb'<Override PartName="/xl/comments/[^"]*"[^>]*/>', b"", data)
    return data


# ------------------------------------------------------------------ the run


@dataclass
class Group:
    """One edition's input sets, and what LibreOffice computed for each."""

    edition: Edition
    cases: list[Case]
    jx_cells: dict[tuple[str, str], str] = field(default_factory=dict)  # converted cell → the template's formula
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    results: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)  # case name → values
    twins: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)  # patched copies of full exports

    @property
    def wanted(self) -> list[tuple[str, str]]:
        return list(self.jx_cells) + [self.names[n] for n in self.edition.subtotals + ["综合评分", "评分等级"]]

    def problems(self, case: Case, adjust=None) -> list[str]:
        """Every cell where LibreOffice and Python differ for ``case`` (Python's values ``adjust``-ed)."""
        ed = self.edition
        got = self.results[case.name]
        expected = ed.expected(case.values, self.jx_cells, self.names)
        if adjust is not None:
            expected = adjust(expected)
        out = []
        for cell, want in expected.items():
            formula = self.jx_cells.get(cell)
            exact = formula is None or is_rounded(ed, formula)
            if not agrees(got[cell], want, exact=exact):
                what = formula or next(n for n, c in self.names.items() if c == cell)
                shown = "an error value" if want is ERROR else repr(want)
                out.append(f"{cell[0]}!{cell[1]} {what}: LibreOffice {got[cell]!r}, Python {shown}")
        return [f"inputs: {describe(case, ed)}", *out] if out else []

    # The checks every edition's differential module runs (each module adds its own edition's).

    def check_case(self, case: Case) -> None:
        """LibreOffice gives Python's value in every cell; an error anywhere reaches the total on both
        sides, and only then."""
        problems = self.problems(case)
        assert not problems, "\n".join(problems)
        ed = self.edition
        scores = ed.scores(ed.libreoffice_reads(case.values))
        assert (ed.totals(scores)["综合评分"] is ERROR) == any(isinstance(s, str) for s in scores.values())

    def check_known(self, known: Sequence[Case]) -> None:
        """Each known difference is real (the strict comparison fails) and is exactly what its reason says."""
        for case in known:
            assert self.problems(case), case.name
            problems = self.problems(case, adjust=null_quirk)
            assert not problems, case.known + "\n" + "\n".join(problems)

    def check_every_indicator_compared(self) -> None:
        """Every 分数 cell, subtotal and the grade is a converted JX cell, so the comparison covers them."""
        lay = self.edition.lay
        for name in [row.name for row in lay.scores] + list(lay.derived) + ["评分等级"]:
            assert self.names[name] in self.jx_cells, name


def check_boundaries_crossed(ed: Edition, cases: Sequence[Case]) -> None:
    """Around each discrete bound the three input sets do not all score alike (the bound is really met)."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        if case.boundary:
            groups.setdefault(case.boundary, []).append(case)
    assert len(groups) >= 20
    for label, around in groups.items():
        assert len(around) == 3, label
        assert len({ed.fingerprint(c.values) for c in around}) >= 2, label


@dataclass
class Run:
    groups: dict[str, Group]
    converted: dict[str, Path]  # extra workbook → LibreOffice's recalculated copy
    seconds: float = 0.0
    files: int = 0


def jx_formulas(template: Path) -> dict[tuple[str, str], str]:
    """Every JX formula of 评分表 and 预算执行 in the template: (sheet, cell) → formula."""
    from openpyxl import load_workbook

    wb = load_workbook(template)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets if ws.title in (SCORES, EXEC)
            for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=") and "JX_" in c.value}


def recalculate(work: Path, groups: Mapping[str, tuple[Edition, list[Case]]],
                extras: Mapping[str, Path] | None = None, every: int = 97) -> Run:
    """Write every input set of every group, and recalculate them and ``extras`` in one LibreOffice batch.

    Every ``every``-th case of a group goes the whole way (filled template,
    then export) and also gets a patched twin.
    """
    (work / "in").mkdir(parents=True, exist_ok=True)
    files: dict[Path, tuple[str, str, bool]] = {}  # written file → (group, case, twin?)
    run = Run({}, {})
    for key, (ed, cases) in groups.items():
        template = build(work / f"{key}-template.xlsm", rubric=ed.rubric)
        exported = export_workbook(template, work / f"{key}-base.xlsx", rubric=ed.rubric)
        names = defined_names(exported)
        group = Group(ed, cases, jx_formulas(template), names)
        run.groups[key] = group
        base = Base(exported, {n: names[n][1] for n in ed.fields}, unread=(TARGETS,))
        for i, case in enumerate(cases):
            path = work / "in" / f"{key}-{i:04d}.xlsx"
            patched = base.patched(case.values)
            if case.full_export or i % every == 0:
                case.full_export = True
                filled = build(work / f"{key}-filled{i:04d}.xlsm", Filled(case.values), rubric=ed.rubric)
                export_workbook(filled, path, rubric=ed.rubric)
                twin = work / "in" / f"{key}-twin{i:04d}.xlsx"
                twin.write_bytes(patched)
                files[twin] = (key, case.name, True)
            else:
                path.write_bytes(patched)
            files[path] = (key, case.name, False)
    extras = dict(extras or {})
    started = time.perf_counter()
    converted = recalculate_in_parallel([*files, *extras.values()], work / "out", runs=2)
    run.seconds = time.perf_counter() - started
    run.files = len(converted)
    for path, (key, name, twin) in files.items():
        group = run.groups[key]
        (group.twins if twin else group.results)[name] = read_values(converted[path], group.wanted)
    run.converted = {key: converted[path] for key, path in extras.items()}
    return run


def describe(case: Case, ed: Edition) -> str:
    """The inputs of a case that differ from the reference (for a failure message)."""
    changed = {k: v for k, v in case.values.items() if ed.reference.get(k, object()) != v}
    return ", ".join(f"{k}={v!r}" for k, v in changed.items()) or "the reference inputs"

