"""Plain spreadsheet formulas for the JX functions, generated from the rubric data.

``jx export`` hands a workbook to people without Python (WPS, locked-down
machines, auditors): every ``JX_…`` call is rewritten into a formula that
Excel 2010+, WPS and LibreOffice 7.4 evaluate with their own functions
(:data:`FUNCTIONS`: no LET, no LAMBDA, nothing that needs an ``_xlfn.`` prefix).

One rule set, not two: every threshold, point value, schedule, check weight,
status, vocabulary word and grade band is read from the
:class:`~jx.rubric.Rubric` object, and every error message is produced by
calling :mod:`jx.inputs` (or the rule in :mod:`jx.rules`) with a bad value, so
the native text says what the Python function says. What this module holds
is the *shape* of each rule, mirroring :mod:`jx.rules` step by step and in the
same order, so the first bad input named is the one Python names.

A bad input shows exactly as with the add-in: the cell text
``错误：编外人数不能为负数``. Each JX call becomes a chain of guards,
``IF(<input bad>,"错误：…",IF(…,<score>))``; a guard's text makes the ``+`` of
the sub-totals and the total ``#VALUE!``, so an error still reaches the total.
An Excel error value in an input becomes the add-in's text
``错误：…引用的单元格有错误（#N/A）`` (through ``ERROR.TYPE``).

``JX_TARGET_MET`` reads target text (``≥90%``, ``2-3 小时``, ``282.68 万``).
Without LET, one formula would repeat every intermediate result and grow far
past Excel's 8,192 characters, so its steps live in helper cells on the same
row (hidden columns, one step each, headed in Chinese): see :class:`Helpers`
and docs/native-formulas.md, which also lists where the reading differs from
:mod:`jx.targets`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jx import inputs, rules, targets
from jx.errors import CELL_PREFIX, JXInputError
from jx.excel import excel_round
from jx.rubric import Band, Indicator, Rubric, load_rubric

# Every worksheet function a native formula uses. All are in Excel 2010 (none
# needs an _xlfn. prefix), WPS and LibreOffice 7.4.
FUNCTIONS = frozenset({
    "AND", "CHAR", "CHOOSE", "ERROR.TYPE", "FIND", "IF", "INT", "ISERROR", "ISLOGICAL",
    "ISNUMBER", "LEFT", "LEN", "MATCH", "MAX", "MID", "MIN", "NOT", "OR", "ROUND",
    "SUBSTITUTE", "TRIM", "VALUE",
})

# Excel 2010's limits on one formula (LibreOffice and WPS allow at least as much).
MAX_FORMULA_CHARS = 8192
MAX_NESTING = 64

# The characters jx/targets.py's regular expressions accept around numbers; they
# are not exposed as data there, so a test checks these against the expressions.
RANGE_SEPARATORS = "-–—~～至到"
PERCENT_SIGNS = "%％"
NUMBER_SIGNS = "+-"
DIGITS = "0123456789"
# Whitespace the target reading skips: space, ideographic space, tab, LF, CR.
_SPACES = ('" "', '"\u3000"', "CHAR(9)", "CHAR(10)", "CHAR(13)")
_SPAN = 25  # characters a number in target text may span (MID over an array constant)
_SENTINEL = "@"  # ends parsed text, so that MID never returns "" (FIND("",…) differs between apps)
_REST = 999  # "the rest of the text" for MID


class NativeFormulaError(ValueError):
    """A JX formula without a native equivalent (wrong arity, unknown function…)."""


# ------------------------------------------------------------------ formula text


def quote(text: str) -> str:
    """A string literal: ``"…"`` with inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def number(value: float) -> str:
    """A number literal as Excel writes it: 1, 0.05, 100000000."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value).upper()


_STRING = re.compile(r'"(?:[^"]|"")*"')


def _is_string(expr: str) -> bool:
    return _STRING.fullmatch(expr) is not None


def _atom(expr: str) -> str:
    """``expr`` safe next to an operator: parenthesized unless it is one operand."""
    if re.fullmatch(r"[^\s\"'(),+\-*/^&=<>{}:;!]+", expr) or _is_string(expr):
        return expr
    call = re.match(r"[A-Za-z_.][\w.]*\(", expr)
    if call and _matching_paren(expr, call.end() - 1) == len(expr) - 1:
        return expr
    if expr.startswith("(") and _matching_paren(expr, 0) == len(expr) - 1:
        return expr
    return f"({expr})"


def _skip_quoted(text: str, start: int) -> int:
    """Index just past the string literal or quoted sheet name opening at ``start``."""
    mark, i = text[start], start + 1
    while i < len(text):
        if text[i] == mark:
            if i + 1 < len(text) and text[i + 1] == mark:  # a doubled quote inside
                i += 2
                continue
            return i + 1
        i += 1
    raise NativeFormulaError(f"公式中的引号不配对：{text}")


def _matching_paren(text: str, open_at: int) -> int:
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _skip_quoted(text, i)
            continue
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise NativeFormulaError(f"公式括号不配对：{text}")


def _array(items: Sequence[str]) -> str:
    return "{" + ",".join(items) + "}"


def _words(words: Sequence[str]) -> str:
    return _array([quote(w) for w in words])


def _if(condition: str, then: str, otherwise: str) -> str:
    if condition == "TRUE":
        return then
    if condition == "FALSE":
        return otherwise
    return f"IF({condition},{then},{otherwise})"


def _in(char: str, chars: str) -> str:
    """TRUE when the one-character text ``char`` is one of ``chars``."""
    return f"ISNUMBER(FIND({char},{quote(chars)}))"


# A guard: (condition, what the cell shows when it holds). ALWAYS marks an input
# already known to be bad (a literal argument): nothing after it counts.
Guard = tuple[str, str]
ALWAYS = "TRUE"


def fold(guards: Sequence[Guard], value: str) -> str:
    """``IF(c1,r1,IF(c2,r2,…,value))``: the first guard that holds wins."""
    for i, (condition, result) in enumerate(guards):
        if condition == ALWAYS:
            guards, value = guards[:i], result
            break
    out = value
    for condition, result in reversed(guards):
        out = _if(condition, result, out)
    return out


@dataclass(frozen=True)
class Native:
    """A native formula: guards, then the value they protect.

    ``pure`` means ``value`` is a number once the guards pass, so an outer JX
    function fuses these guards into its own chain instead of re-checking the
    whole inner formula as text.
    """

    guards: tuple[Guard, ...]
    value: str
    kind: str  # number | text | logical
    pure: bool = True

    @property
    def text(self) -> str:
        return fold(self.guards, self.value)


_NOT_LITERAL = object()


@dataclass(frozen=True)
class Arg:
    """One argument of a JX call as written in the formula."""

    text: str = ""  # native expression: a name, a reference, an expression
    literal: object = _NOT_LITERAL  # a number, text or logical typed into the formula
    native: Native | None = None  # a nested JX call
    omitted: bool = False  # not written at all (optional arguments)

    @property
    def is_literal(self) -> bool:
        return self.literal is not _NOT_LITERAL

    @property
    def fused(self) -> bool:
        """A nested JX call whose guards an outer call can take over."""
        return self.native is not None and self.native.pure and self.native.kind == "number"

    @property
    def expr(self) -> str:
        """The argument as one operand of a formula."""
        return _atom(self.native.text if self.native is not None else self.text)


OMITTED = Arg(literal=None, omitted=True)


# ------------------------------------------------------------------ helper cells


class Helpers(Protocol):
    """Where a formula's intermediate steps go: one cell per step, on its row."""

    def add(self, step: str, formula: str) -> str:
        """Place ``formula`` (no leading ``=``) for ``step``; return its reference."""
        ...


@dataclass
class HelperColumns:
    """The helper columns of one sheet: a step always gets the same column."""

    first_column: int  # 1-based
    columns: dict[str, int] = field(default_factory=dict)  # step → column
    cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) → formula

    def row(self, row: int) -> "RowHelpers":
        return RowHelpers(self, row)


@dataclass
class RowHelpers:
    """The :class:`Helpers` of one cell: its steps go to the cell's row."""

    sheet: HelperColumns
    row: int
    used: dict[str, int] = field(default_factory=dict)

    def add(self, step: str, formula: str) -> str:
        from openpyxl.utils import get_column_letter

        count = self.used.get(step, 0) + 1  # a second call in one cell gets its own columns
        self.used[step] = count
        key = step if count == 1 else f"{step}（{count}）"
        column = self.sheet.columns.setdefault(key, self.sheet.first_column + len(self.sheet.columns))
        self.sheet.cells[(self.row, column)] = formula
        return f"{get_column_letter(column)}{self.row}"


# ------------------------------------------------------------------ messages


def _error_text(call: Callable[[], object]) -> str:
    """The cell text of the JXInputError that ``call`` raises."""
    try:
        call()
    except JXInputError as error:
        return error.cell_text
    raise AssertionError("a message probe did not fail")  # the rule changed: regenerate the probe


def _message(call: Callable[[], object]) -> str:
    return quote(_error_text(call))


def _message_with(call: Callable[[], object], marker: str, expr: str) -> str:
    """The message of ``call`` with the bad value ``marker`` shown by ``expr``."""
    before, after = _error_text(call).split(marker)
    return "&".join(([quote(before)] if before else []) + [expr] + ([quote(after)] if after else []))


_BLANK = _error_text(lambda: inputs.number(None, "")).removeprefix(CELL_PREFIX)  # "不能为空"


def _label(call: Callable[[], object]) -> str:
    """The input name a rule uses, read from the message it gives for a blank."""
    return _error_text(call).removeprefix(CELL_PREFIX).removesuffix(_BLANK)


# How much of a bad text jx.inputs quotes back (its ``value.strip()[:N]``).
_CLIP = len(_error_text(lambda: inputs.number("x" * 200, "")).split("“")[1].rstrip("”"))
_TEXT_MARK, _NUMBER_MARK = "\u0001", 987654.0


# ------------------------------------------------------------------ the generator


class Writer:
    """The native text of every JX function for one rubric edition."""

    def __init__(self, rubric: Rubric, helpers: Helpers | None = None):
        self.rubric = rubric
        self.helpers = helpers
        self.yes_words = sorted(rubric.yes_words)
        self.all_words = self.yes_words + sorted(rubric.no_words)
        # TRIM turns a logical into "TRUE"/"FALSE" (Excel) or "1"/"0" (LibreOffice) and a
        # number into its text: when the vocabulary holds all four words, comparing the
        # trimmed text with it reads logicals and 1/0 exactly as jx.inputs.check does.
        self.short_checks = {"TRUE", "1"} <= rubric.yes_words and {"FALSE", "0"} <= rubric.no_words

    # ---------------------------------------------------------------- numbers

    def round(self, raw: str) -> str:
        """Round once, like rules._score (ROUND is Excel's: half away from zero)."""
        return f"ROUND({raw},{self.rubric.decimals})"

    def const(self, value: float) -> str:
        return number(excel_round(value, self.rubric.decimals))

    def present(self, x: str, label: str) -> list[Guard]:
        """Error value, carried message, blank: what jx.inputs rejects first."""
        names = ",".join(quote(e) for e in inputs.EXCEL_ERRORS)  # in ERROR.TYPE order
        return [
            (f"ISERROR({x})", _message_with(lambda: inputs.number("#N/A", label), "#N/A",
                                            f"CHOOSE(ERROR.TYPE({x}),{names})")),
            (f"LEFT({x},{len(CELL_PREFIX)})={quote(CELL_PREFIX)}", x),
            (f'TRIM({x})=""', _message(lambda: inputs.number(None, label))),
        ]

    def not_a_number(self, x: str, label: str) -> list[Guard]:
        return [
            (f"ISLOGICAL({x})", _message_with(lambda: inputs.number(True, label), "TRUE", f'IF({x},"TRUE","FALSE")')),
            (f"NOT(ISNUMBER({x}))", _message_with(lambda: inputs.number(_TEXT_MARK, label), _TEXT_MARK,
                                                  f"LEFT(TRIM({x}),{_CLIP})")),
        ]

    def literal(self, arg: Arg, read: Callable[[object], object]) -> tuple[list[Guard], str]:
        """A value typed into the formula, read now by the Python rule itself."""
        try:
            value = read(arg.literal)
        except JXInputError as error:
            return [(ALWAYS, quote(error.cell_text))], "0"
        if isinstance(value, bool):
            return [], "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return [], number(value)
        return [], quote(str(value))

    def numeric(self, arg: Arg, label: str, read: Callable[[object], object],
                more: Callable[[str], list[Guard]] = lambda x: []) -> tuple[list[Guard], str]:
        """A number (jx.inputs.number), then ``more`` checks: sign, whole, range."""
        if arg.is_literal:
            return self.literal(arg, read)
        if arg.fused:
            x = _atom(arg.native.value)
            return list(arg.native.guards) + more(x), x
        x = arg.expr
        return self.present(x, label) + self.not_a_number(x, label) + more(x), x

    def negative(self, x: str, label: str) -> list[Guard]:
        return [(f"{x}<0", _message(lambda: inputs.amount(-1, label)))]

    def number_input(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        return self.numeric(arg, label, lambda v: inputs.number(v, label))

    def amount(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        return self.numeric(arg, label, lambda v: inputs.amount(v, label), lambda x: self.negative(x, label))

    def count(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        whole = _message(lambda: inputs.count(0.5, label))
        return self.numeric(arg, label, lambda v: inputs.count(v, label),
                            lambda x: self.negative(x, label) + [(f"{x}<>INT({x})", whole)])

    def rate(self, arg: Arg, label: str, upper: float | None) -> tuple[list[Guard], str]:
        def more(x: str) -> list[Guard]:
            guards = self.negative(x, label)
            if upper is not None:
                guards.append((f"{x}>{number(upper)}", _message(lambda: inputs.rate(upper * 2 + 1, label, upper))))
            return guards

        return self.numeric(arg, label, lambda v: inputs.rate(v, label, upper), more)

    def optional_amount(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        """An optional amount (冻结资金): left out or blank is 0."""
        if arg.omitted:
            return [], "0"
        if arg.is_literal:
            return self.literal(arg, lambda v: 0.0 if inputs.optional(v) else inputs.amount(v, label))
        if arg.fused:
            return self.amount(arg, label)
        x = arg.expr
        given = [(f'AND(TRIM({x})<>"",{condition})', message) for condition, message in self.not_a_number(x, label)]
        return self.present(x, label)[:2] + given + self.negative(x, label), f'IF(TRIM({x})="",0,{x})'

    def ratio(self, denominator: str, name: str) -> Guard:
        return f"{_atom(denominator)}=0", _message(lambda: inputs.ratio(1, 0, name))

    def not_above(self, value: str, name: str, limit: str, limit_name: str) -> Guard:
        return f"{_atom(value)}>{_atom(limit)}", _message(lambda: inputs.not_above(2, name, 1, limit_name))

    def banded(self, value: str, bands: Sequence[Band], result: Callable[[Band], str]) -> str:
        """The band that holds ``value``; bands tile the line from the lowest up (validated)."""
        out = result(bands[-1])
        for band in reversed(bands[:-1]):
            op = "<=" if band.upper_inclusive else "<"
            out = f"IF({value}{op}{number(band.upper)},{result(band)},{out})"
        return out

    # ---------------------------------------------------------------- yes/no, statuses

    def truth(self, x: str, yes: bool) -> str:
        """TRUE when ``x`` reads as a yes word (``yes``) or as any vocabulary word."""
        words = self.yes_words if yes else self.all_words
        listed = f"OR(TRIM({x})={_words(words)})"
        if self.short_checks:
            return listed
        # jx.inputs.check takes logicals as they are and the numbers 1/0 whatever the vocabulary
        numeric = f"{x}=1" if yes else f"OR({x}=0,{x}=1)"
        return f"IF(ISLOGICAL({x}),{x if yes else 'TRUE'},IF(ISNUMBER({x}),{numeric},{listed}))"

    def invalid_check(self, x: str, label: str) -> Guard:
        rubric = self.rubric
        as_number = _message_with(lambda: inputs.check(_NUMBER_MARK, label, rubric), f"{_NUMBER_MARK:g}", x)
        as_text = _message_with(lambda: inputs.check(_TEXT_MARK, label, rubric), _TEXT_MARK, f"LEFT(TRIM({x}),{_CLIP})")
        return f"NOT({self.truth(x, yes=False)})", f"IF(ISNUMBER({x}),{as_number},{as_text})"

    def check(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        """A yes/no item (jx.inputs.check): guards, then a TRUE/FALSE expression."""
        if arg.is_literal:
            return self.literal(arg, lambda v: inputs.check(v, label, self.rubric))
        x = arg.expr
        return self.present(x, label) + [self.invalid_check(x, label)], self.truth(x, yes=True)

    def optional_check(self, arg: Arg, label: str) -> tuple[list[Guard], str]:
        """An optional yes/no item (违规支出, 涉密单位): left out or blank reads as no."""
        if arg.omitted:
            return [], "FALSE"
        if arg.is_literal:
            return self.literal(arg, lambda v: not inputs.optional(v) and inputs.check(v, label, self.rubric))
        x = arg.expr
        condition, message = self.invalid_check(x, label)
        # a blank matches no vocabulary word, so the TRUE/FALSE expression gives FALSE for it
        return self.present(x, label)[:2] + [(f'AND(TRIM({x})<>"",{condition})', message)], self.truth(x, yes=True)

    def partial(self, arg: Arg, label: str, points: float) -> tuple[list[Guard], str]:
        """Points from 0 to ``points``, or a yes/no for all or nothing (jx.inputs.partial)."""
        rubric = self.rubric
        if arg.is_literal:
            return self.literal(arg, lambda v: inputs.partial(v, label, points, rubric))
        x = arg.expr
        is_number = f"AND(ISNUMBER({x}),NOT(ISLOGICAL({x})))"  # LibreOffice counts logicals as numbers
        condition, message = self.invalid_check(x, label)
        guards = self.present(x, label) + [
            (f"IF({is_number},OR({x}<0,{x}>{number(points)}),FALSE)",
             _message(lambda: inputs.partial(points * 2 + 1, label, points, rubric))),
            (f"IF({is_number},FALSE,{condition})", message),
        ]
        return guards, f"IF({is_number},{x},IF({self.truth(x, yes=True)},{number(points)},0))"

    def choice(self, arg: Arg, label: str, options: Sequence[str]) -> tuple[list[Guard], str]:
        """One of a fixed list of words (jx.inputs.choice); the value is the trimmed word."""
        if arg.is_literal:
            return self.literal(arg, lambda v: inputs.choice(v, label, options))
        x = arg.expr
        invalid = (f"NOT(OR(TRIM({x})={_words(options)}))", _message(lambda: inputs.choice(_TEXT_MARK, label, options)))
        return self.present(x, label) + [invalid], f"TRIM({x})"

    # ---------------------------------------------------------------- rule shapes

    def checks(self, ind: Indicator, args: Sequence[Arg]) -> Native:
        """rules._checks: yes/no items, each worth its own points."""
        guards, terms = [], []
        for item, arg in zip(ind.params["checks"], args):
            g, yes = self.check(arg, item["input"])
            guards += g
            terms.append(_if(yes, number(item["points"]), "0"))
        if all(re.fullmatch(r"[\d.]+", t) for t in terms):
            value = 0.0
            for t in terms:
                value += float(t)
            return Native(tuple(guards), self.const(value), "number")
        return Native(tuple(guards), self.round("+".join(terms)), "number")

    def deduction(self, ind: Indicator, count: str) -> str:
        """rules._deduction: full marks less a fixed deduction per item, floor 0."""
        return self.round(f"MAX({number(ind.max)}-{count}*{number(ind.params['per_item'])},0)")

    def band_score(self, ind: Indicator, rate: str) -> str:
        """rules._banded: the band that holds the rate decides the points."""
        return self.banded(rate, ind.bands(), lambda b: self.const(b.points))

    def quarter(self, arg: Arg, q: int) -> tuple[list[Guard], str]:
        """One quarter's rate checked (rules._quarter_rates) and its unrounded score."""
        p = self.rubric.indicator("exec").params
        label = _label(lambda: rules.quarter_score(None, q, rubric=self.rubric))
        guards, rate = self.rate(arg, label, 1)
        score = (f"MIN({rate}/{number(p['schedule'][q - 1])},{number(p['quarter_cap'])})"
                 f"*{number(p['quarter_points'])}")
        return guards, score

    def quarters(self, args: Sequence[Arg]) -> tuple[list[Guard], str]:
        """All quarters checked in order, then the sum of their scores (rules.exec_average)."""
        guards, scores = [], []
        for q, arg in enumerate(args, start=1):
            g, s = self.quarter(arg, q)
            guards += g
            scores.append(s)
        return guards, "+".join(scores)


# ------------------------------------------------------------------ one generator per function

Generator = Callable[[Writer, list[Arg]], Native]
GENERATORS: dict[str, Generator] = {}
# How many arguments each worksheet function takes: (required, optional), per edition.
ARITY: dict[str, Callable[[Rubric], tuple[int, int]]] = {}


def _generator(name: str, arity: Callable[[Rubric], tuple[int, int]]) -> Callable[[Generator], Generator]:
    def register(f: Generator) -> Generator:
        GENERATORS[name] = f
        ARITY[name] = arity
        return f

    return register


def _fixed(required: int, optional: int = 0) -> Callable[[Rubric], tuple[int, int]]:
    return lambda rubric: (required, optional)


def _checks_function(name: str, indicator_id: str) -> None:
    def arity(rubric: Rubric) -> tuple[int, int]:
        return len(rubric.indicator(indicator_id).params["checks"]), 0

    @_generator(name, arity)
    def generate(w: Writer, args: list[Arg]) -> Native:
        return w.checks(w.rubric.indicator(indicator_id), args)


for _function, _indicator in (
    ("JX_BUDGET_FIT_SCORE", "budget_fit"), ("JX_GOAL_CLEAR_SCORE", "goal_clear"),
    ("JX_PROJECT_PROCESS_SCORE", "project_process"), ("JX_PROJECT_SUPERVISION_SCORE", "project_supervision"),
    ("JX_ASSET_SAFETY_SCORE", "asset_safety"), ("JX_RULES_SCORE", "rules"), ("JX_PETITION_SCORE", "petition"),
):
    _checks_function(_function, _indicator)


def _deduction_function(name: str, indicator_id: str) -> None:
    @_generator(name, _fixed(1))
    def generate(w: Writer, args: list[Arg]) -> Native:
        ind = w.rubric.indicator(indicator_id)
        guards, n = w.count(args[0], ind.params["count_input"])
        return Native(tuple(guards), w.deduction(ind, n), "number")


_deduction_function("JX_BUDGET_NORM_SCORE", "budget_norm")
_deduction_function("JX_GOAL_COMPLETE_SCORE", "goal_complete")


@_generator("JX_PROCUREMENT_SCORE", _fixed(3))
def _procurement(w: Writer, args: list[Arg]) -> Native:
    """rules.procurement: execution rate × points (0 above plan) + the policy part."""
    p = w.rubric.indicator("procurement").params
    g1, actual = w.amount(args[0], "实际采购金额")
    g2, planned = w.amount(args[1], "采购计划金额")
    g3, policy = w.partial(args[2], "政府采购政策功能落实", p["policy_points"])
    # reading 4: nothing planned and nothing bought is full marks for the rate part
    rate_part = (f"IF({planned}=0,IF({actual}=0,{number(p['none_planned_none_spent_points'])},0),"
                 f"IF({actual}>{planned},0,{actual}/{planned}*{number(p['rate_points'])}))")
    return Native(tuple(g1 + g2 + g3), w.round(f"{rate_part}+{_atom(policy)}"), "number")


@_generator("JX_COMPLIANCE_SCORE", _fixed(4, 1))
def _compliance(w: Writer, args: list[Arg]) -> Native:
    """rules.compliance: spending + adjustment + accounting; any violation → 0."""
    p = w.rubric.indicator("compliance").params
    g1, spending = w.partial(args[0], "资金支出规范性", p["spending_points"])
    g2, adjusted = w.amount(args[1], "年中调整调剂资金")
    g3, total = w.amount(args[2], "部门预算总规模")
    g4, accounting = w.partial(args[3], "会计核算规范性", p["accounting_points"])
    g5 = [w.ratio(total, "部门预算总规模")]
    g6, violated = w.optional_check(args[4] if len(args) > 4 else OMITTED, "存在违规支出")
    share = f"{adjusted}/{total}"
    limit, points = number(p["adjustment_limit"]), number(p["adjustment_points"])
    # the limit is inclusive; above it the deduction runs pro rata per step, floor 0
    adjustment = (f"IF({share}<={limit},{points},MAX({points}-({share}-{limit})/"
                  f"{number(p['adjustment_step'])}*{number(p['adjustment_step_deduction'])},0))")
    score = w.round(f"{_atom(spending)}+{adjustment}+{_atom(accounting)}")
    return Native(tuple(g1 + g2 + g3 + g4 + g5 + g6), _if(violated, w.const(0), score), "number")


@_generator("JX_DISCLOSURE_SCORE", _fixed(2, 1))
def _disclosure(w: Writer, args: list[Arg]) -> Native:
    """rules.disclosure: each status earns its points; a classified unit gets full marks."""
    ind = w.rubric.indicator("disclosure")
    points = {s["status"]: s["points"] for s in ind.params["statuses"]}
    g0, classified = w.optional_check(args[2] if len(args) > 2 else OMITTED, "涉密单位")
    g1, budget = w.choice(args[0], "部门预算公开", points)
    g2, final = w.choice(args[1], "部门决算公开", points)

    def earned(status: str) -> str:
        if _is_string(status):  # a status typed into the formula
            return number(points[status[1:-1].replace('""', '"')])
        statuses = list(points)
        out = number(points[statuses[-1]])
        for s in reversed(statuses[:-1]):
            out = f"IF({status}={quote(s)},{number(points[s])},{out})"
        return out

    # the statuses are only read when the unit is not classified (as in the rule)
    score = fold(g1 + g2, w.round(f"{earned(budget)}+{earned(final)}"))
    return Native(tuple(g0), _if(classified, w.const(ind.max), score), "number", pure=False)


@_generator("JX_ASSET_USE_SCORE", _fixed(2))
def _asset_use(w: Writer, args: list[Arg]) -> Native:
    """rules.asset_use: banded on in-use / total."""
    g1, in_use = w.amount(args[0], "在用固定资产总额")
    g2, total = w.amount(args[1], "固定资产总额")
    guards = g1 + g2 + [w.ratio(total, "固定资产总额"), w.not_above(in_use, "在用固定资产总额", total, "固定资产总额")]
    return Native(tuple(guards), w.band_score(w.rubric.indicator("asset_use"), f"{in_use}/{total}"), "number")


@_generator("JX_FUNDED_STAFF_SCORE", _fixed(2))
def _funded_staff(w: Writer, args: list[Arg]) -> Native:
    """rules.funded_staff: banded on 在编 / 核定编制."""
    g1, on_staff = w.count(args[0], "在编人数")
    g2, authorized = w.count(args[1], "核定编制数")
    guards = g1 + g2 + [w.ratio(authorized, "核定编制数")]
    return Native(tuple(guards), w.band_score(w.rubric.indicator("funded_staff"), f"{on_staff}/{authorized}"),
                  "number")


@_generator("JX_STAFF_RATIO", _fixed(0, 2))
def _staff_ratio(w: Writer, args: list[Arg]) -> Native:
    """rules.staff_ratio: 编外 / (在编 + 编外); without arguments, the template's named inputs."""
    if all(a.omitted for a in args):
        from .model import score_calls

        inner = score_calls(w.rubric)["staff"].args[0]  # the template's JX_STAFF_RATIO(编外人数,在编人数)
        args = [Arg(text=str(name)) for name in inner.args]
    elif len(args) == 1 or any(a.omitted for a in args):
        import udfs

        return Native(((ALWAYS, _message(lambda: udfs.JX_STAFF_RATIO(0))),), "0", "number")
    g1, outside = w.count(args[0], "编外人数")
    g2, on_staff = w.count(args[1], "在编人数")
    total = f"{outside}+{on_staff}"
    return Native(tuple(g1 + g2 + [w.ratio(total, "在编人数与编外人数之和")]), f"{outside}/({total})", "number")


def _banded_rate_function(name: str, indicator_id: str) -> None:
    @_generator(name, _fixed(1))
    def generate(w: Writer, args: list[Arg]) -> Native:
        ind = w.rubric.indicator(indicator_id)
        guards, rate = w.rate(args[0], ind.params["rate_label"], ind.params.get("rate_max"))
        return Native(tuple(guards), w.band_score(ind, rate), "number")


_banded_rate_function("JX_STAFF_SCORE", "staff")
_banded_rate_function("JX_SATISFACTION_SCORE", "satisfaction")


def _spending_rate(w: Writer, actual: Arg, budget: Arg, label: str) -> tuple[list[Guard], str]:
    """rules.public_funds_rate: actual / budget."""
    g1, a = w.amount(actual, f"{label}实际支出数")
    g2, b = w.amount(budget, f"{label}预算数")
    return g1 + g2 + [w.ratio(b, f"{label}预算数")], f"{a}/{b}"


@_generator("JX_PUBLIC_FUNDS_RATE", _fixed(2))
def _public_funds_rate(w: Writer, args: list[Arg]) -> Native:
    """rules.public_funds_rate with its default label."""
    guards, rate = _spending_rate(w, args[0], args[1], "公用经费")
    return Native(tuple(guards), rate, "number")


@_generator("JX_PUBLIC_FUNDS_SCORE", _fixed(4))
def _public_funds(w: Writer, args: list[Arg]) -> Native:
    """rules.public_funds: the 三公 rate and the 日常公用 rate, each banded."""
    ind = w.rubric.indicator("public_funds")
    g1, r1 = _spending_rate(w, args[0], args[1], "“三公”经费")
    g2, r2 = _spending_rate(w, args[2], args[3], "日常公用经费")
    parts = [w.banded(r, ind.bands(), lambda b: number(b.points)) for r in (r1, r2)]
    return Native(tuple(g1 + g2), w.round("+".join(parts)), "number")


@_generator("JX_EXEC_RATE", _fixed(2, 1))
def _exec_rate(w: Writer, args: list[Arg]) -> Native:
    """rules.exec_rate: 季度末累计支出 / (预算总指标 − 冻结资金)."""
    g1, spent = w.amount(args[0], "累计支出数")
    g2, total = w.amount(args[1], "预算总指标")
    g3, frozen = w.optional_amount(args[2] if len(args) > 2 else OMITTED, "冻结资金")
    guards = g1 + g2 + g3
    available = total
    if frozen != "0":
        guards.append(w.not_above(frozen, "冻结资金", total, "预算总指标"))
        available = f"{total}-{_atom(frozen)}"
    guards += [w.ratio(available, "预算总指标减冻结资金"),
               w.not_above(spent, "累计支出数", available, "预算总指标减冻结资金")]
    return Native(tuple(guards), f"{spent}/{_atom(available)}", "number")


@_generator("JX_QUARTER_SCORE", _fixed(2))
def _quarter_score(w: Writer, args: list[Arg]) -> Native:
    """rules.quarter_score: min(rate / schedule, cap) × points, unrounded."""
    quarters = len(w.rubric.indicator("exec").params["schedule"])
    out_of_range = _message(lambda: rules.quarter_score(0, quarters + 1, rubric=w.rubric))
    g_q, q = w.count(args[1], "季度")
    if args[1].is_literal:
        if g_q:  # not a whole number
            return Native(tuple(g_q), "0", "number")
        if not 1 <= int(float(q)) <= quarters:
            return Native(((ALWAYS, out_of_range),), "0", "number")
        guards, score = w.quarter(args[0], int(float(q)))
        return Native(tuple(guards), score, "number")
    # the quarter comes from a cell: one branch per quarter, each naming its own rate
    branches = [fold(*w.quarter(args[0], i)) for i in range(1, quarters + 1)]
    guards = g_q + [(f"OR({q}<1,{q}>{quarters})", out_of_range)]
    return Native(tuple(guards), f"CHOOSE({q},{','.join(branches)})", "number", pure=False)


def _exec_arity(rubric: Rubric) -> tuple[int, int]:
    return len(rubric.indicator("exec").params["schedule"]), 0


@_generator("JX_EXEC_AVERAGE", _exec_arity)
def _exec_average(w: Writer, args: list[Arg]) -> Native:
    """rules.exec_average: the average of the quarter scores (reading 2)."""
    p = w.rubric.indicator("exec").params
    guards, total = w.quarters(args)
    return Native(tuple(guards), f"({total})/{len(args)}/{number(p['quarter_points'])}", "number")


@_generator("JX_EXEC_SCORE", _exec_arity)
def _exec_score(w: Writer, args: list[Arg]) -> Native:
    """rules.exec_score: Σ quarter scores + average × points, rounded once (reading 1)."""
    p = w.rubric.indicator("exec").params
    guards, total = w.quarters(args)
    average = f"({total})/{len(args)}/{number(p['quarter_points'])}"
    return Native(tuple(guards), w.round(f"{total}+{average}*{number(p['average_points'])}"), "number")


@_generator("JX_KEY_TASK_SCORE", _fixed(2))
def _key_task(w: Writer, args: list[Arg]) -> Native:
    """rules.key_task: full marks less a deduction per unfinished key task."""
    ind = w.rubric.indicator("key_task")
    g1, total = w.count(args[0], "重点工作总数")
    g2, unfinished = w.count(args[1], "未完成重点工作数")
    guards = g1 + g2 + [w.not_above(unfinished, "未完成重点工作数", total, "重点工作总数")]
    return Native(tuple(guards), w.deduction(ind, unfinished), "number")


@_generator("JX_TIMELY_SCORE", _fixed(2))
def _timely(w: Writer, args: list[Arg]) -> Native:
    """rules.timely: finished / planned × max; no planned project is full marks (reading 5)."""
    ind = w.rubric.indicator("timely")
    g1, finished = w.count(args[0], "已完成项目数")
    g2, planned = w.count(args[1], "计划完成项目数")
    guards = g1 + g2 + [w.not_above(finished, "已完成项目数", planned, "计划完成项目数")]
    value = _if(f"{planned}=0", w.const(ind.params["no_plan_points"]),
                w.round(f"{finished}/{planned}*{number(ind.max)}"))
    return Native(tuple(guards), value, "number")


@_generator("JX_EFFECT_SCORE", _fixed(1))
def _effect(w: Writer, args: list[Arg]) -> Native:
    """rules.effect: the evaluator's score, within 0..max."""
    ind = w.rubric.indicator("effect")
    guards, score = w.number_input(args[0], ind.params["input"])
    if not any(c == ALWAYS for c, _ in guards):
        out_of_range = _message(lambda: rules.effect(ind.max + 1, rubric=w.rubric))
        guards.append((f"OR({score}<0,{score}>{number(ind.max)})", out_of_range))
    return Native(tuple(guards), w.round(score), "number")


@_generator("JX_GRADE", _fixed(1))
def _grade(w: Writer, args: list[Arg]) -> Native:
    """rules.grade: the band of the total as displayed (rounded to the rubric's decimals)."""
    rubric = w.rubric
    guards, total = w.number_input(args[0], _label(lambda: rules.grade(None, rubric=rubric)))
    shown = w.round(total)
    if not any(c == ALWAYS for c, _ in guards):
        out_of_range = _message(lambda: rules.grade(rubric.total + 1, rubric=rubric))
        guards.append((f"OR({shown}<0,{shown}>{number(rubric.total)})", out_of_range))
    return Native(tuple(guards), w.banded(shown, rubric.grade_bands, lambda b: quote(b.label)), "text", pure=False)


# ------------------------------------------------------------------ JX_TARGET_MET

# jx.targets' comparison signs, grouped by the comparison they stand for.
_SIGN_GROUPS: dict[str, list[str]] = {}
for _sign, _op in targets.SIGNS.items():
    _SIGN_GROUPS.setdefault(_op, []).append(_sign)
_COMPARE = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "="}


def _no_spaces(expr: str) -> str:
    for space in _SPACES:
        expr = f'SUBSTITUTE({expr},{space},"")'
    return expr


def _number_steps(h: Helpers, text: str, prefix: str) -> tuple[str, str]:
    """Helper steps reading the number at the start of ``text`` (a reference).

    jx.targets' number is ``[-+]?\\d+(,\\d{3})*(\\.\\d+)?``: an optional sign,
    digits (with thousands commas), an optional fraction. Returns the references
    of its length (0: no number) and its value ("" when there is none).
    """
    sign = _in(f"LEFT({text},1)", NUMBER_SIGNS)  # TRUE counts as 1 in arithmetic
    digit_after_sign = _in(f"MID({text},1+{sign},1)", DIGITS)
    run = f"MATCH(TRUE,ISERROR(FIND(MID({text},{_positions(f'1+{sign}')},1),{quote(DIGITS + ',')})),0)-1"
    whole = h.add(f"{prefix}整数部分长度", f"IF({digit_after_sign},{sign}+{run},0)")
    fraction = (f"IF(AND(MID({text},{whole}+1,1)=\".\",{_in(f'MID({text},{whole}+2,1)', DIGITS)}),"
                f"MATCH(TRUE,ISERROR(FIND(MID({text},{_positions(f'{whole}+2')},1),{quote(DIGITS)})),0),0)")
    length = h.add(f"{prefix}长度", f"IF({whole}=0,0,{whole}+{fraction})")
    value = h.add(f"{prefix}", f'IF({length}=0,"",VALUE(SUBSTITUTE(LEFT({text},{length}),",","")))')
    return length, value


def _positions(start: str) -> str:
    """``start+{0,1,…}``: the positions MID reads for one number."""
    return f"{start}+{_array([str(i) for i in range(_SPAN)])}"


def _multiplier(w: Writer, unit: str) -> str:
    """The factor of a written-out unit such as 万 at the start of ``unit`` (jx.targets._multiplier)."""
    out = "1"
    for m in reversed(w.rubric.target_met["multipliers"]):
        suffix = m["suffix"]
        out = f"IF(LEFT({unit},{len(suffix)})={quote(suffix)},{number(m['factor'])},{out})"
    return out


@_generator("JX_TARGET_MET", _fixed(2))
def _target_met(w: Writer, args: list[Arg]) -> Native:
    """jx.targets.target_met: its checks here, its reading step by step in helper cells."""
    if w.helpers is None:
        raise NativeFormulaError("JX_TARGET_MET 的无宏公式需要同一行的辅助列（由 export_workbook 放置）")
    h, tm = w.helpers, w.rubric.target_met
    target, actual = (_operand(a) for a in args)

    # the target as jx.targets reads it: trimmed, approximate words removed, spaces gone
    shown = f"TRIM({target})"
    for word in tm["approximate"]:
        shown = f"SUBSTITUTE({shown},{quote(word)},\"\")"
    target_text = h.add("预期指标值（去掉约数词）", shown)
    parsed = h.add("预期指标值（解析用）", f"{_no_spaces(target_text)}&{quote(_SENTINEL)}")
    two = [s for s in targets.SIGNS if len(s) == 2]
    one = "".join(s for s in targets.SIGNS if len(s) == 1)
    sign = h.add("比较符", f"IF(OR(LEFT({parsed},2)={_words(two)}),LEFT({parsed},2),"
                          f"IF({_in(f'LEFT({parsed},1)', one)},LEFT({parsed},1),\"\"))")
    body = h.add("比较符之后", f"MID({parsed},LEN({sign})+1,{_REST})")
    first_len, first = _number_steps(h, body, "第一个数")
    first_pct = h.add("第一个数带%", _in(f"MID({body},{first_len}+1,1)", PERCENT_SIGNS))
    after = h.add("第一个数之后", f"MID({body},{first_len}+1+{first_pct},{_REST})")
    upper_text = h.add("区间上限文本", f"MID({after},2,{_REST})&{quote(_SENTINEL)}")
    second_len, second = _number_steps(h, upper_text, "第二个数")
    second_pct = h.add("第二个数带%", _in(f"MID({upper_text},{second_len}+1,1)", PERCENT_SIGNS))
    kind = h.add("目标类型", f'IF({first_len}=0,"文字",IF(AND({sign}="",{_in(f"LEFT({after},1)", RANGE_SEPARATORS)},'
                           f'{second_len}>0),"区间","数值"))')
    per_cent = f"IF(OR({first_pct},{second_pct}),100,1)"  # a % on either bound applies to both
    low = h.add("目标值或区间下限", f'IF({kind}="区间",{first}/{per_cent},IF({kind}="数值",'
                                    f'{first}*{_multiplier(w, after)}/IF({first_pct},100,1),""))')
    high = h.add("区间上限", f'IF({kind}="区间",{second}/{per_cent},"")')

    # the actual value as a number: a number cell, or text such as 77% or 282.68 万
    actual_text = h.add("实际完成值（解析用）", f"{_no_spaces(actual)}&{quote(_SENTINEL)}")
    actual_len, actual_number = _number_steps(h, actual_text, "实际值数字")
    actual_pct = h.add("实际值带%", _in(f"MID({actual_text},{actual_len}+1,1)", PERCENT_SIGNS))
    unit = f"MID({actual_text},{actual_len}+1+{actual_pct},{_REST})"
    actual_value = h.add("实际值", f'IF(ISNUMBER({actual}),{actual},IF({actual_len}=0,"",'
                                    f'{actual_number}*{_multiplier(w, unit)}/IF({actual_pct},100,1)))')
    negated = h.add("实际值含否定词", f"OR({','.join(f'ISNUMBER(FIND({quote(n)},{actual}))' for n in tm['negations'])})")

    # jx.targets caches its results by value, and True == 1 there: probe with values nobody else passes
    rubric = w.rubric
    labels = (_label(lambda: targets.target_met(None, _TEXT_MARK, rubric=rubric)),
              _label(lambda: targets.target_met(_TEXT_MARK, None, rubric=rubric)))
    guards: list[Guard] = []
    for arg, expr, label in zip(args, (target, actual), labels):
        if arg.is_literal:
            guards += w.literal(arg, lambda v, label=label: inputs._reject_blank_and_errors(v, label))[0]
        else:
            guards += w.present(expr, label)
    logical = _message(lambda: targets.target_met(True, _TEXT_MARK, rubric=rubric))
    guards.append((f"OR(ISLOGICAL({target}),ISLOGICAL({actual}))", logical))
    worded = _if(f"ISNUMBER({actual})",
                 _message_with(lambda: targets.target_met(_TEXT_MARK, _NUMBER_MARK, rubric=rubric), _TEXT_MARK,
                               target_text),
                 f"NOT({negated})")
    not_comparable = _compare_message(actual, target_text, rubric)
    compare = f"IF({low}=0,{actual_value}<={low},{actual_value}>={low})"  # a bare 0 is a ceiling
    for op in reversed(list(_SIGN_GROUPS)):
        written = ",".join(f"{sign}={quote(s)}" for s in _SIGN_GROUPS[op])
        compare = f"IF(OR({written}),{actual_value}{_COMPARE[op]}{low},{compare})"
    numeric = _if(negated, "FALSE", _if(f'{actual_value}=""', not_comparable,
                                        f'IF({kind}="区间",AND({actual_value}>={low},{actual_value}<={high}),{compare})'))
    return Native(tuple(guards), f'IF({kind}="文字",{worded},{numeric})', "logical", pure=False)


def _operand(arg: Arg) -> str:
    """An argument as an operand, literals written back as formula text."""
    if not arg.is_literal:
        return arg.expr
    value = arg.literal
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number(value)
    return quote("" if value is None else str(value))


def _compare_message(actual: str, target_text: str, rubric: Rubric) -> str:
    """jx.targets' message for an actual value that is no number, with both texts filled in."""
    goal = f"{_NUMBER_MARK:g}"
    message = _error_text(lambda: targets.target_met(goal, _TEXT_MARK, rubric=rubric))
    head, rest = message.split(_TEXT_MARK)
    middle, tail = rest.split(goal)
    return "&".join(p for p in (quote(head), f"LEFT({actual},{_CLIP})", quote(middle), target_text, quote(tail))
                    if p != '""')


# ------------------------------------------------------------------ rewriting formulas

_JX_NAME = re.compile(r"(?<![\w.$'!])(JX_[A-Za-z0-9_]+)\s*\(", re.I)
_NUMBER_LITERAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _split_args(inner: str) -> list[str]:
    """The arguments of a call: split at top-level commas."""
    if not inner.strip():
        return []
    parts, depth, start, i = [], 0, 0, 0
    while i < len(inner):
        ch = inner[i]
        if ch in "\"'":
            i = _skip_quoted(inner, i)
            continue
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
        i += 1
    parts.append(inner[start:])
    return parts


def _next_call(text: str, start: int) -> re.Match | None:
    """The next JX function name (with its parenthesis) outside string literals."""
    i = start
    while i < len(text):
        if text[i] in "\"'":
            i = _skip_quoted(text, i)
            continue
        match = _JX_NAME.match(text, i)  # the look-behind sees the text before i
        if match:
            return match
        i += 1
    return None


class _Rewriter:
    def __init__(self, rubric: Rubric, helpers: Helpers | None):
        self.writer = Writer(rubric, helpers)

    def text(self, formula: str) -> str:
        """``formula`` with every JX call replaced by its native text."""
        out, i = [], 0
        while (match := _next_call(formula, i)) is not None:
            close = _matching_paren(formula, match.end() - 1)
            native = self.call(match.group(1).upper(), formula[match.end():close])
            out += [formula[i:match.start()], _atom(native.text)]
            i = close + 1
        out.append(formula[i:])
        return "".join(out)

    def call(self, name: str, inner: str) -> Native:
        if name not in GENERATORS:
            raise NativeFormulaError(f"未知的 JX 函数：{name}")
        raw = _split_args(inner)
        required, optional = ARITY[name](self.writer.rubric)
        if not required <= len(raw) <= required + optional:
            expected = f"{required}" if not optional else f"{required} 到 {required + optional}"
            raise NativeFormulaError(f"{name} 应有 {expected} 个参数，公式中有 {len(raw)} 个")
        args = [self.arg(a) for a in raw]
        if args and all(a.is_literal for a in args):
            folded = _folded(name, [a.literal for a in args], self.writer.rubric)
            if folded is not None:
                return folded
        args += [OMITTED] * (required + optional - len(args))
        return GENERATORS[name](self.writer, args)

    def arg(self, raw: str) -> Arg:
        text = raw.strip()
        if not text:
            return Arg(literal=None)  # an empty argument: the function receives a blank
        if _NUMBER_LITERAL.fullmatch(text):
            return Arg(literal=float(text))
        if _is_string(text):
            return Arg(literal=text[1:-1].replace('""', '"'))
        if text.upper() in ("TRUE", "FALSE"):
            return Arg(literal=text.upper() == "TRUE")
        match = _next_call(text, 0)
        if match and match.start() == 0 and _matching_paren(text, match.end() - 1) == len(text) - 1:
            return Arg(native=self.call(match.group(1).upper(), text[match.end():-1]))
        return Arg(text=self.text(text))


def _python_rule(name: str, rubric: Rubric) -> Callable[..., object]:
    """The Python rule behind a JX function, for the given edition."""
    import udfs

    if name in udfs.SCORE_RULES:
        return lambda *args: udfs.SCORE_RULES[name](*args, rubric=rubric).points
    return {
        "JX_STAFF_RATIO": rules.staff_ratio,
        "JX_PUBLIC_FUNDS_RATE": rules.public_funds_rate,
        "JX_EXEC_RATE": rules.exec_rate,
        "JX_QUARTER_SCORE": lambda *args: rules.quarter_score(*args, rubric=rubric),
        "JX_EXEC_AVERAGE": lambda *args: rules.exec_average(*args, rubric=rubric),
        "JX_GRADE": lambda *args: rules.grade(*args, rubric=rubric),
        "JX_TARGET_MET": lambda *args: targets.target_met(*args, rubric=rubric),
    }[name]


def _folded(name: str, literals: list[object], rubric: Rubric) -> Native | None:
    """A call on values typed into the formula: Python computes it now, as the add-in would.

    None when the rule itself cannot take these arguments (JX_STAFF_RATIO with
    one): the generator then writes what the worksheet function says.
    """
    try:
        value = _python_rule(name, rubric)(*literals)
    except JXInputError as error:
        return Native(((ALWAYS, quote(error.cell_text)),), "0", "number")
    except TypeError:
        return None
    if isinstance(value, bool):
        return Native((), "TRUE" if value else "FALSE", "logical", pure=False)
    if isinstance(value, str):
        return Native((), quote(value), "text", pure=False)
    return Native((), number(value), "number")


def native_formula(formula_text: str, rubric: Rubric | None = None, helpers: Helpers | None = None) -> str:
    """Rewrite every JX call in ``formula_text`` (``=…``) into native spreadsheet text.

    ``helpers`` places the intermediate steps of ``JX_TARGET_MET`` (see
    :class:`RowHelpers`); other functions need none. Raises
    :class:`NativeFormulaError` for a call that has no native equivalent.
    """
    rubric = rubric or load_rubric()
    body = formula_text[1:] if formula_text.startswith("=") else formula_text
    converted = _Rewriter(rubric, helpers).text(body)
    return ("=" if formula_text.startswith("=") else "") + converted


def function_names(formula: str) -> set[str]:
    """Every worksheet function a formula calls (outside string literals)."""
    names, i = set(), 0
    pattern = re.compile(r"(?<![\w.$])([A-Za-z_][\w.]*)\s*\(")
    while i < len(formula):
        if formula[i] in "\"'":
            i = _skip_quoted(formula, i)
            continue
        match = pattern.match(formula, i)
        if match and (i == 0 or not re.match(r"[\w.$]", formula[i - 1])):
            names.add(match.group(1).upper())
            i = match.end()
            continue
        i += 1
    return names


def nesting_depth(formula: str) -> int:
    """The deepest nesting of function calls in ``formula`` (Excel allows 64)."""
    depth = deepest = 0
    i = 0
    while i < len(formula):
        ch = formula[i]
        if ch in "\"'":
            i = _skip_quoted(formula, i)
            continue
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
        i += 1
    return deepest
