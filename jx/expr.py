"""Rules as expression trees: one structure, two faces.

A rule shape (``jx/shapes.py``) builds a tree of the nodes below once. The
tree is then

* **evaluated in Python** (:meth:`Expr.compile`): each node follows the
  worksheet function it stands for (``ROUND`` half away from zero,
  comparisons and additions that ignore the last binary digits, ``TRIM``,
  ``MID`` …), so Python computes what a spreadsheet computes from the text;
* **rendered as formula text** (:func:`render`) that Excel 2010+, WPS and
  LibreOffice evaluate with their own functions.

Input errors are :class:`Guard` checks: a condition and the cell text shown
when it holds (``错误：编外人数不能为负数``). Python raises
:class:`~jx.errors.JXInputError` at the first check that holds; the formula
is ``IF(c1,m1,IF(c2,m2,…,value))`` with the checks hoisted in evaluation
order, so the first bad input named is the same on both faces. Checks inside
a branch of ``IF`` stay inside it: a classified unit's statuses are never
read. Subtrees without variables are computed at render time (a literal
argument typed into a formula is read by Python once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import CELL_PREFIX, JXInputError
from .excel import approx_add, compare, excel_round, number_text, trim
from .values import ERROR_NAMES, XlError

Env = dict
Compiled = Callable[[Env], Any]


class RuleBug(AssertionError):
    """A tree that a valid input should never drive here (a bug in a shape, not an input problem)."""


# ------------------------------------------------------------------ worksheet semantics in Python


def is_number(v: Any) -> bool:
    return isinstance(v, float) and not isinstance(v, bool)


def to_number(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if v is None:
        return 0.0
    if isinstance(v, (int, float)):
        return float(v)
    raise RuleBug(f"arithmetic on {v!r}")


def to_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if v is None:
        return ""
    if isinstance(v, XlError):
        raise RuleBug(f"text of an error value {v}")
    return number_text(float(v))


def truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v is None:
        return False
    if isinstance(v, (int, float)):
        return v != 0
    raise RuleBug(f"condition on {v!r}")


def _rank(v: Any) -> int:
    """Worksheet ordering of types: numbers < text < logicals."""
    return 0 if isinstance(v, (int, float)) and not isinstance(v, bool) else 1 if isinstance(v, str) else 2


def compare_values(a: Any, b: Any) -> int:
    """-1/0/1 as ``a<b``, ``a=b``, ``a>b`` compare in a worksheet (empty is 0, "" or FALSE)."""
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 0:
        return compare(float(a), float(b))
    if ra == 1:
        x, y = a.casefold(), b.casefold()
        return 0 if x == y else -1 if x < y else 1
    return 0 if a == b else -1 if a < b else 1


def _first_error(*values: Any) -> XlError | None:
    for v in values:
        if isinstance(v, XlError):
            return v
    return None


def _arith(op: str, a: Any, b: Any) -> Any:
    error = _first_error(a, b)
    if error:
        return error
    x, y = to_number(a), to_number(b)
    if op == "+":
        r = approx_add(x, y)
    elif op == "-":
        r = approx_add(x, -y)
    elif op == "*":
        r = x * y
    elif op == "/":
        if y == 0:
            return XlError("#DIV/0!")
        r = x / y
    else:  # "^"
        try:
            r = x ** y
        except (OverflowError, ZeroDivisionError):
            return XlError("#NUM!")
    if not math.isfinite(r):
        return XlError("#NUM!")
    return 0.0 if r == 0 else r


_COMPARE = {"=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0,
            "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}


def _binary(op: str, a: Any, b: Any) -> Any:
    if op in _COMPARE:
        error = _first_error(a, b)
        return error if error else _COMPARE[op](compare_values(a, b))
    if op == "&":
        error = _first_error(a, b)
        return error if error else to_text(a) + to_text(b)
    return _arith(op, a, b)


def _fn_round(x, digits):
    error = _first_error(x, digits)
    return error if error else excel_round(to_number(x), int(to_number(digits)))


def _fn_int(x):
    return x if isinstance(x, XlError) else float(math.floor(to_number(x)))


def _fn_minmax(pick):
    def fn(*xs):
        error = _first_error(*xs)
        return error if error else pick(to_number(x) for x in xs)
    return fn


def _fn_text(f):
    def fn(*xs):
        error = _first_error(*xs)
        return error if error else f(*xs)
    return fn


def _left(text: str, n: int):
    return XlError("#VALUE!") if n < 0 else text[:n]


def _mid(text, start, length):
    s, n = int(to_number(start)), int(to_number(length))
    if s < 1 or n < 0:
        return XlError("#VALUE!")
    return to_text(text)[s - 1:s - 1 + n]


def _find(needle, haystack, start=1.0):
    s = int(to_number(start))
    text = to_text(haystack)
    if s < 1 or s > len(text) + 1:
        return XlError("#VALUE!")
    position = text.find(to_text(needle), s - 1)
    return XlError("#VALUE!") if position < 0 else float(position + 1)


def _right(text: str, n: int):
    if n < 0:
        return XlError("#VALUE!")
    return text[max(len(text) - n, 0):]


def _value(text):
    raw = to_text(text).strip()
    try:
        number = float(raw)
    except ValueError:
        return XlError("#VALUE!")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", raw) or not math.isfinite(number):
        return XlError("#VALUE!")
    return number


def _substitute(text, old, new):
    old_text = to_text(old)
    return to_text(text) if not old_text else to_text(text).replace(old_text, to_text(new))


def _cells(args) -> list:
    """The values of range arguments (lists) and plain ones, flattened."""
    out = []
    for a in args:
        out.extend(a if isinstance(a, list) else [a])
    return out


def _sum(args) -> Any:
    """SUM: the numbers of its ranges (text, logicals and blanks in a range are skipped); errors propagate."""
    total = 0.0
    for a in args:
        for v in (a if isinstance(a, list) else [a]):
            if isinstance(v, XlError):
                return v
            if is_number(v):
                total = approx_add(total, v)
            elif not isinstance(a, list) and v is not None:  # a direct argument counts as a number
                number = _sheet_number(v)
                if isinstance(number, XlError):
                    return number
                total = approx_add(total, to_number(number))
    return total


def _countif(cells, criterion) -> float:
    """COUNTIF with the criteria the template uses: a logical, a number, a text, a text ending in ``*``."""
    cells = cells if isinstance(cells, list) else [cells]
    if isinstance(criterion, str) and criterion.endswith("*"):
        prefix = criterion[:-1].casefold()
        return float(sum(isinstance(v, str) and v.casefold().startswith(prefix) for v in cells))
    return float(sum(v is not None and not isinstance(v, XlError) and type(v) is type(criterion)
                     and compare_values(v, criterion) == 0 for v in cells))


def _error_type(x):
    return float(x.code) if isinstance(x, XlError) and x.code else XlError("#N/A")


def _char(n):
    return chr(int(to_number(n)))


# name → (Python implementation, kind of the result). Every function a rendered formula
# may use is here: all are in Excel 2010 (none needs an _xlfn. prefix), WPS and LibreOffice 7.4.
FUNCTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "ROUND": (_fn_round, "number"),
    "INT": (_fn_int, "number"),
    "ABS": (lambda x: x if isinstance(x, XlError) else abs(to_number(x)), "number"),
    "MIN": (_fn_minmax(min), "number"),
    "MAX": (_fn_minmax(max), "number"),
    "NOT": (lambda x: x if isinstance(x, XlError) else not truthy(x), "logical"),
    "ISNUMBER": (lambda x: is_number(x), "logical"),
    "ISLOGICAL": (lambda x: isinstance(x, bool), "logical"),
    "ISERROR": (lambda x: isinstance(x, XlError), "logical"),
    "ERROR.TYPE": (_error_type, "number"),
    "TRIM": (_fn_text(lambda x: trim(to_text(x))), "text"),
    "LEFT": (_fn_text(lambda x, n=1.0: _left(to_text(x), int(to_number(n)))), "text"),
    "RIGHT": (_fn_text(lambda x, n=1.0: _right(to_text(x), int(to_number(n)))), "text"),
    "MID": (_fn_text(_mid), "text"),
    "LEN": (_fn_text(lambda x: float(len(to_text(x)))), "number"),
    "FIND": (_fn_text(_find), "number"),
    "SUBSTITUTE": (_fn_text(_substitute), "text"),
    "VALUE": (_fn_text(_value), "number"),
    "CHAR": (_fn_text(_char), "text"),
    "SUM": (lambda *xs: _sum(xs), "number"),
    "COUNTA": (lambda *xs: float(sum(v is not None for v in _cells(xs))), "number"),
    "COUNTIF": (lambda cells, criterion: _countif(cells, criterion), "number"),
}
# Functions with lazy arguments, rendered by their own nodes.
LAZY_FUNCTIONS = frozenset({"IF", "CHOOSE", "AND", "OR", "MATCH"})
ALLOWED_FUNCTIONS = frozenset(FUNCTIONS) | LAZY_FUNCTIONS


# ------------------------------------------------------------------ nodes


class Expr:
    """A node. ``kind`` is what its value is once every check has passed."""

    kind = "any"

    def children(self) -> tuple["Expr", ...]:
        return ()

    def compile(self, memo: dict[int, Compiled] | None = None) -> Compiled:
        """A Python function of an environment (argument name → cell value) giving this node's value.

        Shared subtrees are compiled once (``memo``), so a step read in ten
        places costs one closure, not ten.
        """
        memo = {} if memo is None else memo
        key = id(self)
        if key not in memo:
            memo[key] = self._compile(lambda child: child.compile(memo))
        return memo[key]

    def _compile(self, c: Callable[["Expr"], Compiled]) -> Compiled:
        raise NotImplementedError

    def evaluate(self, env: Mapping[str, Any] | None = None) -> Any:
        """Evaluate once (for repeated use, keep :meth:`compile`'s result)."""
        return self.compile()(dict(env or {}))

    # operators build trees, so shapes read like the rule they implement
    def __add__(self, other): return Op("+", self, lit(other))
    def __radd__(self, other): return Op("+", lit(other), self)
    def __sub__(self, other): return Op("-", self, lit(other))
    def __rsub__(self, other): return Op("-", lit(other), self)
    def __mul__(self, other): return Op("*", self, lit(other))
    def __rmul__(self, other): return Op("*", lit(other), self)
    def __truediv__(self, other): return Op("/", self, lit(other))
    def __rtruediv__(self, other): return Op("/", lit(other), self)
    def __lt__(self, other): return Op("<", self, lit(other))
    def __le__(self, other): return Op("<=", self, lit(other))
    def __gt__(self, other): return Op(">", self, lit(other))
    def __ge__(self, other): return Op(">=", self, lit(other))

    def eq(self, other) -> "Op":
        return Op("=", self, lit(other))

    def ne(self, other) -> "Op":
        return Op("<>", self, lit(other))

    def concat(self, other) -> "Op":
        return Op("&", self, lit(other))

    __hash__ = object.__hash__


def lit(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return Lit(value)


@dataclass(eq=False)
class Lit(Expr):
    value: Any

    @property
    def kind(self) -> str:
        v = self.value
        return ("logical" if isinstance(v, bool) else "number" if isinstance(v, float)
                else "text" if isinstance(v, str) else "any")

    def _compile(self, c) -> Compiled:
        value = self.value
        return lambda env: value


@dataclass(eq=False)
class Ref(Expr):
    """A variable: a function argument, read from the environment."""

    name: str
    kind: str = "any"

    def _compile(self, c) -> Compiled:
        name = self.name
        return lambda env: env.get(name)


@dataclass(eq=False)
class Cell(Expr):
    """Formula text standing for a value (a defined name, a reference such as ``G5``).

    In Python its value is the environment's entry under that text: a
    worksheet environment resolves names and references to cell values.
    """

    text: str
    kind: str = "any"

    def _compile(self, c) -> Compiled:
        text = self.text
        return lambda env: env.get(text)


@dataclass(eq=False)
class Span(Expr):
    """A range such as ``C5:C34``: its value is the list of its cells' values (for SUM, COUNTA, COUNTIF)."""

    text: str

    def _compile(self, c) -> Compiled:
        text = self.text
        return lambda env: env.get(text)


@dataclass(eq=False)
class Apply(Expr):
    """A function known by its Python implementation (a JX worksheet function), rendered ``NAME(args)``."""

    name: str
    args: tuple[Expr, ...]
    impl: Callable[..., Any]
    kind: str = "any"

    def children(self):
        return self.args

    def _compile(self, c) -> Compiled:
        impl, fs = self.impl, [c(a) for a in self.args]
        return lambda env: impl(*[f(env) for f in fs])


def _sheet_number(v: Any) -> Any:
    """A cell value as worksheet arithmetic reads it: text that is no number is #VALUE!."""
    if isinstance(v, str):
        try:
            return float(v.strip().replace(",", ""))
        except ValueError:
            return XlError("#VALUE!")
    return v


@dataclass(eq=False)
class Op(Expr):
    op: str
    a: Expr
    b: Expr

    @property
    def kind(self) -> str:
        return "logical" if self.op in _COMPARE else "text" if self.op == "&" else "number"

    def children(self):
        return (self.a, self.b)

    def _compile(self, c) -> Compiled:
        op, fa, fb = self.op, c(self.a), c(self.b)
        return lambda env: _binary(op, fa(env), fb(env))


@dataclass(eq=False)
class SheetOp(Op):
    """Arithmetic on cells a person types into: text is coerced (``"12"``) or #VALUE!, as a worksheet does.

    The rules never need this (their readers check every input first); the
    template's own formulas (sums, sub-totals, task rates) do.
    """

    def _compile(self, c) -> Compiled:
        op, fa, fb = self.op, c(self.a), c(self.b)
        if op in _COMPARE or op == "&":
            return lambda env: _binary(op, fa(env), fb(env))
        return lambda env: _arith(op, _sheet_number(fa(env)), _sheet_number(fb(env)))


@dataclass(eq=False)
class Fn(Expr):
    """A worksheet function applied to its arguments (all evaluated)."""

    name: str
    args: tuple[Expr, ...]

    def __post_init__(self):
        if self.name not in FUNCTIONS:
            raise RuleBug(f"unknown worksheet function {self.name}")

    @property
    def kind(self) -> str:
        return FUNCTIONS[self.name][1]

    def children(self):
        return self.args

    def _compile(self, c) -> Compiled:
        impl = FUNCTIONS[self.name][0]
        fs = [c(a) for a in self.args]
        if len(fs) == 1:
            f0 = fs[0]
            return lambda env: impl(f0(env))
        return lambda env: impl(*[f(env) for f in fs])


def fn(name: str, *args: Any) -> Fn:
    return Fn(name, tuple(lit(a) for a in args))


@dataclass(eq=False)
class Logic(Expr):
    """``AND``/``OR`` of logical values (all evaluated, as the worksheet does)."""

    name: str  # AND | OR
    args: tuple[Expr, ...]
    kind = "logical"

    def children(self):
        return self.args

    def _compile(self, c) -> Compiled:
        fs = [c(a) for a in self.args]
        pick = all if self.name == "AND" else any

        def run(env):
            values = [f(env) for f in fs]
            error = _first_error(*values)
            return error if error else pick(truthy(v) for v in values)

        return run


def all_of(*args: Expr) -> Expr:
    args = tuple(lit(a) for a in args)
    return args[0] if len(args) == 1 else Logic("AND", args)


def any_of(*args: Expr) -> Expr:
    args = tuple(lit(a) for a in args)
    return args[0] if len(args) == 1 else Logic("OR", args)


def not_(x: Expr) -> Expr:
    return Fn("NOT", (x,))


@dataclass(eq=False)
class InList(Expr):
    """TRUE when ``x`` equals one of ``words`` (case-insensitively, as ``=`` compares text)."""

    x: Expr
    words: tuple[str, ...]
    kind = "logical"

    def children(self):
        return (self.x,)

    def _compile(self, c) -> Compiled:
        f, words = c(self.x), self.words

        def run(env):
            v = f(env)
            if isinstance(v, XlError):
                return v
            return any(compare_values(v, w) == 0 for w in words)

        return run


@dataclass(eq=False)
class If(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr

    @property
    def kind(self) -> str:
        return self.then.kind if self.then.kind == self.otherwise.kind else "any"

    def children(self):
        return (self.cond, self.then, self.otherwise)

    def _compile(self, c) -> Compiled:
        cond, t, e = c(self.cond), c(self.then), c(self.otherwise)

        def run(env):
            v = cond(env)
            if isinstance(v, XlError):
                return v
            return t(env) if truthy(v) else e(env)

        return run


def if_(cond: Any, then: Any, otherwise: Any) -> Expr:
    return If(lit(cond), lit(then), lit(otherwise))


@dataclass(eq=False)
class Choose(Expr):
    index: Expr
    options: tuple[Expr, ...]

    @property
    def kind(self) -> str:
        kinds = {o.kind for o in self.options}
        return kinds.pop() if len(kinds) == 1 else "any"

    def children(self):
        return (self.index, *self.options)

    def _compile(self, c) -> Compiled:
        index, options = c(self.index), [c(o) for o in self.options]

        def run(env):
            i = index(env)
            if isinstance(i, XlError):
                return i
            k = int(to_number(i))
            return options[k - 1](env) if 1 <= k <= len(options) else XlError("#VALUE!")

        return run


@dataclass(eq=False)
class Check:
    """One check of a :class:`Guard`: when ``cond`` holds, the cell shows ``message``.

    ``subject`` marks a check on the type of a value (error, blank, text…):
    a value already known to be a ``skip_kind`` (a nested function's number)
    needs no such check in the formula text. ``source`` names the argument
    the check is about, so a reader of the error can point at its cell.
    """

    cond: Expr
    message: Expr
    subject: Expr | None = None
    skip_kind: str = "number"
    source: str | None = None


@dataclass(eq=False)
class Guard(Expr):
    checks: tuple[Check, ...]
    value: Expr

    @property
    def kind(self) -> str:
        return self.value.kind

    def children(self):
        out = []
        for c in self.checks:
            out += [c.cond, c.message]
        return (*out, self.value)

    def _compile(self, c) -> Compiled:
        checks = [(c(k.cond), c(k.message), k.source) for k in self.checks]
        value = c(self.value)

        def run(env):
            for cond, message, source in checks:
                if truthy(cond(env)):
                    raise input_error(message(env), source)
            return value(env)

        return run


def input_error(cell_text: Any, source: str | None = None) -> JXInputError:
    text = to_text(cell_text)
    error = JXInputError(text[len(CELL_PREFIX):] if text.startswith(CELL_PREFIX) else text)
    error.source = source
    return error


@dataclass(eq=False)
class Fail(Expr):
    """An input already known to be bad (a literal argument): the cell shows ``message``."""

    message: Expr
    source: str | None = None

    def children(self):
        return (self.message,)

    def _compile(self, c) -> Compiled:
        message, source = c(self.message), self.source

        def run(env):
            raise input_error(message(env), source)

        return run


@dataclass(eq=False)
class Step(Expr):
    """A named intermediate value: a helper cell in the formula face, computed once in Python."""

    label: str
    expr: Expr

    @property
    def kind(self) -> str:
        return self.expr.kind

    def children(self):
        return (self.expr,)

    def _compile(self, c) -> Compiled:
        inner, key, names = c(self.expr), id(self), free_names(self.expr)
        # Across evaluations too: a step reads nothing but its free names, so its value for the same
        # values is the same (a target's parse is shared by every row and every workbook with that
        # target). Bounded: cleared when full.
        known: dict[tuple, Any] = {}

        def run(env):
            memo = env.setdefault("\0steps", {})
            if key in memo:
                return memo[key]
            values = tuple((type(v), v) for v in map(env.get, names))
            try:
                value = known[values]
            except KeyError:
                value = inner(env)
                if len(known) >= STEP_MEMO:
                    known.clear()
                known[values] = value
            except TypeError:  # an unhashable value (a range's cells): computed each time
                value = inner(env)
            memo[key] = value
            return value

        return run


STEP_MEMO = 4096  # values kept per step (per compiled tree) across evaluations


def free_names(expr: Expr) -> tuple[str, ...]:
    """The environment entries ``expr`` reads (arguments, names, references, ranges), in a fixed order."""
    found: set[str] = set()
    seen: set[int] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, Ref):
            found.add(e.name)
        elif isinstance(e, (Cell, Span)):
            found.add(e.text)
        stack.extend(e.children())
    return tuple(sorted(found))


@dataclass(eq=False)
class Plain(Expr):
    """The value of ``x`` past its checks: they are made before, where ``x`` is read.

    A rule reads an input once (its checks first, in order) and then uses
    the value in several places; each use is ``Plain(read)``, so the formula
    does not repeat the checks inside every comparison.
    """

    x: Expr

    @property
    def kind(self) -> str:
        return self.x.kind

    def children(self):
        return (self.x,)

    def _compile(self, c) -> Compiled:
        inner = self.x
        while isinstance(inner, (Guard, Seq)):
            inner = inner.value
        return c(inner)


@dataclass(eq=False)
class Seq(Expr):
    """Read ``first`` (for its checks, in order), then give ``value``: fixes which bad input is named first."""

    first: tuple[Expr, ...]
    value: Expr

    @property
    def kind(self) -> str:
        return self.value.kind

    def children(self):
        return (*self.first, self.value)

    def _compile(self, c) -> Compiled:
        firsts, value = [c(f) for f in self.first], c(self.value)

        def run(env):
            for f in firsts:
                f(env)
            return value(env)

        return run


@dataclass(eq=False)
class DigitRun(Expr):
    """How many characters of ``text`` from ``start`` on are among ``chars`` (at most ``span``).

    The formula is ``MATCH(TRUE,ISERROR(FIND(MID(text,start+{0,…},1),chars)),0)-1``:
    the text must end in a character outside ``chars`` within ``span`` places.
    """

    text: Expr
    start: Expr
    chars: str
    span: int = 25
    kind = "number"

    def children(self):
        return (self.text, self.start)

    def _compile(self, c) -> Compiled:
        ft, fs, chars, span = c(self.text), c(self.start), self.chars, self.span

        def run(env):
            text, start = ft(env), fs(env)
            error = _first_error(text, start)
            if error:
                return error
            s, t = int(to_number(start)), to_text(text)
            if s < 1:
                return XlError("#VALUE!")
            for i in range(span):
                ch = t[s - 1 + i:s + i]
                if ch == "" or ch not in chars:  # FIND("",…) differs between applications: never rely on it
                    if ch == "" and s - 1 + i >= len(t):
                        raise RuleBug("DigitRun reached the end of the text: add a sentinel")
                    return float(i)
            return XlError("#N/A")

        return run


# ------------------------------------------------------------------ substitution and constants


def substitute(expr: Expr, bindings: Mapping[str, Expr]) -> Expr:
    """``expr`` with each :class:`Ref` named in ``bindings`` replaced (sharing preserved)."""
    memo: dict[int, Expr] = {}

    def walk(e: Expr) -> Expr:
        key = id(e)
        if key in memo:
            return memo[key]
        out = _rebuild(e, walk, bindings)
        memo[key] = out
        return out

    return walk(expr)


def _rebuild(e: Expr, walk: Callable[[Expr], Expr], bindings: Mapping[str, Expr]) -> Expr:
    if isinstance(e, Ref):
        return bindings.get(e.name, e)
    if isinstance(e, (Lit, Cell, Span)):
        return e
    if isinstance(e, Op):
        return type(e)(e.op, walk(e.a), walk(e.b))
    if isinstance(e, Apply):
        return Apply(e.name, tuple(walk(a) for a in e.args), e.impl, e.kind)
    if isinstance(e, Fn):
        return Fn(e.name, tuple(walk(a) for a in e.args))
    if isinstance(e, Logic):
        return Logic(e.name, tuple(walk(a) for a in e.args))
    if isinstance(e, InList):
        return InList(walk(e.x), e.words)
    if isinstance(e, If):
        return If(walk(e.cond), walk(e.then), walk(e.otherwise))
    if isinstance(e, Choose):
        return Choose(walk(e.index), tuple(walk(o) for o in e.options))
    if isinstance(e, Guard):
        return Guard(tuple(Check(walk(c.cond), walk(c.message), walk(c.subject) if c.subject is not None else None,
                                 c.skip_kind, c.source) for c in e.checks), walk(e.value))
    if isinstance(e, Fail):
        return Fail(walk(e.message), e.source)
    if isinstance(e, Step):
        return Step(e.label, walk(e.expr))
    if isinstance(e, DigitRun):
        return DigitRun(walk(e.text), walk(e.start), e.chars, e.span)
    if isinstance(e, Seq):
        return Seq(tuple(walk(f) for f in e.first), walk(e.value))
    if isinstance(e, Plain):
        return Plain(walk(e.x))
    raise RuleBug(f"unknown node {type(e).__name__}")


def _constant(e: Expr) -> bool:
    return isinstance(e, Lit)


def fold_constants(expr: Expr) -> Expr:
    """Compute every subtree without variables; a check that always holds becomes :class:`Fail`."""
    memo: dict[int, Expr] = {}

    def walk(e: Expr) -> Expr:
        key = id(e)
        if key not in memo:
            memo[key] = _fold(e, walk)
        return memo[key]

    return walk(expr)


def _value_of(e: Expr) -> Expr:
    try:
        return Lit(e.compile()({}))
    except JXInputError as error:
        return Fail(Lit(CELL_PREFIX + error.message), getattr(error, "source", None))


def _fold(e: Expr, walk: Callable[[Expr], Expr]) -> Expr:
    if isinstance(e, (Lit, Ref, Cell, Span)):
        return e
    if isinstance(e, If):
        cond = walk(e.cond)
        if isinstance(cond, Fail):
            return cond
        if _constant(cond) and not isinstance(cond.value, XlError):
            return walk(e.then) if truthy(cond.value) else walk(e.otherwise)
        return If(cond, walk(e.then), walk(e.otherwise))
    if isinstance(e, Choose):
        index = walk(e.index)
        if isinstance(index, Fail):
            return index
        if _constant(index) and is_number(index.value) and 1 <= int(index.value) <= len(e.options):
            return walk(e.options[int(index.value) - 1])
        return Choose(index, tuple(walk(o) for o in e.options))
    if isinstance(e, Guard):
        checks = []
        for c in e.checks:
            cond = walk(c.cond)
            if isinstance(cond, Fail):
                return Fail(cond.message, cond.source) if not checks else Guard(tuple(checks), cond)
            if _constant(cond):
                if truthy(cond.value):
                    message = walk(c.message)
                    fail = Fail(message, c.source)
                    return Guard(tuple(checks), fail) if checks else fail
                continue
            subject = walk(c.subject) if c.subject is not None else None
            checks.append(Check(cond, walk(c.message), subject, c.skip_kind, c.source))
        value = walk(e.value)
        if not checks:
            return value
        return Guard(tuple(checks), value)
    if isinstance(e, Fail):
        return Fail(walk(e.message), e.source)
    if isinstance(e, Plain):
        x = walk(e.x)
        return x if isinstance(x, (Lit, Fail)) else Plain(x)
    if isinstance(e, Seq):
        first = [f for f in (walk(f) for f in e.first) if not _constant(f)]
        value = walk(e.value)
        return Seq(tuple(first), value) if first else value
    rebuilt = _rebuild(e, walk, {})
    kids = rebuilt.children()
    # a Fail among the children stays in place: checks of the children before it come first
    if all(_constant(k) for k in kids):
        return _value_of(rebuilt)
    return rebuilt


# ------------------------------------------------------------------ formula text


def quote(text: str) -> str:
    """A string literal: ``"…"`` with inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def number_literal(value: float) -> str:
    """A number as a formula writes it: 1, 0.05, 100000000, 1E-05."""
    value = float(value)
    if value.is_integer() and abs(value) <= 1e15:
        return str(int(value))
    return repr(value).upper()


def literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_literal(value)
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return '""'
    if isinstance(value, XlError):
        return value.text if value.text in ERROR_NAMES[:7] else "#VALUE!"
    raise RuleBug(f"no literal for {value!r}")


_STRING = re.compile(r'"(?:[^"]|"")*"')
_OPERAND = re.compile(r"[^\s\"'(),+\-*/^&=<>{}:;!]+")


def _skip_quoted(text: str, start: int) -> int:
    mark, i = text[start], start + 1
    while i < len(text):
        if text[i] == mark:
            if i + 1 < len(text) and text[i + 1] == mark:
                i += 2
                continue
            return i + 1
        i += 1
    raise ValueError(f"公式中的引号不配对：{text}")


def matching_paren(text: str, open_at: int) -> int:
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
    raise ValueError(f"公式括号不配对：{text}")


def atom(text: str) -> str:
    """``text`` safe next to an operator: parenthesized unless it is one operand."""
    if _OPERAND.fullmatch(text) or _STRING.fullmatch(text):
        return text
    call = re.match(r"[A-Za-z_.][\w.]*\(", text)
    if call and matching_paren(text, call.end() - 1) == len(text) - 1:
        return text
    if text.startswith("(") and matching_paren(text, 0) == len(text) - 1:
        return text
    if text.startswith("'") or text.startswith("$"):  # a quoted-sheet reference or an absolute one
        if re.fullmatch(r"('(?:[^']|'')+'!)?\$?[A-Z]+\$?\d+(:\$?[A-Z]+\$?\d+)?", text):
            return text
    return f"({text})"


class Helpers(Protocol):
    """Where a formula's :class:`Step` values go: one cell per step, on the formula's row."""

    def add(self, step: str, formula: str) -> str:
        """Place ``formula`` (no leading ``=``) for ``step``; return its reference."""
        ...


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
        count = self.used.get(step, 0) + 1  # a second call in one cell gets its own columns
        self.used[step] = count
        key = step if count == 1 else f"{step}（{count}）"
        column = self.sheet.columns.setdefault(key, self.sheet.first_column + len(self.sheet.columns))
        self.sheet.cells[(self.row, column)] = formula
        return f"{column_letter(column)}{self.row}"


ALWAYS = "TRUE"
Guards = list[tuple[str, str]]


def fold_guards(guards: Sequence[tuple[str, str]], value: str) -> str:
    """``IF(c1,m1,IF(c2,m2,…,value))``: the first guard that holds wins."""
    for i, (condition, _message) in enumerate(guards):
        if condition == ALWAYS:
            guards, value = guards[:i], guards[i][1]
            break
    out = value
    for condition, message in reversed(guards):
        out = f"IF({condition},{message},{out})"
    return out


@dataclass
class Rendered:
    guards: Guards
    text: str
    kind: str
    pure: bool  # the text never yields a message (every check is among the guards)
    precedence: int = 9  # of the text's outermost operator (9: one operand, never parenthesized)


# Operator precedence in formulas: comparisons, &, + -, * /, ^.
_PRECEDENCE = {"=": 1, "<>": 1, "<": 1, "<=": 1, ">": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


def _operand(r: "Rendered", op: str, right: bool) -> str:
    """``r`` as the left or right operand of ``op``: parenthesized only where the grouping needs it.

    Formulas evaluate left to right, so a left operand of the same precedence
    needs no parentheses and a right one does: the tree's order of operations,
    and so its rounding, is kept exactly.
    """
    mine = _PRECEDENCE[op]
    if r.precedence > mine or (r.precedence == mine and not right):
        return r.text
    return f"({r.text})"


class RenderError(ValueError):
    """A tree that has no formula text (a variable left unbound, a step without a helper cell)."""


class _Renderer:
    def __init__(self, helpers: Helpers | None):
        self.helpers = helpers
        self.memo: dict[int, Rendered] = {}

    def __call__(self, e: Expr) -> Rendered:
        key = id(e)
        if key not in self.memo:
            self.memo[key] = self._render(e)
        return self.memo[key]

    def pure(self, e: Expr) -> Rendered:
        r = self(e)
        if not r.pure:
            raise RenderError("a value that may be a message is used in arithmetic")
        return r

    def _render(self, e: Expr) -> Rendered:
        if isinstance(e, Lit):
            if isinstance(e.value, str) and any(c in e.value for c in _CONTROL):
                return Rendered([], _control_text(e.value), "text", True, _PRECEDENCE["&"])
            text = literal_text(e.value)
            return Rendered([], text, e.kind, True, 0 if text.startswith("-") else 9)
        if isinstance(e, Cell):
            return Rendered([], e.text, e.kind, True, 9 if atom(e.text) == e.text else 0)
        if isinstance(e, Span):
            return Rendered([], e.text, "any", True, 9)
        if isinstance(e, Apply):
            parts = [self.pure(a) for a in e.args]
            guards: Guards = []
            for p in parts:
                guards = _merge(guards, p.guards)
            return Rendered(guards, f"{e.name}({','.join(p.text for p in parts)})", e.kind, True)
        if isinstance(e, Ref):
            raise RenderError(f"unbound variable {e.name}")
        if isinstance(e, Op):
            a, b = self.pure(e.a), self.pure(e.b)
            text = f"{_operand(a, e.op, False)}{e.op}{_operand(b, e.op, True)}"
            return Rendered(_merge(a.guards, b.guards), text, e.kind, True, _PRECEDENCE[e.op])
        if isinstance(e, (Fn, Logic)):
            parts = [self.pure(a) for a in e.args]
            guards: Guards = []
            for p in parts:
                guards = _merge(guards, p.guards)
            return Rendered(guards, f"{e.name}({','.join(p.text for p in parts)})", e.kind, True)
        if isinstance(e, InList):
            x = self.pure(e.x)
            words = "{" + ",".join(quote(w) for w in e.words) + "}"
            return Rendered(x.guards, f"OR({x.text}={words})", "logical", True)
        if isinstance(e, If):
            c = self.pure(e.cond)
            t, o = self(e.then), self(e.otherwise)
            pure = t.pure and o.pure and not t.guards and not o.guards
            text = f"IF({c.text},{fold_guards(t.guards, t.text)},{fold_guards(o.guards, o.text)})"
            return Rendered(c.guards, text, e.kind, pure)
        if isinstance(e, Choose):
            i = self.pure(e.index)
            options = [self(o) for o in e.options]
            pure = all(o.pure and not o.guards for o in options)
            text = f"CHOOSE({i.text},{','.join(fold_guards(o.guards, o.text) for o in options)})"
            return Rendered(i.guards, text, e.kind, pure)
        if isinstance(e, Guard):
            guards = []
            for check in e.checks:
                if check.subject is not None:
                    subject = self(check.subject)
                    if subject.pure and subject.kind == check.skip_kind:
                        continue  # a value known to be a number (or logical) needs no type check
                cond = self.pure(check.cond)
                message = self(check.message)
                guards = _merge(guards, cond.guards)
                guards = _merge(guards, [(cond.text, fold_guards(message.guards, message.text))])
            value = self(e.value)
            return Rendered(_merge(guards, value.guards), value.text, value.kind, value.pure, value.precedence)
        if isinstance(e, Fail):
            message = self(e.message)
            return Rendered([(ALWAYS, fold_guards(message.guards, message.text))], '""', "any", True)
        if isinstance(e, Step):
            inner = self(e.expr)
            if inner.guards or not inner.pure:
                raise RenderError(f"step {e.label} has checks: steps must be plain values")
            if self.helpers is None:
                return inner
            return Rendered([], self.helpers.add(e.label, inner.text), inner.kind, True)
        if isinstance(e, Plain):
            inner = self(e.x)
            return Rendered([], inner.text, inner.kind, True, inner.precedence)
        if isinstance(e, Seq):
            guards: Guards = []
            for f in e.first:
                guards = _merge(guards, self(f).guards)
            value = self(e.value)
            return Rendered(_merge(guards, value.guards), value.text, value.kind, value.pure, value.precedence)
        if isinstance(e, DigitRun):
            text, start = self.pure(e.text), self.pure(e.start)
            positions = "{" + ",".join(str(i) for i in range(e.span)) + "}"
            formula = (f"MATCH(TRUE,ISERROR(FIND(MID({text.text},{_operand(start, '+', False)}+{positions},1),"
                       f"{quote(e.chars)})),0)-1")
            return Rendered(_merge(text.guards, start.guards), formula, "number", True, _PRECEDENCE["-"])
        raise RenderError(f"unknown node {type(e).__name__}")


_CONTROL = {"\t": 9, "\n": 10, "\r": 13}


def _control_text(text: str) -> str:
    """A text with tabs or line breaks as ``"a"&CHAR(10)&"b"``: formulas cannot hold them literally."""
    pieces, current = [], ""
    for ch in text:
        if ch in _CONTROL:
            if current:
                pieces.append(quote(current))
            pieces.append(f"CHAR({_CONTROL[ch]})")
            current = ""
        else:
            current += ch
    if current:
        pieces.append(quote(current))
    return "&".join(pieces)


def _merge(first: Guards, second: Guards) -> Guards:
    """``first`` then the guards of ``second`` not already in it (a check once is enough)."""
    if not second:
        return first
    seen = set(first)
    out = list(first)
    for g in second:
        if g not in seen:
            seen.add(g)
            out.append(g)
    return out


def render(expr: Expr, helpers: Helpers | None = None) -> str:
    """The formula text (no leading ``=``) of ``expr``; every variable must be bound."""
    r = _Renderer(helpers)(fold_constants(expr))
    return fold_guards(r.guards, r.text)


def render_parts(expr: Expr, helpers: Helpers | None = None) -> Rendered:
    """The checks and the value text of ``expr``, before they are folded together."""
    return _Renderer(helpers)(fold_constants(expr))


def variables(expr: Expr) -> set[str]:
    """The names of every :class:`Ref` in ``expr``."""
    seen: set[int] = set()
    names: set[str] = set()

    def walk(e: Expr) -> None:
        if id(e) in seen:
            return
        seen.add(id(e))
        if isinstance(e, Ref):
            names.add(e.name)
        for child in e.children():
            walk(child)
        if isinstance(e, Guard):
            for c in e.checks:
                if c.subject is not None:
                    walk(c.subject)

    walk(expr)
    return names
