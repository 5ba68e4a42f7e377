"""The shape library: every kind of rule a 评分表 uses, written once.

An indicator's score is the sum of its *parts*, rounded once like ``ROUND``;
an optional *override* (a yes/no input) gives a fixed score instead. Each
part is one shape, parameterized by the edition's data:

========== ==========================================================================
check      a yes/no item worth its points (weighted checks)
partial    an item scored 酌情: 0..points, or yes/no for all or nothing
per_item   points less a fixed deduction per item found, with a floor
evaluator  the evaluator's own score, 0..points
statuses   one of several statuses, each worth its points
bands      the band that holds a measured rate decides the points
linear     measured rate × points, optionally with a cap on the rate
step       a deduction per step (pro rata, per whole step or per started step)
           above or below a limit, with a floor
schedule   periods measured against a schedule (序时进度), plus their average
========== ==========================================================================

*Measures* turn inputs into the rate that bands, linear and step parts
score: ``rate`` (typed or computed by another function), ``ratio`` (a/b),
``share`` (a/(a+b)), ``change`` ((this year − last year)/last year) and
``net_ratio`` (a/(b − c)). Each shape builds an expression tree
(:mod:`jx.expr`) that is both the Python evaluation and the formula text, and
explains its deductions in the report's own style (``编外人员控制率
23.53%>10%，扣1分``). Every number comes from the data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import read
from .excel import excel_round
from .expr import Check, Choose, Expr, Guard, If, Lit, Plain, Ref, Seq, all_of, any_of, fn, lit, not_
from .tables import Path, Problems, Table

# ------------------------------------------------------------------ formatting for notes and summaries


def pct(value: float) -> str:
    """A rate as the report prints it: 23.53%."""
    return f"{excel_round(value * 100, 2):.2f}%"


def bound(value: float) -> str:
    """A bound of the rubric as its text writes it: 10%, 0.5%."""
    return read.percent(value)


def pts(value: float) -> str:
    return f"{excel_round(value, 2):g}"


def num(value: float) -> str:
    return f"{value:g}"


# ------------------------------------------------------------------ inputs


KINDS = {
    "check": "是/否",
    "partial": "分值",
    "count": "整数",
    "amount": "金额或数量",
    "rate": "比率",
    "status": "状态",
    "score": "分值",
    "number": "数字",
}


@dataclass(frozen=True)
class Source:
    """A rate computed by another JX function from named inputs (``JX_STAFF_RATIO(编外人数,在编人数)``)."""

    function: str
    inputs: tuple[str, ...]
    cell: str | None = None  # the named cell holding it (一季度执行率), else computed inside the score formula
    paths: tuple = field(default=(), compare=False)  # where each input is written


@dataclass(frozen=True)
class Slot:
    """One input of a rule: a named cell on 基础数据, or a computed rate.

    ``arg`` is the argument of the Excel function it is passed to, ``label``
    the name messages use (the defined name for a named cell).
    """

    arg: str | None
    name: str | None
    label: str
    kind: str
    unit: str = ""
    help: str = ""
    upper: float | None = None
    optional: bool = False
    group: str | None = None
    options: tuple[str, ...] = ()
    source: Source | None = None
    declared: bool = False  # this occurrence carries the input's declaration
    path: Path = ()

    def read(self, x: Expr, vocab: read.Vocabulary) -> Expr:
        """The reader of this input's kind, applied to ``x``."""
        label, source = self.label, self.arg
        if self.kind == "check":
            return read.optional_check(x, label, vocab, source) if self.optional else read.check(x, label, vocab, source)
        if self.kind == "partial":
            return read.partial(x, label, self.upper, vocab, source)
        if self.kind == "count":
            return read.count(x, label, source)
        if self.kind == "amount":
            return read.optional_amount(x, label, source) if self.optional else read.amount(x, label, source)
        if self.kind == "rate":
            return read.rate(x, label, self.upper, source)
        if self.kind == "status":
            return read.choice(x, label, self.options, source)
        if self.kind == "score":
            return read.points(x, label, self.upper, source)
        return read.number(x, label, source)

    def ref(self) -> Ref:
        return Ref(self.arg or self.label)


_DECLARATION = ("kind", "unit", "help", "upper", "optional", "group")


def parse_slot(entry: Any, path: Path, problems: Problems, *, kinds: Sequence[str], arg: bool = True,
               named: bool = True) -> Slot:
    """One input occurrence: a name (a reference to an input declared elsewhere) or a table.

    ``kinds`` are the kinds the rule accepts, the first being the default.
    ``arg``: the occurrence must name its argument. ``named``: it must be a
    named cell (else it may be a computed value with a ``label``).
    """
    if isinstance(entry, str):
        if arg:
            problems.add(path, f"输入项“{entry}”应写成 {{ name = \"{entry}\", arg = \"…\" }}，注明函数参数名")
        return Slot(None, entry, entry, kinds[0], path=path)
    t = Table(entry, path, problems)
    name = t.text("name", None) if (named or t.has("name")) else None
    if named and name is None and not t.has("name"):
        t.problem(None, "输入项缺少“name”（基础数据中的名称）")
    label = t.text("label", None) or name or ""
    if not label:
        t.problem(None, "输入项缺少“label”（提示信息中的名称）")
    arg_name = t.text("arg", None)
    if arg and not arg_name:
        t.problem(None, f"输入项“{label}”缺少“arg”（Excel 函数的参数名）")
    if arg_name is not None and not _identifier(arg_name):
        t.problem("arg", f"参数名“{arg_name}”只能由英文字母、数字和下划线组成，且以字母开头")
    kind = t.text("kind", None)
    if kind is not None and kind not in kinds:
        t.problem("kind", f"输入项“{label}”的 kind 应为 {'、'.join(kinds)} 之一，实际为“{kind}”")
    declared = any(t.has(k) for k in _DECLARATION) or name is None
    upper = t.number("upper", None)
    source = None
    src = t.table("from", required=False)
    if src is not None:
        entries = src.raw("inputs", []) or []
        paths = tuple(src.path + ("inputs", i) for i in range(len(entries)))
        source = Source(src.text("function"), tuple(_source_input(e, p, problems) for e, p in zip(entries, paths)),
                        src.text("cell", None), paths)
        if not src.has("inputs"):
            src.problem(None, "来源缺少“inputs”")
        src.unknown()
    slot = Slot(arg_name, name, label, kind or kinds[0], t.text("unit", ""), t.text("help", ""), upper,
                t.flag("optional"), t.text("group", None), (), source, declared, path)
    t.unknown()
    return slot


def _source_input(entry: Any, path: Path, problems: Problems) -> str:
    """A named input a source is computed from: a name, or a declaration (collected for 基础数据)."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        problems.declared.append(parse_slot(entry, path, problems, kinds=("amount", "count", "rate", "number", "check", "partial", "status", "score"), arg=False))
        return entry["name"]
    problems.add(path, "来源的输入项应为名称，或带 name 的输入项声明")
    return ""


def _identifier(text: str) -> bool:
    return text.isascii() and text[:1].isalpha() and all(c.isalnum() or c == "_" for c in text)


# ------------------------------------------------------------------ measures


@dataclass(frozen=True)
class Measure:
    """How a rate is computed from inputs, and what happens at the edges."""

    shape: str  # rate | ratio | share | change | net_ratio
    slots: tuple[Slot, ...]
    label: str  # the rate's name in notes (编外人员控制率)
    above: str | float = "error"  # numerator above denominator: "error", "allow", or the points it earns
    both_zero: float | None = None  # numerator and denominator both 0: the points it earns (else an error)

    SHAPES: ClassVar[dict[str, tuple[int, int, tuple[str, ...]]]] = {
        # shape: (required inputs, optional inputs, kinds)
        "rate": (1, 0, ("rate",)),
        "ratio": (2, 0, ("amount", "count")),
        "share": (2, 0, ("count", "amount")),
        "change": (2, 0, ("amount", "count")),
        "net_ratio": (2, 1, ("amount", "count")),
    }

    @property
    def signed(self) -> bool:
        return self.shape == "change"

    def describe(self) -> str:
        return self.label if self.shape == "rate" else self.written([s.label for s in self.slots])

    def written(self, terms: Sequence[str]) -> str:
        """The rate written out with ``terms`` for its inputs: labels (编外人数/(…+…)) or numbers (4/(13+4))."""
        a = list(terms)
        if self.shape == "rate":
            return a[0]
        if self.shape == "share":
            return f"{a[0]}/({a[1]}+{a[0]})"
        if self.shape == "change":
            return f"({a[0]}−{a[1]})/{a[1]}"
        return f"{a[0]}/({a[1]}−{a[2]})" if len(a) > 2 else f"{a[0]}/{a[1]}"  # ratio, net_ratio

    def build(self, env: Mapping[str, Expr], vocab: read.Vocabulary) -> "Measured":
        """The inputs read, the checks on them, the rate, and the edge cases that earn fixed points.

        A part scores ``If(edge1, p1, If(edge2, p2, scoring(rate)))`` behind
        every check; the division is only reached when no edge case holds.
        """
        reads = [s.read(env.get(s.arg, s.ref()) if s.arg else s.ref(), vocab) for s in self.slots]
        raw = [plain(r) for r in reads]
        if self.shape == "rate":
            return Measured(tuple(reads), (), raw[0], ())
        checks: list[Check] = []
        if self.shape == "ratio":
            numerator, denominator, den_label = raw[0], raw[1], self.slots[1].label
        elif self.shape == "share":
            numerator, denominator = raw[0], raw[0] + raw[1]
            den_label = f"{self.slots[1].label}与{self.slots[0].label}之和"
        elif self.shape == "change":
            numerator, denominator, den_label = raw[0] - raw[1], raw[1], self.slots[1].label
        else:  # net_ratio
            numerator, denominator, den_label = raw[0], raw[1], self.slots[1].label
            if len(raw) > 2:
                checks.append(read.not_above(raw[2], self.slots[2].label, raw[1], self.slots[1].label,
                                             self.slots[2].arg))
                denominator = raw[1] - raw[2]
                den_label = f"{self.slots[1].label}减{self.slots[2].label}"
        edges: list[tuple[Expr, float]] = []
        if isinstance(self.above, float):
            edges.append((numerator > denominator, self.above))
        if self.both_zero is not None:
            edges.append((all_of(numerator.eq(0), denominator.eq(0)), self.both_zero))
        zero = denominator.eq(0)
        if edges:
            zero = all_of(zero, not_(any_of(*[c for c, _ in edges])))
        checks.append(Check(zero, read.message(den_label, "为 0，无法计算比率"), source=self.slots[-1].arg))
        if self.above == "error" and self.shape not in ("change", "share"):
            checks.append(read.not_above(numerator, self.slots[0].label, denominator, den_label, self.slots[0].arg))
        tiny = all_of(denominator.ne(0), fn("ABS", numerator) > fn("ABS", denominator) * read.MAX_MAGNITUDE)
        if edges:
            tiny = all_of(tiny, not_(any_of(*[c for c, _ in edges])))
        checks.append(Check(tiny, read.message(den_label, "过小，无法计算比率"), source=self.slots[-1].arg))
        return Measured(tuple(reads), tuple(checks), numerator / denominator, tuple(edges))


@dataclass(frozen=True)
class Measured:
    """A measure built over some arguments: read them, check them, then the rate."""

    reads: tuple[Expr, ...]
    checks: tuple[Check, ...]
    rate: Expr  # over the values past their checks
    edges: tuple[tuple[Expr, float], ...]

    def behind_checks(self, value: Expr) -> Expr:
        """``value`` evaluated only once every input is read and every check passed (in that order)."""
        inner = Guard(self.checks, value) if self.checks else value
        return Seq(self.reads, inner)

    @property
    def checked_rate(self) -> Expr:
        return self.behind_checks(self.rate)


def plain(e: Expr) -> Expr:
    """The value of a reader past its checks (the checks themselves are made first, where it is read)."""
    return Plain(e)


def parse_measure(t: Table, problems: Problems, default_label: str, key: str = "inputs",
                  named: bool | None = None) -> Measure | None:
    """A measure from a part's table (its ``inputs``), or a function's (its ``args``, not named cells)."""
    shape = t.text("measure")
    if shape not in Measure.SHAPES:
        t.problem("measure", f"未知的 measure“{shape}”，可用：{'、'.join(Measure.SHAPES)}")
        return None
    required, optional, kinds = Measure.SHAPES[shape]
    entries = t.raw(key)
    t.read.add(key)
    if not isinstance(entries, list):
        t.problem(None, f"measure = \"{shape}\" 需要“{key}”：{required} 个输入项")
        return None
    if not required <= len(entries) <= required + optional:
        t.problem(key, f"measure = \"{shape}\" 需要 {required}"
                       f"{f'–{required + optional}' if optional else ''} 个输入项，实际 {len(entries)} 个")
    named = shape != "rate" if named is None else named
    slots = tuple(parse_slot(e, t.path + (key, i), problems, kinds=kinds, named=named)
                  for i, e in enumerate(entries))
    above = t.raw("above", "error")
    if isinstance(above, int) and not isinstance(above, bool):
        above = float(above)
    if above not in ("error", "allow") and not isinstance(above, float):
        t.problem("above", "“above”应为 \"error\"（报错）、\"allow\"（照常计算）或一个分值")
        above = "error"
    both_zero = t.number("both_zero", None)
    return Measure(shape, slots, t.text("rate_label", default_label), above, both_zero)


# ------------------------------------------------------------------ parts


@dataclass(frozen=True)
class Part:
    """One scored piece of an indicator."""

    shape: ClassVar[str] = ""
    label: str
    path: Path = field(default=(), compare=False)

    @property
    def max(self) -> float:
        raise NotImplementedError

    def slots(self) -> tuple[Slot, ...]:
        """The arguments this part adds to the indicator's score function, in order."""
        raise NotImplementedError

    def build(self, env: Mapping[str, Expr], vocab: read.Vocabulary) -> Expr:
        """The unrounded points, checks included."""
        raise NotImplementedError

    def measure_expr(self, env: Mapping[str, Expr], vocab: read.Vocabulary) -> Expr | None:
        """The rate behind the points, for the notes (None: nothing measured)."""
        return None

    def notes(self, earned: float, measured: Any, values: Mapping[str, Any]) -> list[str]:
        return []

    def describe(self) -> str:
        raise NotImplementedError


def _arg(env: Mapping[str, Expr], slot: Slot) -> Expr:
    return env.get(slot.arg, slot.ref())


@dataclass(frozen=True)
class OneInputPart(Part):
    """A part read from one input, worth up to ``points``."""

    input: Slot = None
    points: float = 0.0

    @property
    def max(self):
        return self.points

    def slots(self):
        return (self.input,)


@dataclass(frozen=True)
class CheckPart(OneInputPart):
    shape: ClassVar[str] = "check"

    def build(self, env, vocab):
        return If(self.input.read(_arg(env, self.input), vocab), lit(self.points), Lit(0.0))

    def notes(self, earned, measured, values):
        return [] if earned >= self.points else [f"未满足“{self.label}”，扣{pts(self.points)}分"]

    def describe(self):
        return f"{self.label}（{num(self.points)} 分）"


@dataclass(frozen=True)
class TypedPart(OneInputPart):
    """Points typed into a cell, within 0 and the part's points (the common ground of two shapes)."""

    def build(self, env, vocab):
        return self.input.read(_arg(env, self.input), vocab)

    def notes(self, earned, measured, values):
        return [] if earned >= self.points else [f"{self.label}扣{pts(self.points - earned)}分"]


@dataclass(frozen=True)
class PartialPart(TypedPart):
    """A judgement the department scores itself (酌情): a number within the part's points, or 是/否."""

    shape: ClassVar[str] = "partial"

    def describe(self):
        return f"{self.label} 0–{num(self.points)} 分"


@dataclass(frozen=True)
class PerItemPart(Part):
    shape: ClassVar[str] = "per_item"
    count: Slot = None
    total: Slot | None = None
    points: float = 0.0
    per_item: float = 1.0
    floor: float = 0.0

    @property
    def max(self):
        return self.points

    def slots(self):
        return (self.total, self.count) if self.total else (self.count,)

    def build(self, env, vocab):
        n = self.count.read(_arg(env, self.count), vocab)
        if self.total is None:
            return fn("MAX", lit(self.points) - n * lit(self.per_item), lit(self.floor))
        total = self.total.read(_arg(env, self.total), vocab)
        check = read.not_above(plain(n), self.count.label, plain(total), self.total.label, self.count.arg)
        score = fn("MAX", lit(self.points) - plain(n) * lit(self.per_item), lit(self.floor))
        return Seq((total, n), Guard((check,), score))

    def measure_expr(self, env, vocab):
        return self.count.read(_arg(env, self.count), vocab)

    def notes(self, earned, measured, values):
        return [f"{self.label} {num(measured)} 项，扣{pts(self.points - earned)}分"] if measured else []

    def describe(self):
        floor = "扣完为止" if self.floor == 0 else f"最低 {num(self.floor)} 分"
        return f"{num(self.points)} 分，{self.label}每项扣 {num(self.per_item)} 分，{floor}"


@dataclass(frozen=True)
class EvaluatorPart(TypedPart):
    """An evaluator's score (效果性评分); the audit checks it against the 年度绩效指标."""

    shape: ClassVar[str] = "evaluator"
    against_targets: bool = False  # judged against 年度绩效指标: full marks with missed targets is flagged

    def describe(self):
        return f"{self.label}（0–{num(self.points)} 分）"


@dataclass(frozen=True)
class StatusesPart(Part):
    shape: ClassVar[str] = "statuses"
    input: Slot = None
    statuses: tuple[tuple[str, float], ...] = ()

    @property
    def max(self):
        return max((p for _s, p in self.statuses), default=0.0)

    def slots(self):
        return (self.input,)

    def build(self, env, vocab):
        status = self.input.read(_arg(env, self.input), vocab)
        out: Expr = lit(self.statuses[-1][1])
        for name, earned in reversed(self.statuses[:-1]):
            out = If(plain(status).eq(name), lit(earned), out)
        return Seq((status,), out)

    def notes(self, earned, measured, values):
        if earned >= self.max:
            return []
        status = str(values.get(self.input.arg, "")).strip()
        return [f"{self.label}：{status}，扣{pts(self.max - earned)}分"]

    def describe(self):
        return f"{self.label} " + "/".join(f"{s} {num(p)}" for s, p in self.statuses)


@dataclass(frozen=True)
class Band:
    """One band of a banded rule: a range and its points (or label). A missing bound is open."""

    points: float | None = None
    label: str | None = None
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = False

    def condition(self, subject: str, fmt: Callable[[float], str] = bound) -> str:
        """The band's condition in the rubric's notation: ``比率>10%``, ``5%≤比率≤10%``."""
        if self.lower is not None and self.upper is not None:
            return (f"{fmt(self.lower)}{'≤' if self.lower_inclusive else '<'}{subject}"
                    f"{'≤' if self.upper_inclusive else '<'}{fmt(self.upper)}")
        if self.lower is not None:
            return f"{subject}{'≥' if self.lower_inclusive else '>'}{fmt(self.lower)}"
        if self.upper is not None:
            return f"{subject}{'≤' if self.upper_inclusive else '<'}{fmt(self.upper)}"
        return subject

    def contains(self, value: float) -> bool:
        from .excel import compare

        if self.lower is not None:
            c = compare(value, self.lower)
            if c < 0 or (c == 0 and not self.lower_inclusive):
                return False
        if self.upper is not None:
            c = compare(value, self.upper)
            if c > 0 or (c == 0 and not self.upper_inclusive):
                return False
        return True


def banded(value: Expr, bands: Sequence[Band], result: Callable[[Band], Expr]) -> Expr:
    """The band that holds ``value``; the bands tile the line from the lowest up (validated)."""
    out = result(bands[-1])
    for band in reversed(bands[:-1]):
        out = If(value <= band.upper if band.upper_inclusive else value < band.upper, result(band), out)
    return out


def band_of(value: float, bands: Sequence[Band]) -> Band:
    for band in bands:
        if band.contains(value):
            return band
    raise AssertionError(f"no band holds {value}")


def bands_problems(bands: Sequence[Band], t: Table, key: str = "bands") -> None:
    """Bands must ascend and tile the number line: no gap, no overlap."""
    if not bands:
        t.problem(key, "没有分档")
        return
    if bands[0].lower is not None:
        t.problem(key, "第一档应无下限（从负无穷开始）")
    if bands[-1].upper is not None:
        t.problem(key, "最后一档应无上限")
    for i, (low, high) in enumerate(zip(bands, bands[1:])):
        if low.upper is None or high.lower is None or low.upper != high.lower:
            t.problems.add(t.path + (key, i + 1), f"分档边界不相接：第 {i + 1} 档上限 {low.upper}，第 {i + 2} 档下限 {high.lower}"
                                                  "（有空隙或重叠）")
        elif low.upper_inclusive == high.lower_inclusive:
            both = "同时属于" if low.upper_inclusive else "同时不属于"
            t.problems.add(t.path + (key, i + 1), f"边界 {low.upper} {both}相邻两档：一档含边界，另一档应不含")
        if high.lower is not None and high.upper is not None and high.lower >= high.upper:
            t.problems.add(t.path + (key, i + 1), f"分档上下限颠倒（{high.lower}–{high.upper}）")


def parse_bands(t: Table, key: str, problems: Problems, points: bool = True) -> tuple[Band, ...]:
    out = []
    for bt in t.tables(key):
        band = Band(points=bt.number("points", None) if points else None,
                    label=bt.text("label", None) if not points else None,
                    lower=bt.number("lower", None), lower_inclusive=bt.flag("lower_inclusive", True),
                    upper=bt.number("upper", None), upper_inclusive=bt.flag("upper_inclusive", False))
        if points and band.points is None:
            bt.problem(None, "分档缺少“points”")
        if not points and band.label is None:
            bt.problem(None, "分档缺少“label”")
        if band.lower is not None and not bt.has("lower_inclusive"):
            bt.problem(None, "分档有 lower 时必须写明 lower_inclusive（下限是否含本数）")
        if band.upper is not None and not bt.has("upper_inclusive"):
            bt.problem(None, "分档有 upper 时必须写明 upper_inclusive（上限是否含本数）")
        bt.unknown()
        out.append(band)
    bands = tuple(out)
    bands_problems(bands, t, key)
    return bands


@dataclass(frozen=True)
class MeasuredPart(Part):
    """A part scored from a measured rate (bands, linear, step)."""

    measure: Measure = None

    def slots(self):
        return self.measure.slots

    def _score(self, rate: Expr) -> Expr:
        raise NotImplementedError

    def build(self, env, vocab):
        m = self.measure.build(env, vocab)
        out: Expr = self._score(m.rate)
        for cond, earned in reversed(m.edges):
            out = If(cond, lit(earned), out)
        return m.behind_checks(out)

    def measure_expr(self, env, vocab):
        m = self.measure.build(env, vocab)
        out: Expr = m.rate
        for cond, _earned in reversed(m.edges):
            out = If(cond, Lit(None), out)  # no rate where an edge case decides
        return m.behind_checks(out)

    def edge_note(self, earned: float, values: Mapping[str, Any]) -> list[str]:
        """The note when an edge case (above the denominator, both zero) decided the points."""
        if earned >= self.max:
            return []
        labels = [s.label for s in self.measure.slots]
        return [f"{labels[0]}大于{labels[1]}，{self.label}扣{pts(self.max - earned)}分"]


@dataclass(frozen=True)
class BandsPart(MeasuredPart):
    shape: ClassVar[str] = "bands"
    bands: tuple[Band, ...] = ()

    @property
    def max(self):
        return max((b.points for b in self.bands), default=0.0)

    def _score(self, rate):
        return banded(rate, self.bands, lambda b: lit(b.points))

    def notes(self, earned, measured, values):
        if measured is None:
            return self.edge_note(earned, values)
        if earned >= self.max:
            return []
        band = band_of(measured, self.bands)
        return [f"{self.measure.label} {band.condition(pct(measured))}，扣{pts(self.max - earned)}分"]

    def describe(self):
        best_first = sorted(self.bands, key=lambda b: -b.points)
        parts = [f"{b.condition(self.measure.label)} 得 {num(b.points)} 分" for b in best_first]
        return "；".join(parts)


@dataclass(frozen=True)
class LinearPart(MeasuredPart):
    shape: ClassVar[str] = "linear"
    points: float = 0.0
    cap: float | None = None  # the rate counts at most this much (1: 100%)

    @property
    def max(self):
        return self.points * (self.cap if self.cap is not None else 1.0)

    def _score(self, rate):
        if self.cap is not None:
            rate = fn("MIN", rate, lit(self.cap))
        return rate * lit(self.points)

    def notes(self, earned, measured, values):
        if measured is None:
            return self.edge_note(earned, values)
        if earned >= self.max:
            return []
        return [f"{self.measure.label} {_rate_text(self.measure, measured, values)}，扣{pts(self.max - earned)}分"]

    def describe(self):
        cap = f"（比率最多按 {bound(self.cap)} 计）" if self.cap is not None else ""
        text = f"{self.measure.label}×{num(self.points)} 分{cap}"
        m = self.measure
        if isinstance(m.above, float):
            text += f"，{m.slots[0].label}大于{m.slots[1].label}得 {num(m.above)} 分"
        if m.both_zero is not None:
            text += f"，{m.slots[0].label}和{m.slots[1].label}均为 0 得 {num(m.both_zero)} 分"
        return text


def _rate_text(measure: Measure, rate: float, values: Mapping[str, Any]) -> str:
    """A measured rate as the report writes it: 89.47%, or 34/41（82.93%） for a ratio of counts."""
    slots = measure.slots
    if measure.shape == "ratio" and all(s.kind == "count" for s in slots):
        numerator, denominator = (values.get(s.arg) for s in slots)
        if isinstance(numerator, float) and isinstance(denominator, float):
            return f"{num(numerator)}/{num(denominator)}（{pct(rate)}）"
    return pct(rate)


STEP_MODES = {"pro_rata": "按比例", "whole": "每满一档", "started": "不足一档按一档"}


@dataclass(frozen=True)
class StepPart(MeasuredPart):
    shape: ClassVar[str] = "step"
    points: float = 0.0
    limit: float = 0.0
    limit_inclusive: bool = True  # the limit itself earns full points
    direction: str = "above"  # deductions for rates above the limit, or below it
    step: float = 0.01
    per_step: float = 0.0
    steps: str = "pro_rata"
    floor: float = 0.0

    @property
    def max(self):
        return self.points

    def _score(self, rate):
        limit = lit(self.limit)
        if self.direction == "above":
            beyond = rate > limit if self.limit_inclusive else rate >= limit
            excess = (rate - limit) / lit(self.step)
        else:
            beyond = rate < limit if self.limit_inclusive else rate <= limit
            excess = (limit - rate) / lit(self.step)
        if self.steps == "whole":
            n = fn("INT", fn("ROUND", excess, 9))
        elif self.steps == "started":
            n = fn("MAX", Lit(1.0), Lit(0.0) - fn("INT", Lit(0.0) - fn("ROUND", excess, 9)))
        else:
            n = excess
        return If(beyond, fn("MAX", lit(self.points) - n * lit(self.per_step), lit(self.floor)), lit(self.points))

    def notes(self, earned, measured, values):
        if measured is None:
            return self.edge_note(earned, values)
        if earned >= self.max:
            return []
        sign = ">" if self.direction == "above" else "<"
        return [f"{self.measure.label} {pct(measured)}{sign}{bound(self.limit)}，扣{pts(self.max - earned)}分"]

    def describe(self):
        within = "（含）" if self.limit_inclusive else "（不含）"
        where = "以内" if self.direction == "above" else "以上"
        beyond = "超出" if self.direction == "above" else "低于"
        floor = "扣完为止" if self.floor == 0 else f"最低 {num(self.floor)} 分"
        mode = {"pro_rata": "，不足一档按比例扣", "whole": "，不足一档不扣", "started": "，不足一档按一档扣"}[self.steps]
        return (f"{self.measure.label}在 {bound(self.limit)}{within}{where}得 {num(self.points)} 分，"
                f"每{beyond} {bound(self.step)} 扣 {num(self.per_step)} 分{mode}，{floor}")


@dataclass(frozen=True)
class Period:
    name: str
    schedule: float
    rate: Slot


@dataclass(frozen=True)
class SchedulePart(Part):
    """Periods measured against a schedule: Σ min(rate/schedule, cap)×points + average×points."""

    shape: ClassVar[str] = "schedule"
    periods: tuple[Period, ...] = ()
    period_points: float = 1.0
    period_cap: float = 1.0
    average_points: float = 0.0
    period_function: str | None = None
    period_args: tuple[str, str] = ("rate", "period")
    average_function: str | None = None
    period_label: str = "期"  # what one period is called: 季度, 半年, 月
    average_label: str = "平均执行率"
    cumulative: bool = False  # the rates are cumulative (季度末累计): none may fall below the one before

    @property
    def max(self):
        return len(self.periods) * self.period_points * self.period_cap + self.average_points * self.period_cap

    def slots(self):
        return tuple(p.rate for p in self.periods)

    def period_score(self, i: int, rate: Expr) -> Expr:
        return fn("MIN", rate / lit(self.periods[i].schedule), lit(self.period_cap)) * lit(self.period_points)

    def _read(self, env, vocab) -> tuple[list[Expr], list[Check]]:
        """Every period's rate read, and, for cumulative periods, the checks that none falls."""
        reads = [p.rate.read(_arg(env, p.rate), vocab) for p in self.periods]
        checks = []
        if self.cumulative:
            for (before, b), (after, a) in zip(zip(self.periods, reads), list(zip(self.periods, reads))[1:]):
                checks.append(Check(plain(a) < plain(b), read.message(
                    f"{after.rate.label}不能低于{before.rate.label}（{self.period_label}末累计数不会减少）"),
                    source=after.rate.arg))
        return reads, checks

    def _with(self, env, vocab, value: Callable[[list[Expr]], Expr]) -> Expr:
        reads, checks = self._read(env, vocab)
        inner = value([self.period_score(i, plain(r)) for i, r in enumerate(reads)])
        return Seq(tuple(reads), Guard(tuple(checks), inner) if checks else inner)

    @staticmethod
    def _sum(terms: Sequence[Expr]) -> Expr:
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out

    def _average(self, scores: Sequence[Expr]) -> Expr:
        return self._sum(scores) / lit(float(len(self.periods))) / lit(self.period_points)

    def average(self, env, vocab) -> Expr:
        return self._with(env, vocab, self._average)

    def build(self, env, vocab):
        def points(scores: list[Expr]) -> Expr:
            total = self._sum(scores)
            return total + total / lit(float(len(self.periods))) / lit(self.period_points) * lit(self.average_points)

        return self._with(env, vocab, points)

    def measure_expr(self, env, vocab):
        return self.average(env, vocab)

    def period_tree(self, rate: Expr, period: Expr, vocab: read.Vocabulary) -> Expr:
        """The period function: one period's score from its rate and its number (1, 2, …).

        Each branch reads the rate under its own period's name, so a bad rate
        is named as 一季度执行率 or 二季度执行率 as the period says.
        """
        n = len(self.periods)
        q = read.count(period, self.period_label, self.period_args[1])
        out_of_range = Check(any_of(q < 1, q > n), read.message(f"{self.period_label}应为 1 到 {n}"),
                             source=self.period_args[1])
        branches = tuple(self.period_score(i, p.rate.read(rate, vocab)) for i, p in enumerate(self.periods))
        return Guard((out_of_range,), Choose(q, branches))

    def notes(self, earned, measured, values):
        from .excel import compare

        behind = [f"{p.name} {pct(values[p.rate.arg])}/{bound(p.schedule)}" for p in self.periods
                  if isinstance(values.get(p.rate.arg), float) and compare(values[p.rate.arg], p.schedule) < 0]
        if not behind or earned >= self.max:
            return []
        return [f"{self.period_label}执行率未达序时进度（{'，'.join(behind)}），"
                f"{self.average_label} {pct(measured)}，扣{pts(self.max - earned)}分"]

    def describe(self):
        schedule = "、".join(bound(p.schedule) for p in self.periods)
        cap = num(self.period_cap * self.period_points)
        return (f"{len(self.periods)} 个{self.period_label}得分（执行率/序时进度 {schedule}，每个最高 {cap} 分）之和"
                f" + {self.average_label}×{num(self.average_points)} 分")


@dataclass(frozen=True)
class Override:
    """A yes/no input that, when yes, gives the indicator a fixed score (the parts are then not read)."""

    input: Slot
    points: float
    note: str = ""


# ------------------------------------------------------------------ parsing parts


def parse_part(t: Table, problems: Problems, indicator_name: str) -> Part | None:
    shape = t.text("shape")
    label = t.text("label", indicator_name)
    path = t.path
    part: Part | None = None
    if shape == "check":
        part = CheckPart(label, path, _one(t, problems, ("check",)), t.number("points"))
        if not t.has("label"):
            part = dataclasses.replace(part, label=part.input.help or part.input.label)
        elif not part.input.help:
            part = dataclasses.replace(part, input=dataclasses.replace(part.input, help=label))
    elif shape == "partial":
        points = t.number("points")
        slot = _one(t, problems, ("partial",))
        part = PartialPart(label, path, dataclasses.replace(slot, upper=points), points)
    elif shape == "evaluator":
        points = t.number("points")
        slot = _one(t, problems, ("score",))
        part = EvaluatorPart(label, path, dataclasses.replace(slot, upper=points), points,
                             t.flag("against_targets"))
    elif shape == "per_item":
        entries = t.raw("inputs")
        t.read.add("inputs")
        if not isinstance(entries, list) or not 1 <= len(entries) <= 2:
            t.problem("inputs", "per_item 需要 inputs：[未完成或不符合的项数]，或 [总项数, 未完成项数]")
            return None
        slots = [parse_slot(e, path + ("inputs", i), problems, kinds=("count",)) for i, e in enumerate(entries)]
        part = PerItemPart(label, path, slots[-1], slots[0] if len(slots) == 2 else None, t.number("points"),
                           t.number("per_item"), t.number("floor", 0.0))
    elif shape == "statuses":
        slot = _one(t, problems, ("status",))
        statuses = []
        for st in t.tables("statuses"):
            statuses.append((st.text("status"), st.number("points")))
            st.unknown()
        if not statuses:
            t.problem("statuses", "没有状态")
        part = StatusesPart(label, path, dataclasses.replace(slot, options=tuple(s for s, _ in statuses)),
                            tuple(statuses))
    elif shape in ("bands", "linear", "step"):
        measure = parse_measure(t, problems, label)
        if measure is None:
            return None
        if shape == "bands":
            part = BandsPart(label, path, measure, parse_bands(t, "bands", problems))
        elif shape == "linear":
            part = LinearPart(label, path, measure, t.number("points"), t.number("cap", None))
            if measure.above == "allow" and part.cap is None:
                t.problem("cap", "比率可能超过 100%（above = \"allow\"）时，linear 需要“cap”")
        else:
            direction = t.text("direction", "above")
            steps = t.text("steps", "pro_rata")
            if direction not in ("above", "below"):
                t.problem("direction", "direction 应为 \"above\"（超过限值扣分）或 \"below\"（低于限值扣分）")
            if steps not in STEP_MODES:
                t.problem("steps", f"steps 应为 {'、'.join(STEP_MODES)} 之一")
            part = StepPart(label, path, measure, t.number("points"), t.number("limit"),
                            t.flag("limit_inclusive", True), direction, t.number("step"), t.number("per_step"),
                            steps, t.number("floor", 0.0))
            if not t.has("limit_inclusive"):
                t.problem(None, "step 必须写明 limit_inclusive（限值本身是否得满分）")
            if part.step <= 0:
                t.problem("step", "step 应大于 0")
        for key in ("measure", "rate_label", "above", "both_zero"):
            t.read.add(key)
    elif shape == "schedule":
        part = _parse_schedule(t, problems, label)
    else:
        t.problem("shape", f"未知的 shape“{shape}”，可用：{'、'.join(SHAPES)}")
        return None
    t.unknown({"shape", "label"})
    return part


def _one(t: Table, problems: Problems, kinds: tuple[str, ...]) -> Slot:
    """The input a check, partial, evaluator or statuses part owns: its declaration is here."""
    t.read.add("input")
    if not t.has("input"):
        t.problem(None, "缺少“input”")
        return Slot(None, None, "?", kinds[0])
    slot = parse_slot(t.raw("input"), t.path + ("input",), problems, kinds=kinds)
    return dataclasses.replace(slot, declared=True)


def _parse_schedule(t: Table, problems: Problems, label: str) -> SchedulePart:
    periods = []
    for pt in t.tables("periods"):
        rate = parse_slot({"label": pt.text("rate_label", f"{pt.text('name')}执行率"), "arg": pt.text("arg"),
                           "kind": "rate", "upper": pt.number("upper", 1.0),
                           **({"from": pt.raw("from")} if pt.has("from") else {}),
                           **({"help": pt.raw("help")} if pt.has("help") else {})},
                          pt.path, problems, kinds=("rate",), named=False)
        periods.append(Period(pt.text("name"), pt.number("schedule"), rate))
        pt.unknown({"from", "help"})
    schedule = [p.schedule for p in periods]
    if schedule != sorted(schedule) or len(set(schedule)) != len(schedule):
        t.problem("periods", "序时进度应逐期递增")
    function = t.table("period_function", required=False)
    period_function, period_args = None, ("rate", "period")
    if function is not None:
        period_function = function.text("name")
        args = function.strings("args")
        if len(args) != 2:
            function.problem("args", "period_function 的 args 应为两个参数名：[比率, 期次]")
        else:
            period_args = (args[0], args[1])
        function.unknown()
    return SchedulePart(label, t.path, tuple(periods), t.number("period_points", 1.0), t.number("period_cap", 1.0),
                        t.number("average_points", 0.0), period_function, period_args,
                        t.text("average_function", None), t.text("period_label", "期"),
                        t.text("average_label", "平均执行率"), t.flag("cumulative"))


SHAPES = {cls.shape: cls for cls in (CheckPart, PartialPart, PerItemPart, EvaluatorPart, StatusesPart, BandsPart,
                                     LinearPart, StepPart, SchedulePart)}
