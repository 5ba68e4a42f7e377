"""Recalculate a workbook headlessly with an independent formula engine.

The engine is ``formulas`` (PyPI), with every JX function registered before the
workbook is loaded, so each JX formula of the template is evaluated by the
same Python rule Excel would call. A JX input error becomes the cell's text
``错误：…``, exactly what xlwings' wrapper puts in the cell in Excel, and the
engine's own arithmetic then turns the total into ``#VALUE!`` as Excel does.

``formulas`` 1.3.4 does not order a defined name that points at a cell before
the formulas that read it (the result depends on hash order), so each formula
is handed to it with its defined names replaced by the absolute references
they stand for. The workbook's own formulas are not changed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # formulas draws progress bars otherwise

from jx.errors import JXInputError  # noqa: E402
from jx.functions import functions  # noqa: E402
from jx.rubric import Rubric  # noqa: E402

from .workbook_io import defined_names  # noqa: E402

_IDENTIFIER_EDGE = r"(?<![\w.$'!])({names})(?![\w.(!])"


@dataclass(frozen=True)
class Recalculated:
    """Every cell's computed value, by sheet and coordinate (``("评分表", "G5")``)."""

    values: dict[tuple[str, str], Any]
    formulas: dict[tuple[str, str], str]
    names: dict[str, tuple[str, str]]
    data: Any = None  # the trusted reading of the workbook (its deviations from the template)
    report: Any = None  # the audit of that reading: what every command reports as needing a look

    def named(self, name: str) -> Any:
        return self.values.get(self.names[name])


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


def recalculate(path: Path) -> Recalculated:
    """Load, check and recalculate ``path``; the file itself is only read."""
    import formulas
    import openpyxl

    from .audit import trusted

    path = Path(path)
    data, report = trusted(path)  # the same verdict as every other command, before any engine runs
    names = defined_names(path)
    pattern = re.compile(_IDENTIFIER_EDGE.format(names="|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))) if names else None
    wb = openpyxl.load_workbook(path, keep_vba=False, keep_links=False)
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
    rubric = data.rubric
    workdir = Path(tempfile.mkdtemp(prefix="jx-recalc-"))
    try:
        plain = workdir / "book.xlsx"
        wb.save(plain)
        register_jx_functions(rubric, caller_values)
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
    return Recalculated(values=values, formulas=formulas_by_cell, names=names, data=data, report=report)
