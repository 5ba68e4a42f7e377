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

CATEGORY = "JX 绩效自评"
# The hidden last argument of every function: the calling workbook's edition, passed by
# the template's VBA (jx_edition.JxEdition reads the workbook's named cell 评分标准版本).
EDITION_ARG = "edition"
EDITION_VBA = "JxEdition()"


def _xlwings():
    return sys.modules.get("xlwings")


def func(**kwargs: Any) -> Callable:
    xw = _xlwings()
    return xw.func(**kwargs) if xw else (lambda f: f)


def arg(name: str, doc: str | None, **options: Any) -> Callable:
    """Argument doc for the Function Wizard; Excel error values arrive as text (#VALUE!).

    ``vba`` makes an argument hidden from Excel: the wrapper passes that VBA
    expression instead (the edition).
    """
    xw = _xlwings()
    if not xw:
        return lambda f: f
    if "vba" not in options:
        options.setdefault("err_to_str", True)
    if doc is not None:
        options["doc"] = doc
    return xw.arg(name, **options)


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
