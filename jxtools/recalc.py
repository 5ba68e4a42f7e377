"""Recalculate a workbook headlessly: from the template's model, or with a general formula engine.

Every formula cell of a template is an expression tree of its layout
(:mod:`addin.layout`), rendered into the cell as text. When the trusted
reader finds every formula cell still holding exactly that text, and no
other formulas, the workbook *is* the model: :func:`model_values` evaluates
the trees in Python on the workbook's cells, the JX cells by the same rules
Excel calls. That is the fast path.

A workbook whose formulas were edited (or that has formulas of its own) is
recalculated by the general engine, ``formulas`` (PyPI), with every JX
function registered before the workbook is loaded. Both paths give a JX
input error as the cell's text ``错误：…``, exactly what xlwings' wrapper puts
in the cell in Excel, and worksheet arithmetic then turns the total into
``#VALUE!`` as Excel does. The tests hold the two paths to the same value in
every cell.

``formulas`` 1.3.4 does not order a defined name that points at a cell before
the formulas that read it (the result depends on hash order), so each formula
is handed to it with its defined names replaced by the absolute references
they stand for. The workbook's own formulas are not changed.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars otherwise

from jx.errors import JXInputError  # noqa: E402
from jx.functions import functions  # noqa: E402
from jx.rubric import Rubric  # noqa: E402

from jx.expr import column_letter  # noqa: E402


_IDENTIFIER_EDGE = r"(?<![\w.$'!])({names})(?![\w.(!])"
MODEL, ENGINE = "model", "formulas"


@dataclass(frozen=True)
class Recalculated:
    """Every cell's computed value, by sheet and coordinate (``("评分表", "G5")``)."""

    values: dict[tuple[str, str], Any]
    formulas: dict[tuple[str, str], str]
    names: dict[str, tuple[str, str]]
    data: Any = None  # the trusted reading of the workbook (its deviations from the template)
    report: Any = None  # the audit of that reading: what every command reports as needing a look
    engine: str = "model"  # MODEL: the template's trees; ENGINE: the general formula engine

    def named(self, name: str) -> Any:
        """A named cell's value: computed for a formula cell, as the workbook holds it otherwise."""
        key = self.names[name]
        if key in self.values or self.data is None:
            return self.values.get(key)
        return _cached(self.data.cell(*key))


class _SheetEnv:
    """The cells one formula of ``sheet`` sees: defined names, references and ranges, computed on demand."""

    def __init__(self, book: "_Book", sheet: str):
        self.book, self.sheet = book, sheet

    def get(self, key: str) -> Any:
        book = self.book
        if key in book.names:
            sheet, ref = book.names[key]
            return book.ref(sheet, ref.replace("$", ""))
        return book.ref(self.sheet, key)


class _Book:
    """A workbook read by the trusted reader, with its layout's trees evaluated once per cell."""

    def __init__(self, data):
        self.data, self.lay = data, data.layout
        self.names = self.lay.names  # layout names: where the template put them, which the reader confirmed
        self.compiled = {key: tree.compile() for key, tree in self.lay.trees.items()}
        self.values: dict[tuple[str, str], Any] = {}

    def ref(self, sheet: str, ref: str) -> Any:
        if ":" in ref:
            from .reading import split_ref

            (r1, c1), (r2, c2) = (split_ref(p) for p in ref.split(":"))
            return [self.cell(sheet, f"{column_letter(c)}{r}") for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        return self.cell(sheet, ref)

    def cell(self, sheet: str, ref: str) -> Any:
        key = (sheet, ref)
        if key in self.values:
            return self.values[key]
        if key in self.compiled:
            value = self.compiled[key](_SheetEnv(self, sheet))
        else:
            value = _worksheet_value(self.data, self.data.sheet_of.get(sheet, sheet), ref)
        self.values[key] = value
        return value


def _worksheet_value(data, sheet: str, ref: str) -> Any:
    """A constant cell as a formula reads it: a number, text, logical, blank (None) or an error value."""
    import datetime as dt

    from jx.values import XlError as CoreError

    from .reading import split_ref

    row, col = split_ref(ref)
    value = data._raw(sheet, row, col)
    if isinstance(value, CoreError) or value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dt.datetime):
        return (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - dt.date(1899, 12, 30)).days)
    if isinstance(value, (dt.time, dt.timedelta)):
        seconds = value.total_seconds() if isinstance(value, dt.timedelta) else (
            value.hour * 3600 + value.minute * 60 + value.second)
        return seconds / 86400
    return float(value)


def can_use_model(data) -> bool:
    """True when the workbook's formulas are exactly its layout's: no edited cell, no formula of its own."""
    if data.deviations:
        return False
    layout_cells = {(data.sheet_of.get(sheet, sheet), ref) for sheet, ref in data.layout.trees}
    return all((sheet, ref) in layout_cells for sheet, scan in data.scans.items() for ref in scan.formulas)


def model_values(data) -> dict[tuple[str, str], Any]:
    """Every formula cell's value, from the layout's trees (call only when :func:`can_use_model`).

    Keys use the workbook's own sheet titles (a renamed sheet keeps its name).
    """
    book = _Book(data)
    return {(data.sheet_of.get(sheet, sheet), ref): _cached(book.cell(sheet, ref)) for sheet, ref in data.layout.trees}


def _cached(value: Any) -> Any:
    """A value as the output file caches it (an error value as its text, #VALUE!)."""
    from jx.values import XlError as CoreError

    return value.text if isinstance(value, CoreError) else value


def _plain(value: Any) -> Any:
    """A formulas argument as Excel would hand it to a UDF: a scalar."""
    import numpy as np
    import schedula
    from formulas.tokens.operand import XlError

    if hasattr(value, "value"):  # a Ranges object
        value = value.value
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value
    if value is schedula.EMPTY:
        return None
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _excel_function(function, named_values: dict[str, Any]):
    """``function`` as the engine calls it: cell values in, a value or the cell text of an error out."""
    def call(*args):
        values = [_plain(a) for a in args]
        try:
            if function.read_names and not values:
                values = [named_values.get(n) for n in function.read_names]
            return function(*values)
        except JXInputError as error:
            return error.cell_text

    return call


def register_jx_functions(rubric: Rubric, named_values: dict[str, Any]) -> None:
    """Make every JX function of ``rubric`` known to the formulas engine."""
    import formulas

    table = formulas.get_functions()
    for name, function in functions(rubric).items():
        table[name] = _excel_function(function, named_values)


def _substitute_names(formula: str, names: Mapping[str, tuple[str, str]], pattern: re.Pattern) -> str:
    """Replace defined names by absolute references, outside string literals."""
    parts = formula.split('"')
    for i in range(0, len(parts), 2):
        parts[i] = pattern.sub(lambda m: _absolute(*names[m.group(1)]), parts[i])
    return '"'.join(parts)


def _absolute(sheet: str, ref: str) -> str:
    cells = ":".join(re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", part) for part in ref.replace("$", "").split(":"))
    return f"'{sheet}'!{cells}"


def recalculate(path: Path, status: Callable[[str], Any] | None = None) -> Recalculated:
    """Check and recalculate ``path`` (the file itself is only read): by the model when it can, else the engine.

    ``status`` is told before the general engine starts (it takes seconds).
    """
    from .audit import trusted

    data, report = trusted(Path(path))  # the same verdict as every other command, before any engine runs
    if can_use_model(data):
        names = {n: (data.sheet_of.get(s, s), r.replace("$", "")) for n, (s, r) in data.layout.names.items()}
        formulas_by_cell = {(data.sheet_of.get(s, s), r): text for (s, r), text in data.layout.formulas.items()}
        return Recalculated(model_values(data), formulas_by_cell, names, data, report, engine=MODEL)
    if status is not None:
        status(f"{data.label}：公式与模板不同，正在用通用公式引擎重算……")
    return _general(data, report)


def _general(data, report) -> Recalculated:
    """Recalculate with the ``formulas`` engine: for a workbook whose formulas are not (only) its template's."""
    import formulas
    import openpyxl

    names = data.names
    pattern = re.compile(_IDENTIFIER_EDGE.format(names="|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))) if names else None
    wb = openpyxl.load_workbook(io.BytesIO(data.package), keep_vba=False, keep_links=False)
    formulas_by_cell: dict[tuple[str, str], str] = {}
    caller_values: dict[str, Any] = {}
    for name, (sheet, ref) in names.items():
        if ":" not in ref and sheet in wb.sheetnames:
            value = wb[sheet][ref.replace("$", "")].value
            if not (isinstance(value, str) and value.startswith("=")):
                caller_values[name] = value
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    formulas_by_cell[(ws.title, cell.coordinate)] = cell.value
                    if pattern is not None:
                        cell.value = _substitute_names(cell.value, names, pattern)
    wb.defined_names.clear()
    workdir = Path(tempfile.mkdtemp(prefix="jx-recalc-"))
    try:
        plain = workdir / "book.xlsx"
        wb.save(plain)
        register_jx_functions(data.rubric, caller_values)
        model = formulas.ExcelModel().loads(str(plain)).finish()
        solution = model.calculate()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    values: dict[tuple[str, str], Any] = {}
    for key, value in solution.items():
        match = re.match(r"^'\[book\.xlsx\](.+)'!([A-Z]+\d+)$", key)
        if match:
            values[(match.group(1).upper(), match.group(2))] = _plain(value)
    sheet_case = {s.upper(): s for s in wb.sheetnames}
    values = {(sheet_case.get(s, s), c): v for (s, c), v in values.items()}
    return Recalculated(values, formulas_by_cell, names, data, report, engine=ENGINE)
