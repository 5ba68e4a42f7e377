"""Reading one input the way the rubric means it, or saying why not, as tree nodes.

Each reader wraps a value in a :class:`~jx.expr.Guard`: the checks a bad
value fails, each with the short Chinese text the cell shows, then the value
as the rule uses it. Blank, text for a number, a logical, an error value, a
negative amount, a fraction of a person: each is a message naming the input,
never a 0. The same checks are Python's exceptions and the formula's ``IF``s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import CELL_PREFIX
from .expr import (Check, Choose, Expr, Fn, Guard, If, InList, Lit, Op, all_of, any_of, fn, if_, lit, not_)
from .values import ERROR_NAMES

# The largest magnitude any input may have: no budget reaches 10^15 yuan, and
# ratios of such numbers stay far from overflow on every face.
MAX_MAGNITUDE = 1e15
# How much of a bad text a message quotes back.
CLIP = 20


def message(*parts: object) -> Expr:
    """The cell text ``错误：…`` from literal pieces and value expressions, joined with ``&``."""
    pieces: list[object] = [CELL_PREFIX]
    for part in parts:
        text = part.value if isinstance(part, Lit) else part
        if isinstance(text, Expr):
            pieces.append(text)
        elif isinstance(pieces[-1], str):
            pieces[-1] += str(text)
        else:
            pieces.append(str(text))
    exprs = [Lit(p) if isinstance(p, str) else p for p in pieces if p != ""]
    out = exprs[0]
    for e in exprs[1:]:
        out = Op("&", out, e)
    return out


def _clipped(x: Expr) -> Expr:
    return fn("LEFT", fn("TRIM", x), CLIP)


def blank(x: Expr) -> Expr:
    return fn("TRIM", x).eq("")


def is_number(x: Expr) -> Expr:
    """A number and not a logical (LibreOffice counts logicals as numbers)."""
    return all_of(fn("ISNUMBER", x), not_(fn("ISLOGICAL", x)))


@dataclass(frozen=True)
class Vocabulary:
    """The words a 是/否 input accepts, from the edition's data."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    hint: str

    @property
    def words(self) -> tuple[str, ...]:
        return self.yes + self.no


def present(x: Expr, label: str, source: str | None) -> list[Check]:
    """Error value, a message carried from an upstream cell, blank: what every reader rejects first."""
    names = [Lit(name) for name in ERROR_NAMES]
    return [
        Check(fn("ISERROR", x), message(label, "引用的单元格有错误（", Choose(fn("ERROR.TYPE", x), tuple(names)), "）"),
              x, source=source),
        Check(fn("LEFT", x, len(CELL_PREFIX)).eq(CELL_PREFIX), x, x, source=source),
        Check(blank(x), message(label, "不能为空"), x, source=source),
    ]


def _not_a_number(x: Expr, label: str, source: str | None) -> list[Check]:
    return [
        Check(fn("ISLOGICAL", x), message(label, "应为数字，不能是逻辑值 ", if_(x, "TRUE", "FALSE")), x, source=source),
        Check(not_(fn("ISNUMBER", x)), message(label, "应为数字，不能是文本“", _clipped(x), "”"), x, source=source),
    ]


def _magnitude(x: Expr, label: str, source: str | None) -> Check:
    return Check(fn("ABS", x) > MAX_MAGNITUDE, message(label, "超出合理范围"), source=source)


def number(x: Expr, label: str, source: str | None = None) -> Expr:
    """Any finite number of a plausible size."""
    return Guard(tuple(present(x, label, source) + _not_a_number(x, label, source)
                       + [_magnitude(x, label, source)]), x)


def _more(x: Expr, label: str, source: str | None, *extra: Check) -> Expr:
    checks = present(x, label, source) + _not_a_number(x, label, source) + [_magnitude(x, label, source)]
    return Guard(tuple(checks) + extra, x)


def negative(x: Expr, label: str, source: str | None) -> Check:
    return Check(x < 0, message(label, "不能为负数"), source=source)


def amount(x: Expr, label: str, source: str | None = None) -> Expr:
    """Money, people, counts: a number that cannot be negative."""
    return _more(x, label, source, negative(x, label, source))


def count(x: Expr, label: str, source: str | None = None) -> Expr:
    """A whole, non-negative number of items."""
    return _more(x, label, source, negative(x, label, source),
                 Check(x.ne(fn("INT", x)), message(label, "应为整数"), source=source))


def percent(value: float) -> str:
    return f"{value * 100:g}%"


def rate(x: Expr, label: str, upper: float | None, source: str | None = None) -> Expr:
    """A non-negative rate written as a decimal (93.99% is 0.9399), at most ``upper`` (inclusive)."""
    extra = [negative(x, label, source)]
    if upper is not None:
        extra.append(Check(x > upper, message(label, f"应在 0 到 {percent(upper)} 之间（以小数填写，如 93.99% 填 0.9399）"),
                           source=source))
    return _more(x, label, source, *extra)


def points(x: Expr, label: str, upper: float, source: str | None = None) -> Expr:
    """A score typed by the evaluator, from 0 to ``upper`` points (both inclusive)."""
    return _more(x, label, source, Check(any_of(x < 0, x > upper), message(label, f"应在 0 到 {upper:g} 分之间"),
                                         source=source))


def signed(x: Expr, label: str, source: str | None = None) -> Expr:
    """A number that may be negative (a change rate typed directly)."""
    return number(x, label, source)


def _valid_word(x: Expr, vocab: Vocabulary) -> Expr:
    """What jx accepts for 是/否: a logical, the numbers 1 and 0, or one of the vocabulary's words."""
    return If(fn("ISLOGICAL", x), Lit(True), If(fn("ISNUMBER", x), any_of(x.eq(0), x.eq(1)),
                                                InList(fn("TRIM", x), vocab.words)))


def truth(x: Expr, vocab: Vocabulary) -> Expr:
    return If(fn("ISLOGICAL", x), x, If(fn("ISNUMBER", x), x.eq(1), InList(fn("TRIM", x), vocab.yes)))


def _bad_word(x: Expr, label: str, vocab: Vocabulary) -> Expr:
    return If(fn("ISNUMBER", x), message(label, f"应填写{vocab.hint}，不能是 ", x),
              message(label, f"应填写{vocab.hint}，不能是“", _clipped(x), "”"))


def check(x: Expr, label: str, vocab: Vocabulary, source: str | None = None) -> Expr:
    """A yes/no item: TRUE when it reads as yes."""
    checks = present(x, label, source) + [Check(not_(_valid_word(x, vocab)), _bad_word(x, label, vocab), x,
                                                skip_kind="logical", source=source)]
    return Guard(tuple(checks), truth(x, vocab))


def optional_check(x: Expr, label: str, vocab: Vocabulary, source: str | None = None) -> Expr:
    """A yes/no item that may be left out or blank (then: no)."""
    first = present(x, label, source)[:2]
    filled = not_(blank(x))
    checks = first + [Check(all_of(filled, not_(_valid_word(x, vocab))), _bad_word(x, label, vocab), x,
                            skip_kind="logical", source=source)]
    return Guard(tuple(checks), truth(x, vocab))


def partial(x: Expr, label: str, upper: float, vocab: Vocabulary, source: str | None = None) -> Expr:
    """An item scored 酌情: points from 0 to ``upper``, or a yes/no for all or nothing."""
    numeric = is_number(x)
    checks = present(x, label, source) + [
        Check(If(numeric, any_of(x < 0, x > upper), Lit(False)), message(label, f"应在 0 到 {upper:g} 分之间"),
              source=source),
        Check(If(numeric, Lit(False), not_(_valid_word(x, vocab))), _bad_word(x, label, vocab), x,
              skip_kind="-", source=source),
    ]
    return Guard(tuple(checks), If(numeric, x, If(truth(x, vocab), lit(float(upper)), Lit(0.0))))


def choice(x: Expr, label: str, options: Sequence[str], source: str | None = None) -> Expr:
    """One of a fixed list of words (a disclosure status); the value is the trimmed word."""
    options = tuple(options)
    checks = present(x, label, source) + [
        Check(not_(InList(fn("TRIM", x), options)), message(label, f"应为以下之一：{'、'.join(options)}"), x,
              skip_kind="-", source=source)]
    return Guard(tuple(checks), fn("TRIM", x))


def optional_amount(x: Expr, label: str, source: str | None = None) -> Expr:
    """An amount that may be left out or blank (then: 0), such as 冻结资金."""
    filled = not_(blank(x))
    first = present(x, label, source)[:2]
    # a blank (or all-space) cell is left out: the number checks only look at a filled one
    bad = [Check(If(filled, c.cond, Lit(False)), c.message, c.subject, c.skip_kind, source)
           for c in _not_a_number(x, label, source) + [_magnitude(x, label, source), negative(x, label, source)]]
    return Guard(tuple(first + bad), If(blank(x), Lit(0.0), x))


def ratio(numerator: Expr, denominator: Expr, denominator_label: str, source: str | None = None) -> Expr:
    """``numerator / denominator``; a zero denominator is the input's error, not #DIV/0!."""
    return Guard((Check(denominator.eq(0), message(denominator_label, "为 0，无法计算比率"), source=source),
                  Check(fn("ABS", numerator) > fn("ABS", denominator) * MAX_MAGNITUDE,
                        message(denominator_label, "过小，无法计算比率"), source=source)),
                 numerator / denominator)


def not_above(value: Expr, label: str, limit: Expr, limit_label: str, source: str | None = None) -> Check:
    return Check(value > limit, message(label, "不能大于", limit_label), source=source)
