"""The thin layer between Excel (through xlwings) and the pure rules in ``jx``.

* Decorators: inside Excel, xlwings' COM server has already imported xlwings,
  and its ``func``/``arg`` record the metadata the VBA wrappers and the
  Function Wizard need. Elsewhere they are no-ops (that is what xlwings itself
  does off Windows), so ``import udfs`` does not pay for importing xlwings,
  which pulls in pandas.
* Errors: a :class:`jx.JXInputError` stays a ``JXInputError`` for Python
  callers. Under Windows it is raised as a class that is also a pywin32
  ``COMException`` whose description is the short Chinese cell text, because
  xlwings' wrapper shows ``Err.Description`` in the cell and pywin32 would
  otherwise put a whole traceback there.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from jx.errors import JXInputError
from jx.rubric import load_rubric

CATEGORY = "JX 绩效自评"


class _Omitted:
    """Default of an optional argument, so that "left out" differs from "blank cell"."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = _Omitted()


def _xlwings():
    return sys.modules.get("xlwings")


def func(**kwargs: Any) -> Callable:
    xw = _xlwings()
    return xw.func(**kwargs) if xw else (lambda f: f)


def arg(name: str, doc: str, **options: Any) -> Callable:
    """Argument doc for the Function Wizard; Excel error values arrive as text (#VALUE!)."""
    xw = _xlwings()
    options.setdefault("err_to_str", True)
    return xw.arg(name, doc=doc, **options) if xw else (lambda f: f)


def _windows_error_class() -> type[JXInputError] | None:
    if not sys.platform.startswith("win"):
        return None
    try:
        from win32com.server.exception import COMException
    except ImportError:
        return None

    class ExcelInputError(JXInputError, COMException):
        """A JXInputError that pywin32 reports to Excel with the short cell text."""

        def __init__(self, message: str):
            COMException.__init__(self, description=JXInputError(message).cell_text,
                                  scode=0x80020009)  # DISP_E_EXCEPTION
            self.message = message

        def __str__(self) -> str:
            return self.message

    return ExcelInputError


_EXCEL_ERROR = _windows_error_class()


def excel_errors(f: Callable) -> Callable:
    """Raise input errors in the form Excel shows as a short message."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except JXInputError as error:
            if _EXCEL_ERROR is None or isinstance(error, _EXCEL_ERROR):
                raise
            raise _EXCEL_ERROR(error.message) from None

    return wrapper


def indicator_doc(indicator_id: str) -> Callable:
    """Docstring from the rubric data: indicator, rule in one line, max points.

    The first (and only) line is what the Function Wizard shows, so it stays
    under Excel's 255-character limit; it follows the edition in force.
    """

    def decorate(f: Callable) -> Callable:
        ind = load_rubric().indicator(indicator_id)
        f.__doc__ = f"{ind.name}（满分{ind.max:g}分）：{ind.summary}"
        return f

    return decorate
