"""The layout an edition's template defines: every named cell and every formula.

One source for the template builder (which writes it), the headless reader
(which checks a workbook against it: every name where the template put it,
every formula still the template's) and the auditor (which recomputes each
score from the inputs with the same formula tree the cell holds). Pure
Python: no openpyxl here, so the reader pays nothing to import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jx.errors import CELL_PREFIX
from jx.expr import Apply, Expr, If, Lit, SheetOp, Span, all_of, any_of, fn, render
from jx.expr import Cell as XCell
from jx.rubric import GRADE_FUNCTION as GRADE
from jx.rubric import Rubric
from jx.shapes import SchedulePart, Slot

# Sheet titles and the VBA code names of their document modules.
INSTRUCTIONS, INPUTS, SCORES, EXEC, SELF, TARGETS, TEXTS, CONF = (
    "填报说明", "基础数据", "评分表", "预算执行", "自评表", "绩效指标", "报告文字", "xlwings.conf")
SHEETS = ((INSTRUCTIONS, "Sheet1"), (INPUTS, "Sheet2"), (SCORES, "Sheet3"), (EXEC, "Sheet4"), (SELF, "Sheet5"),
          (TARGETS, "Sheet8"), (TEXTS, "Sheet7"), (CONF, "Sheet6"))
TEXT_FIRST_ROW = 4
EDITION_NAME = "评分标准版本"
FILLED_NAME = "已填写项数"  # on 基础数据: how many inputs hold something (0: a blank template)
SELFCHECK_NAME = "自检结果"  # on 填报说明: where JxSelfCheck writes its lines (addin.selfcheck.RESULT_NAME)
SELFCHECK_ROW = 40  # the row of that block; the instructions and troubleshooting table above it must fit
TASK_ROWS = 30
# What 是否达成 shows for a target row (and the report and the audit repeat).
MET_WORD, MISSED_WORD, UNJUDGED_WORD = "达成", "未达成", "无法判定"
TARGET_ROWS = 250
INPUT_FIRST_ROW = 4
SCORE_FIRST_ROW = 5
TASK_FIRST_ROW = 5
TARGET_FIRST_ROW = 5
# Ranges a user may extend by inserting rows inside them (the task rows and the target rows).
TASK_RANGES = ("任务预算数", "任务执行数")
TARGET_RANGES = ("预期指标值", "实际完成值", "指标达成情况", "指标判定")
EXTENDABLE = TASK_RANGES + TARGET_RANGES


@dataclass(frozen=True)
class Field:
    """One named input cell on 基础数据: the template's own (部门名称…) or the edition's."""

    name: str
    group: str
    kind: str  # check | partial | count | amount | rate | status | score | number | text | year
    unit: str
    help: str
    required: bool = True
    upper: float | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Text:
    """An optional text of the 自评报告 (报告文字 sheet): the department's own words, never made up."""

    name: str  # the defined name
    section: str  # where the report prints it
    help: str
    indicator: str | None = None


# The report's own texts, in the order the report prints them (before the per-indicator ones).
REPORT_TEXTS = (
    Text("主要职能", "一、（一）部门主要职能", "部门（单位）的主要职能"),
    Text("年度重点工作", "一、（二）年度总体工作和重点工作任务", "年度总体工作和重点工作任务"),
    Text("履职目标", "二、（一）主要履职目标", "部门主要履职目标"),
    Text("履职情况", "二、（二）主要履职情况", "部门主要履职情况"),
    Text("经验做法", "三、（一）预算绩效管理工作主要经验、做法", "预算绩效管理工作主要经验、做法"),
    Text("后续工作计划", "三、（三）后续工作计划", "后续工作计划"),
    Text("相关建议", "三、（三）相关建议", "相关建议"),
)


def indicator_texts(indicator_id: str, name: str) -> tuple[Text, Text]:
    """The two texts of one indicator: why points were lost, and what the department will do."""
    section = "三、（二）存在问题及改进措施"
    return (Text(f"情况说明_{indicator_id}", section, f"{name}：扣分的原因、情况说明（可不填）", indicator_id),
            Text(f"改进措施_{indicator_id}", section, f"{name}：改进措施（可不填）", indicator_id))


# What every template asks, whatever its edition.
BASIC = (
    Field("部门名称", "基本信息", "text", "", "部门（单位）名称"),
    Field("预算年度", "基本信息", "year", "年", "被评价的预算年度（四位数字，如 2020）"),
    Field("填报人", "基本信息", "text", "", "填表人", required=False),
)


@dataclass(frozen=True)
class Call:
    """A JX function applied to named cells, numbers or other calls: a formula as a tree."""

    function: str
    args: tuple["Call | str | float", ...]

    def render(self) -> str:
        return f"{self.function}({','.join(_render(a) for a in self.args)})"

    def names(self) -> list[str]:
        """Every defined name the formula reads, in order."""
        out: list[str] = []
        for a in self.args:
            if isinstance(a, Call):
                out += a.names()
            elif isinstance(a, str):
                out.append(a)
        return out


def _render(arg: "Call | str | float") -> str:
    if isinstance(arg, Call):
        return arg.render()
    if isinstance(arg, float):
        return f"{arg:g}"
    return str(arg)


@dataclass(frozen=True)
class ScoreRow:
    indicator: str
    row: int
    call: Call

    @property
    def name(self) -> str:
        return score_name(self.indicator)


@dataclass(frozen=True)
class Derived:
    """A named formula cell between inputs and scores (一季度执行率 on 预算执行)."""

    name: str
    sheet: str
    ref: str
    call: Call


@dataclass(frozen=True)
class ScheduleTable:
    """Where one schedule part's table stands on 预算执行 (rows, top to bottom)."""

    indicator: str
    top: int  # the header row (period names)
    arguments: tuple[str, ...]  # the rate function's arguments, a row each

    @property
    def rate_row(self) -> int:
        return self.top + len(self.arguments) + 1

    @property
    def schedule_row(self) -> int:
        return self.rate_row + 1

    @property
    def score_row(self) -> int:
        return self.rate_row + 2

    @property
    def summary_row(self) -> int:
        return self.score_row + 2

    @property
    def end(self) -> int:
        return self.summary_row + 4


@dataclass
class Layout:
    rubric: Rubric
    fields: tuple[Field, ...]
    input_rows: dict[str, int]
    scores: tuple[ScoreRow, ...]
    subtotal_rows: dict[str, int]
    total_row: int
    grade_row: int
    derived: dict[str, Derived]
    schedules: tuple["ScheduleTable", ...] = ()  # the tables on 预算执行
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (sheet, $A$1 reference)
    tasks: tuple[int, int] = (0, 0)  # first and last task row on 自评表
    targets: tuple[int, int] = (0, 0)  # first and last target row on 绩效指标
    texts: tuple[Text, ...] = ()  # the report's texts on 报告文字, a row each from TEXT_FIRST_ROW
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, "G5") → "=…": every formula cell
    trees: dict[tuple[str, str], Any] = field(default_factory=dict)  # the same cells as expression trees

    @property
    def sheets(self) -> tuple[tuple[str, str], ...]:
        return SHEETS if self.derived else tuple(s for s in SHEETS if s[0] != EXEC)


def score_name(indicator_id: str) -> str:
    """Defined name of an indicator's 分数 cell, e.g. 分数_staff."""
    return f"分数_{indicator_id}"


def _field(slot: Slot) -> Field:
    return Field(slot.name, slot.group or "", slot.kind, slot.unit, slot.help or slot.label,
                 required=not slot.optional, upper=slot.upper, options=slot.options)


def argument(slot: Slot, derived: dict[str, "Derived"]) -> "Call | str":
    """What the template passes for one argument: the named input, its derived cell, or a nested call."""
    if slot.source is None:
        return slot.name
    if slot.source.cell and slot.source.cell in derived:
        return slot.source.cell
    return Call(slot.source.function, tuple(slot.source.inputs))


def score_call(rubric: Rubric, indicator_id: str, derived: dict[str, "Derived"] | None = None) -> Call:
    ind = rubric.indicator(indicator_id)
    derived = derived if derived is not None else layout(rubric).derived
    return Call(ind.function, tuple(argument(s, derived) for s in ind.slots()))


_CACHE: dict[tuple[int, int, int], tuple[Rubric, Layout]] = {}


def layout(rubric: Rubric, task_rows: int = TASK_ROWS, target_rows: int = TARGET_ROWS) -> Layout:
    """The template's layout for ``rubric`` (computed once per edition object and row counts).

    ``task_rows`` and ``target_rows``: a user may insert rows inside the task
    and target ranges; the layout of such a workbook has them, and every cell
    below moves down with them.
    """
    key = (id(rubric), task_rows, target_rows)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rubric:
        return cached[1]
    result = _build(rubric, task_rows, target_rows)
    _CACHE[key] = (rubric, result)
    return result


def _build(rubric: Rubric, task_rows: int, target_rows: int) -> Layout:
    fields = BASIC + tuple(_field(s) for s in rubric.inputs)
    input_rows = {f.name: INPUT_FIRST_ROW + i for i, f in enumerate(fields)}
    names: dict[str, tuple[str, str]] = {f.name: (INPUTS, f"$D${row}") for f, row in zip(fields, input_rows.values())}

    # 预算执行: one table per schedule part — the rate function's arguments, the rate (a named
    # derived cell), the schedule, the period scores — then the average and the score
    derived: dict[str, Derived] = {}
    schedules: list[ScheduleTable] = []
    top = 3
    for ind in rubric.indicators:
        part = ind.schedule
        if part is None:
            continue
        sources = [p.rate.source for p in part.periods]
        function = rubric.measure_function(sources[0].function) if sources[0] else None
        labels = tuple(s.label for s in function.measure.slots) if function else ()
        table = ScheduleTable(ind.id, top, labels)
        for i, period in enumerate(part.periods):
            source = period.rate.source
            if source and source.cell:
                ref = f"${_column(2 + i)}${table.rate_row}"
                derived[source.cell] = Derived(source.cell, EXEC, ref, Call(source.function, tuple(source.inputs)))
                names[source.cell] = (EXEC, ref)
        if part.average_function:
            names[part.average_label] = (EXEC, f"$B${table.summary_row}")
        schedules.append(table)
        top = table.end + 4
    scores = []
    row = SCORE_FIRST_ROW
    for ind in rubric.indicators:
        call = Call(ind.function, tuple(argument(s, derived) for s in ind.slots()))
        scores.append(ScoreRow(ind.id, row, call))
        names[score_name(ind.id)] = (SCORES, f"$G${row}")
        row += 1
    subtotal_rows = {}
    for level1, _max in rubric.level1:
        subtotal_rows[level1] = row
        names[f"{level1}得分"] = (SCORES, f"$G${row}")
        row += 1
    total_row, grade_row = row, row + 1
    names["综合评分"] = (SCORES, f"$G${total_row}")
    names["评分等级"] = (SCORES, f"$G${grade_row}")
    names[EDITION_NAME] = (SCORES, "$H$2")
    names[FILLED_NAME] = (INPUTS, "$D$2")
    names[SELFCHECK_NAME] = (INSTRUCTIONS, f"$A${SELFCHECK_ROW}")
    # 自评表: 年度主要任务完成情况, then 年度总体目标完成情况
    tasks = (TASK_FIRST_ROW, TASK_FIRST_ROW + task_rows - 1)
    goal_row = tasks[1] + 4
    names["任务预算数"] = (SELF, f"$C${tasks[0]}:$C${tasks[1]}")
    names["任务执行数"] = (SELF, f"$E${tasks[0]}:$E${tasks[1]}")
    names["年度总体目标"] = (SELF, f"$A${goal_row}")
    names["总体目标完成情况"] = (SELF, f"$D${goal_row}")
    # 绩效指标: 年度绩效指标完成情况, its own sheet so that its header repeats on every printed page
    targets = (TARGET_FIRST_ROW, TARGET_FIRST_ROW + target_rows - 1)
    names["预期指标值"] = (TARGETS, f"$D${targets[0]}:$D${targets[1]}")
    names["实际完成值"] = (TARGETS, f"$E${targets[0]}:$E${targets[1]}")
    names["指标达成情况"] = (TARGETS, f"$F${targets[0]}:$F${targets[1]}")
    names["指标判定"] = (TARGETS, f"$G${targets[0]}:$G${targets[1]}")
    names["绩效指标数"] = (TARGETS, f"$B${targets[1] + 1}")
    names["未达成指标数"] = (TARGETS, f"$D${targets[1] + 1}")
    names["无法判定指标数"] = (TARGETS, f"$F${targets[1] + 1}")
    texts = REPORT_TEXTS + tuple(t for ind in rubric.indicators for t in indicator_texts(ind.id, ind.name))
    for i, text in enumerate(texts):
        names[text.name] = (TEXTS, f"$C${TEXT_FIRST_ROW + i}")
    lay = Layout(rubric, fields, input_rows, tuple(scores), subtotal_rows, total_row, grade_row, derived,
                 tuple(schedules), names, tasks, targets, texts)
    lay.trees = _trees(lay)
    lay.formulas = {key: "=" + render(tree) for key, tree in lay.trees.items()}
    return lay


# ------------------------------------------------------------------ the formulas, as trees

def _udf(rubric: Rubric | None, name: str) -> Callable[..., Any]:
    """A JX function as a cell evaluates it: its value, or the text ``错误：…`` of an input error (as in Excel)."""
    def call(*args):
        from jx.errors import JXInputError
        from jx.functions import functions

        if rubric is None:
            raise RuntimeError(f"{name}: a formula rendered without its edition cannot be evaluated")
        try:
            return functions(rubric)[name](*args)
        except JXInputError as error:
            return error.cell_text

    return call


def call_tree(call: "Call | str | float", rubric: Rubric | None) -> Expr:
    """A layout :class:`Call` as an expression tree over named cells."""
    if isinstance(call, float):
        return Lit(call)
    if isinstance(call, str):
        return XCell(call)
    return Apply(call.function, tuple(call_tree(a, rubric) for a in call.args), _udf(rubric, call.function))


def _shown(name: str) -> Expr:
    """A named input shown on another sheet: blank stays blank (not 0)."""
    return If(XCell(name).eq(""), Lit(""), XCell(name))


def _sum_of(refs: Sequence[str]) -> Expr:
    out: Expr = XCell(refs[0])
    for ref in refs[1:]:
        out = SheetOp("+", out, XCell(ref))
    return out


def task_rate_tree(row: int) -> Expr:
    c, e = XCell(f"C{row}"), XCell(f"E{row}")
    return If(any_of(c.eq(""), c.eq(0)), Lit(""), SheetOp("/", e, c))


def target_tree(row: int, rubric: Rubric | None = None) -> Expr:
    """The hidden verdict of one target row: TRUE, FALSE, or the reason it cannot be judged."""
    d, e = XCell(f"D{row}"), XCell(f"E{row}")
    return If(all_of(d.eq(""), e.eq("")), Lit(""), Apply("JX_TARGET_MET", (d, e), _udf(rubric, "JX_TARGET_MET")))


def target_shown_tree(row: int) -> Expr:
    """What 是否达成 shows: 达成, 未达成, or 无法判定：<reason>."""
    g = XCell(f"G{row}")
    return If(g.eq(""), Lit(""), If(fn("ISLOGICAL", g), If(g, Lit(MET_WORD), Lit(MISSED_WORD)),
                                    fn("SUBSTITUTE", g, CELL_PREFIX, f"{UNJUDGED_WORD}：")))


def task_rate_formula(row: int) -> str:
    return "=" + render(task_rate_tree(row))


def target_formula(row: int) -> str:
    return "=" + render(target_tree(row))


def target_shown_formula(row: int) -> str:
    return "=" + render(target_shown_tree(row))


def _trees(lay: Layout) -> dict[tuple[str, str], Expr]:
    """Every formula the template writes, by sheet and cell, as the tree it renders from and evaluates.

    The template writes ``"=" + render(tree)``; the reader checks each cell
    against that text; ``jx recalc`` evaluates the trees in Python when every
    cell still holds them.
    """
    rubric = lay.rubric
    out: dict[tuple[str, str], Expr] = {}
    inputs = [lay.input_rows[f.name] for f in lay.fields]
    out[(INPUTS, "D2")] = fn("COUNTA", Span(f"D{min(inputs)}:D{max(inputs)}"))
    for sheet in (SCORES, SELF, TARGETS):  # the official tables' head
        out[(sheet, "B2")] = _shown("部门名称")
        out[(sheet, "F2")] = _shown("预算年度")
    for row in lay.scores:
        out[(SCORES, f"G{row.row}")] = call_tree(row.call, rubric)
        g, d = XCell(f"G{row.row}"), XCell(f"D{row.row}")
        out[(SCORES, f"H{row.row}")] = If(fn("ISNUMBER", g), SheetOp("-", d, g), Lit(""))
    for level1, _max in rubric.level1:
        rows = [f"G{s.row}" for s in lay.scores if rubric.indicator(s.indicator).level1 == level1]
        out[(SCORES, f"G{lay.subtotal_rows[level1]}")] = fn("ROUND", _sum_of(rows), float(rubric.decimals))
    out[(SCORES, f"G{lay.total_row}")] = fn("ROUND", _sum_of([f"{name}得分" for name, _ in rubric.level1]),
                                             float(rubric.decimals))
    out[(SCORES, f"G{lay.grade_row}")] = Apply(GRADE, (XCell("综合评分"),), _udf(rubric, GRADE))
    out[(SCORES, f"B{lay.grade_row + 1}")] = _shown("填报人")
    for table in lay.schedules:
        part = rubric.indicator(table.indicator).schedule
        for i, period in enumerate(part.periods):
            col = _column(2 + i)
            source = period.rate.source
            for offset, name in enumerate(source.inputs if source else (), start=1):
                out[(EXEC, f"{col}{table.top + offset}")] = _shown(name)
            rate = source.cell if source and source.cell else period.rate.label
            if rate in lay.derived:
                out[(EXEC, f"{col}{table.rate_row}")] = call_tree(lay.derived[rate].call, rubric)
            if part.period_function:
                out[(EXEC, f"{col}{table.score_row}")] = call_tree(Call(part.period_function, (rate, float(i + 1))),
                                                                    rubric)
        for j, (_label, tree) in enumerate(_schedule_summary(table, lay)):
            out[(EXEC, f"B{table.summary_row + j}")] = tree
    first, last = lay.tasks
    for row in range(first, last + 1):
        out[(SELF, f"G{row}")] = task_rate_tree(row)
    for col in "CDEF":
        out[(SELF, f"{col}{last + 1}")] = fn("SUM", Span(f"{col}{first}:{col}{last}"))
    c, e = XCell(f"C{last + 1}"), XCell(f"E{last + 1}")
    out[(SELF, f"G{last + 1}")] = If(c.eq(0), Lit(""), SheetOp("/", e, c))
    first, last = lay.targets
    for row in range(first, last + 1):
        out[(TARGETS, f"F{row}")] = target_shown_tree(row)
        out[(TARGETS, f"G{row}")] = target_tree(row, rubric)
    out[(TARGETS, f"B{last + 1}")] = fn("COUNTA", Span(f"D{first}:D{last}"))
    out[(TARGETS, f"D{last + 1}")] = fn("COUNTIF", Span(f"G{first}:G{last}"), False)
    out[(TARGETS, f"F{last + 1}")] = fn("COUNTIF", Span(f"F{first}:F{last}"), f"{UNJUDGED_WORD}*")
    return out


def _schedule_summary(table: ScheduleTable, lay: Layout) -> list[tuple[str, Expr]]:
    """The rows under a schedule table: the average, its points, the indicator's score."""
    ind = lay.rubric.indicator(table.indicator)
    part = ind.schedule
    rates = tuple((p.rate.source.cell if p.rate.source and p.rate.source.cell else p.rate.label)
                  for p in part.periods)
    out: list[tuple[str, Expr]] = []
    if part.average_function:
        average = Call(part.average_function, rates)
        out += [(part.average_label, call_tree(average, lay.rubric)),
                (f"{part.average_label}得分", SheetOp("*", call_tree(average, lay.rubric),
                                                     Lit(float(part.average_points))))]
    score = next(s for s in lay.scores if s.indicator == table.indicator)
    out.append((f"{ind.name}得分", call_tree(score.call, lay.rubric)))
    return out


def schedule_summary(table: ScheduleTable, lay: Layout) -> list[tuple[str, str]]:
    """The rows under a schedule table as (label, formula text)."""
    return [(label, "=" + render(tree)) for label, tree in _schedule_summary(table, lay)]


def evaluate(arg: "Call | str | float", values: Mapping[str, Any], lay: "Layout",
             on_error: Callable[[Call, Exception], Exception] | None = None) -> Any:
    """The value of a formula tree from the input values, every function of the layout's edition.

    A derived name (一季度执行率) is computed from its own formula. ``on_error``
    turns an input error raised by a call into the one to raise (the audit
    adds the cell it is about).
    """
    if isinstance(arg, float):
        return arg
    if isinstance(arg, str):
        if arg in lay.derived:
            return evaluate(lay.derived[arg].call, values, lay, on_error)
        return values.get(arg)
    args = [evaluate(a, values, lay, on_error) for a in arg.args]
    return _apply(arg, args, lay, on_error)


def _apply(call: Call, args: list[Any], lay: "Layout", on_error) -> Any:
    from jx.errors import JXInputError
    from jx.functions import functions

    try:
        return functions(lay.rubric)[call.function](*args)
    except JXInputError as error:
        if on_error is None:
            raise
        raise on_error(call, error) from None


def arguments(call: Call, values: Mapping[str, Any], lay: "Layout", on_error=None) -> list[Any]:
    """The values a call's function receives."""
    return [evaluate(a, values, lay, on_error) for a in call.args]


def _column(index: int) -> str:
    from jx.expr import column_letter

    return column_letter(index)
