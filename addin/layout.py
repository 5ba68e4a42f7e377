"""The layout an edition's template defines: every named cell and every formula.

One source for the template builder (which writes it), the headless reader
(which checks a workbook against it: every name where the template put it,
every formula still the template's) and the auditor (which recomputes each
score from the inputs with the same formula tree the cell holds). Pure
Python: no openpyxl here, so the reader pays nothing to import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jx.rubric import Rubric
from jx.shapes import SchedulePart, Slot

# Sheet titles and the VBA code names of their document modules.
INSTRUCTIONS, INPUTS, SCORES, EXEC, SELF, CONF = "填报说明", "基础数据", "评分表", "预算执行", "自评表", "xlwings.conf"
SHEETS = ((INSTRUCTIONS, "Sheet1"), (INPUTS, "Sheet2"), (SCORES, "Sheet3"), (EXEC, "Sheet4"), (SELF, "Sheet5"),
          (CONF, "Sheet6"))
EDITION_NAME = "评分标准版本"
TASK_ROWS = 30
TARGET_ROWS = 250
INPUT_FIRST_ROW = 4
SCORE_FIRST_ROW = 5


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
    targets: tuple[int, int] = (0, 0)  # first and last target row on 自评表

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


_CACHE: dict[int, tuple[Rubric, Layout]] = {}


def layout(rubric: Rubric) -> Layout:
    """The template's layout for ``rubric`` (computed once per edition object)."""
    cached = _CACHE.get(id(rubric))
    if cached is not None and cached[0] is rubric:
        return cached[1]
    result = _build(rubric)
    _CACHE[id(rubric)] = (rubric, result)
    return result


def _build(rubric: Rubric) -> Layout:
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
    # 自评表: 年度主要任务完成情况, then 年度绩效指标完成情况
    tasks = (5, 5 + TASK_ROWS - 1)
    task_total = tasks[1] + 1
    target_head = task_total + 2
    targets = (target_head + 2, target_head + 2 + TARGET_ROWS - 1)
    names["任务预算数"] = (SELF, f"$C${tasks[0]}:$C${tasks[1]}")
    names["任务执行数"] = (SELF, f"$E${tasks[0]}:$E${tasks[1]}")
    names["预期指标值"] = (SELF, f"$D${targets[0]}:$D${targets[1]}")
    names["实际完成值"] = (SELF, f"$E${targets[0]}:$E${targets[1]}")
    names["指标达成情况"] = (SELF, f"$F${targets[0]}:$F${targets[1]}")
    names["绩效指标数"] = (SELF, f"$B${targets[1] + 1}")
    names["未达成指标数"] = (SELF, f"$D${targets[1] + 1}")
    return Layout(rubric, fields, input_rows, tuple(scores), subtotal_rows, total_row, grade_row, derived,
                  tuple(schedules), names, tasks, targets)


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
