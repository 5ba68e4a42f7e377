"""Every Excel function of an edition, derived from its data.

Each indicator names its score function; its arguments are the inputs of its
parts, in order. Rates computed by another function (``JX_STAFF_RATIO``,
``JX_EXEC_RATE``) are the edition's ``[[function]]`` entries; a schedule part
adds its period and average functions; every edition has ``JX_GRADE`` and
``JX_TARGET_MET``. A :class:`Function` carries the Function Wizard's help
text (generated from the numbers of the data, in Chinese), its argument
names and help, and the expression tree that is both its Python evaluation
and its native formula. Nothing here is written per indicator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import read
from .errors import JXInputError
from .excel import excel_round
from .expr import Check, Expr, Guard, If, Lit, Ref, RuleBug, Seq, any_of, fn, lit
from .rubric import GRADE_FUNCTION, TARGET_FUNCTION, Indicator, MeasureFunction, Rubric
from .shapes import CheckPart, Part, SchedulePart, Slot, banded, num, plain
from .values import Problem, XlError, cell_value


class _Omitted:
    """An optional argument not written at all (different from a blank cell)."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = _Omitted()
# Excel's limit on a Function Wizard text.
WIZARD_LIMIT = 255


@dataclass(frozen=True)
class Arg:
    name: str  # the Excel argument name (c1, outside)
    label: str  # what messages call it
    doc: str  # the Function Wizard's help for it
    optional: bool = False


@dataclass
class Function:
    """One worksheet function of one edition."""

    name: str
    summary: str  # the Function Wizard's one line
    args: tuple[Arg, ...]
    tree: Expr  # over Ref(arg.name) for each argument
    role: str = "score"  # score | measure | period | average | grade | target
    indicator: str | None = None
    volatile: bool = False
    read_names: tuple[str, ...] = ()  # without arguments, the values of these named cells
    memo: dict | None = None  # results by argument values (JX_TARGET_MET: the same few texts fill every table)
    _compiled: Callable | None = field(default=None, repr=False)

    @property
    def signature(self) -> tuple[tuple[str, bool], ...]:
        return tuple((a.name, a.optional) for a in self.args)

    @property
    def signature_text(self) -> str:
        return ", ".join(("Optional " if a.optional else "") + a.name for a in self.args)

    @property
    def compiled(self) -> Callable:
        if self._compiled is None:
            self._compiled = self.tree.compile()
        return self._compiled

    def values(self, raw: Sequence[Any]) -> dict[str, Any]:
        """The environment for ``raw`` argument values: each read as a cell (:func:`cell_value`)."""
        if len(raw) > len(self.args):
            raise JXInputError(f"{self.name} 最多有 {len(self.args)} 个参数，收到 {len(raw)} 个")
        given = [v for v in raw if v is not OMITTED]
        if self.read_names and given and len(given) < len(self.args):
            raise JXInputError(f"{self.name} 需同时填写{'和'.join(a.label for a in self.args)}，或都不填")
        env: dict[str, Any] = {}
        for i, arg in enumerate(self.args):
            value = raw[i] if i < len(raw) else OMITTED
            if value is OMITTED:
                if not arg.optional:
                    raise JXInputError(f"{arg.label}不能为空")
                value = None
            value = cell_value(value)
            if isinstance(value, Problem):
                error = JXInputError(f"{arg.label}{value.what}")
                error.source = arg.name
                raise error
            env[arg.name] = value
        return env

    def __call__(self, *raw: Any) -> Any:
        """The function's value for Python arguments (raises :class:`JXInputError` for a bad one)."""
        env = self.values(raw)
        if self.memo is not None:
            key = tuple((type(v), v) for v in env.values())
            try:
                return self.memo[key]
            except KeyError:
                pass
            except TypeError:
                return self.evaluate(env)
            result = self.evaluate(env)
            if len(self.memo) > 20000:
                self.memo.clear()
            self.memo[key] = result
            return result
        return self.evaluate(env)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """The value for an environment of cell values (argument name → value)."""
        result = self.compiled(dict(env))
        if isinstance(result, XlError) or (isinstance(result, float) and not math.isfinite(result)):
            raise RuleBug(f"{self.name} gave {result!r}")
        return result


@dataclass(frozen=True)
class Score:
    """An indicator's points, the reason for every deduction, and what was measured.

    ``measures`` are the rates behind the points as (name, value), e.g.
    ("政府采购执行率", 0.8947…) or each period's rate and the average of a
    schedule; ``inputs`` the values the function received, by argument label.
    """

    indicator: str
    points: float
    max: float
    notes: tuple[str, ...] = ()
    measures: tuple[tuple[str, float], ...] = ()
    inputs: tuple[tuple[str, Any], ...] = ()

    @property
    def deduction(self) -> float:
        return excel_round(self.max - self.points, 2)


# ------------------------------------------------------------------ help texts


def _arg_doc(slot: Slot, rubric: Rubric, points: float | None = None) -> str:
    hint = rubric.vocabulary.hint
    help_text = slot.help or slot.label
    unit = f"（{slot.unit}）" if slot.unit and slot.kind in ("amount", "count") else ""
    if slot.source is not None:
        text = f"{slot.label}（小数，通常为 {slot.source.function} 的结果）"
    elif slot.kind == "check":
        weight = f"，{num(points)} 分" if points is not None else ""
        text = f"{help_text}{weight}（{hint}）"
    elif slot.kind == "partial":
        text = f"{help_text}，0–{num(slot.upper)} 分（或{hint}）"
    elif slot.kind == "rate":
        text = f"{help_text}（小数，如 93.99% 填 0.9399）"
    elif slot.kind == "status":
        text = f"{help_text}：{' / '.join(slot.options)}"
    elif slot.kind == "score":
        text = f"{help_text}（0–{num(slot.upper)} 分）"
    else:
        text = f"{help_text}{unit}"
    if slot.optional:
        default = "默认否" if slot.kind == "check" else "默认 0"
        text = f"可选：{text}，{default}"
    return text[:WIZARD_LIMIT]


def _args(slots: Sequence[Slot], rubric: Rubric, weights: Mapping[int, float] | None = None) -> tuple[Arg, ...]:
    return tuple(Arg(s.arg, s.label, _arg_doc(s, rubric, (weights or {}).get(i)), s.optional)
                 for i, s in enumerate(slots))


def _env(slots: Sequence[Slot]) -> dict[str, Expr]:
    return {s.arg: Ref(s.arg) for s in slots}


# ------------------------------------------------------------------ building


def _sum(terms: Sequence[Expr]) -> Expr:
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def score_tree(ind: Indicator, rubric: Rubric, env: Mapping[str, Expr] | None = None) -> Expr:
    """The indicator's score: Σ parts, rounded once; an override that holds gives its fixed points."""
    env = env if env is not None else _env(ind.slots())
    vocab = rubric.vocabulary
    value = fn("ROUND", _sum([p.build(env, vocab) for p in ind.parts]), rubric.decimals)
    if ind.override is None:
        return value
    slot = ind.override.input
    return If(slot.read(env.get(slot.arg, slot.ref()), vocab), lit(excel_round(ind.override.points, rubric.decimals)),
              value)


def _score_function(ind: Indicator, rubric: Rubric) -> Function:
    weights = {}
    i = 0
    for part in ind.parts:
        for _slot in part.slots():
            if isinstance(part, CheckPart):
                weights[i] = part.points
            i += 1
    summary = f"{ind.name}（满分{num(ind.max)}分）：{ind.summary}"
    return Function(ind.function, summary[:WIZARD_LIMIT], _args(ind.slots(), rubric, weights), score_tree(ind, rubric),
                    "score", ind.id)


def _measure_function(f: MeasureFunction, rubric: Rubric) -> Function:
    slots = f.measure.slots
    rate = f.measure.build(_env(slots), rubric.vocabulary).checked_rate
    names = tuple(s.label for s in slots) if f.read_names else ()
    summary = f.summary + (f"；不带参数时读取工作簿的“{'”“'.join(names)}”" if names else "")
    return Function(f.name, summary[:WIZARD_LIMIT], _args(slots, rubric), rate, "measure",
                    volatile=f.volatile or bool(names), read_names=names)


def _schedule_functions(ind: Indicator, part: SchedulePart, rubric: Rubric) -> list[Function]:
    out = []
    vocab = rubric.vocabulary
    schedule = "、".join(f"{p.schedule * 100:g}%" for p in part.periods)
    cap = num(part.period_cap * part.period_points)
    if part.period_function:
        rate_arg, period_arg = part.period_args
        args = (Arg(rate_arg, "执行率", f"该{part.period_label}执行率（小数，通常为来源函数的结果）"),
                Arg(period_arg, part.period_label, f"{part.period_label}：{'、'.join(str(i + 1) for i in range(len(part.periods)))}"))
        tree = part.period_tree(Ref(rate_arg), Ref(period_arg), vocab)
        summary = f"{part.period_label}预算执行率得分＝执行率/序时进度（{schedule}），最高 {cap} 分"
        out.append(Function(part.period_function, summary, args, tree, "period", ind.id))
    if part.average_function:
        slots = part.slots()
        summary = f"{part.average_label}＝各{part.period_label}得分（执行率/序时进度，最高 {cap} 分）的平均"
        out.append(Function(part.average_function, summary, _args(slots, rubric),
                            part.average(_env(slots), vocab), "average", ind.id))
    return out


def grade_tree(rubric: Rubric, total: Expr) -> Expr:
    """The grade of a total as displayed (rounded to the edition's decimals)."""
    value = read.number(total, "综合评分", "total")
    shown = fn("ROUND", plain(value), rubric.decimals)
    out_of_range = Check(any_of(shown < 0, shown > rubric.total),
                         read.message(f"综合评分应在 0 到 {num(rubric.total)} 之间"), source="total")
    return Seq((value,), Guard((out_of_range,), banded(shown, rubric.grade.bands, lambda b: Lit(b.label))))


def _grade_function(rubric: Rubric) -> Function:
    parts = []
    for band in reversed(rubric.grade.bands):
        if band.lower is not None and band.upper is not None:
            parts.append(f"{num(band.lower)}{'（含）' if band.lower_inclusive else ''}–{num(band.upper)} {band.label}")
        elif band.lower is not None:
            parts.append(f"{num(band.lower)}{'（含）' if band.lower_inclusive else ''}以上 {band.label}")
        else:
            parts.append(f"{num(band.upper)} 以下 {band.label}")
    summary = f"评分等级（按 {rubric.decimals} 位小数的综合评分）：" + "，".join(parts)
    arg = Arg("total", "综合评分", f"综合评分（0–{num(rubric.total)}）")
    return Function(GRADE_FUNCTION, summary[:WIZARD_LIMIT], (arg,), grade_tree(rubric, Ref("total")), "grade")


def _target_function(rubric: Rubric) -> Function:
    from . import targets

    args = (Arg("target", targets.TARGET_LABEL, "预期指标值，如 10 次、≥90%、>95%、2-3 小时、有效保障、及时"),
            Arg("actual", targets.ACTUAL_LABEL, "实际完成值，如 7、77%、未保障、未开展"))
    summary = "绩效指标是否达成：按预期指标值（数量、比较、区间或文字）判断实际完成值，返回 TRUE/FALSE"
    return Function(TARGET_FUNCTION, summary, args, targets.tree(rubric, Ref("target"), Ref("actual")), "target",
                    memo={})


_CACHE: dict[int, tuple[Rubric, dict[str, Function]]] = {}


def functions(rubric: Rubric) -> dict[str, Function]:
    """Every worksheet function of ``rubric``, by name (built once per edition object)."""
    cached = _CACHE.get(id(rubric))
    if cached is not None and cached[0] is rubric:
        return cached[1]
    out: dict[str, Function] = {}
    for ind in rubric.indicators:
        out[ind.function] = _score_function(ind, rubric)
        if ind.schedule:
            for f in _schedule_functions(ind, ind.schedule, rubric):
                out[f.name] = f
    for f in rubric.measure_functions:
        out[f.name] = _measure_function(f, rubric)
    out[GRADE_FUNCTION] = _grade_function(rubric)
    out[TARGET_FUNCTION] = _target_function(rubric)
    _CACHE[id(rubric)] = (rubric, out)
    return out


# ------------------------------------------------------------------ scores with their reasons


_PART_CACHE: dict[tuple[int, str], tuple[Rubric, list]] = {}


def _compiled_parts(ind: Indicator, rubric: Rubric) -> list[tuple[Part, Callable, Callable | None]]:
    key = (id(rubric), ind.id)
    cached = _PART_CACHE.get(key)
    if cached is not None and cached[0] is rubric:
        return cached[1]
    env = _env(ind.slots())
    vocab = rubric.vocabulary
    out = []
    for part in ind.parts:
        measured = part.measure_expr(env, vocab)
        out.append((part, part.build(env, vocab).compile(), measured.compile() if measured is not None else None))
    _PART_CACHE[key] = (rubric, out)
    return out


def explain(rubric: Rubric, indicator_id: str, raw: Sequence[Any]) -> Score:
    """The indicator's score for its score function's arguments, with a note per deduction."""
    ind = rubric.indicator(indicator_id)
    f = functions(rubric)[ind.function]
    env = f.values(raw)
    points = f.evaluate(env)
    if not 0 <= points <= ind.max:
        raise RuleBug(f"{ind.name} scored {points} outside 0..{ind.max}")
    notes: list[str] = []
    measures: list[tuple[str, float]] = []
    inputs = tuple((a.label, env.get(a.name)) for a in f.args)
    if ind.override is not None:
        slot = ind.override.input
        held = slot.read(Ref(slot.arg), rubric.vocabulary).compile()(dict(env))
        if held:
            if points < ind.max and ind.override.note:
                notes.append(ind.override.note)
            return Score(ind.id, points, ind.max, tuple(notes), (), inputs)
    for part, earned, measured in _compiled_parts(ind, rubric):
        e = earned(dict(env))
        m = measured(dict(env)) if measured else None
        notes += part.notes(e, m, env)
        if isinstance(part, SchedulePart):
            measures += [(p.rate.label, env[p.rate.arg]) for p in part.periods]
            measures.append((part.average_label, m))
        elif isinstance(m, float) and getattr(part, "measure", None) is not None:
            measures.append((part.measure.label, m))
    return Score(ind.id, points, ind.max, tuple(notes), tuple(measures), inputs)


def grade(rubric: Rubric, total: Any) -> str:
    return functions(rubric)[GRADE_FUNCTION](total)


__all__ = ["Arg", "Function", "OMITTED", "Score", "explain", "functions", "grade", "grade_tree", "score_tree"]
