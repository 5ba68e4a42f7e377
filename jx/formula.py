"""Formula text with JX calls, rewritten into native formula text through the rules' own trees.

``jx export`` hands a workbook to people without Python (WPS, locked-down
machines, auditors): every ``JX_…`` call in a formula becomes the rendered
expression tree of that function (:mod:`jx.expr`), with the call's arguments
bound in. It is the same tree Python evaluates, so the two faces cannot
drift apart. Values typed into a formula (``JX_QUARTER_SCORE(…,1)``) are
read by Python once, at export time. The result uses only functions that
Excel 2010+, WPS and LibreOffice 7.4 know (:data:`jx.expr.ALLOWED_FUNCTIONS`).
"""

from __future__ import annotations

import re

from .errors import CELL_PREFIX
from .expr import Cell, Expr, Fail, Helpers, Lit, _skip_quoted, atom, matching_paren, render, substitute
from .functions import functions
from .rubric import Rubric

# Excel 2010's limits on one formula (LibreOffice and WPS allow at least as much).
MAX_FORMULA_CHARS = 8192
MAX_NESTING = 64

_JX_NAME = re.compile(r"(?<![\w.$'!])(JX_[A-Za-z0-9_]+)\s*\(", re.I)
_NUMBER_LITERAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"]|"")*"')


class NativeFormulaError(ValueError):
    """A JX formula without a native equivalent (unknown function, wrong number of arguments…)."""


def split_args(inner: str) -> list[str]:
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


def next_call(text: str, start: int) -> re.Match | None:
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


def has_jx_call(formula: str) -> bool:
    return next_call(formula, 0) is not None


class _Rewriter:
    def __init__(self, rubric: Rubric, helpers: Helpers | None):
        self.rubric = rubric
        self.functions = functions(rubric)
        self.helpers = helpers

    def text(self, formula: str) -> str:
        """``formula`` with every JX call replaced by its native text."""
        out, i = [], 0
        while (match := next_call(formula, i)) is not None:
            close = matching_paren(formula, match.end() - 1)
            tree = self.call(match.group(1).upper(), formula[match.end():close])
            out += [formula[i:match.start()], atom(render(tree, self.helpers))]
            i = close + 1
        out.append(formula[i:])
        return "".join(out)

    def call(self, name: str, inner: str) -> Expr:
        f = self.functions.get(name)
        if f is None:
            raise NativeFormulaError(f"评分标准“{self.rubric.id}”中没有函数 {name}")
        raw = split_args(inner)
        required = sum(not a.optional for a in f.args)
        if f.read_names and not raw:
            return substitute(f.tree, {a.name: Cell(n) for a, n in zip(f.args, f.read_names)})
        if f.read_names and len(raw) < len(f.args):
            labels = "和".join(a.label for a in f.args)
            return Fail(Lit(f"{CELL_PREFIX}{name} 需同时填写{labels}，或都不填"))
        if not required <= len(raw) <= len(f.args):
            expected = f"{required}" if required == len(f.args) else f"{required} 到 {len(f.args)}"
            raise NativeFormulaError(f"{name} 应有 {expected} 个参数，公式中有 {len(raw)} 个")
        bound = {a.name: self.arg(text) for a, text in zip(f.args, raw)}
        for a in f.args[len(raw):]:
            bound[a.name] = Lit(None)  # an optional argument left out reads as blank
        return substitute(f.tree, bound)

    def arg(self, raw: str) -> Expr:
        text = raw.strip()
        if not text:
            return Lit(None)  # an empty argument: the function receives a blank
        if _NUMBER_LITERAL.fullmatch(text):
            return Lit(float(text))
        if _STRING.fullmatch(text):
            return Lit(text[1:-1].replace('""', '"'))
        if text.upper() in ("TRUE", "FALSE"):
            return Lit(text.upper() == "TRUE")
        match = next_call(text, 0)
        if match and match.start() == 0 and matching_paren(text, match.end() - 1) == len(text) - 1:
            return self.call(match.group(1).upper(), text[match.end():-1])
        return Cell(atom(self.text(text)))


def native_formula(formula_text: str, rubric: Rubric, helpers: Helpers | None = None) -> str:
    """Rewrite every JX call in ``formula_text`` (``=…``) into native spreadsheet text.

    ``helpers`` places the steps of ``JX_TARGET_MET`` (see
    :class:`jx.expr.RowHelpers`). Raises :class:`NativeFormulaError` for a call
    that has no native equivalent.
    """
    body = formula_text[1:] if formula_text.startswith("=") else formula_text
    try:
        converted = _Rewriter(rubric, helpers).text(body)
    except ValueError as error:  # unbalanced quotes or parentheses
        if isinstance(error, NativeFormulaError):
            raise
        raise NativeFormulaError(str(error)) from None
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
