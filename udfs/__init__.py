"""The JX worksheet functions, made from the data of every installed edition.

Excel calls these through xlwings (``=JX_EXEC_SCORE(q1,q2,q3,q4)``); Python
calls them as plain functions. Each one is thin: read each argument as a cell,
find the edition, evaluate that edition's rule (:mod:`jx.functions`), return.
Nothing here is written per indicator: an edition's data names its functions,
their arguments and their help.

**Which edition.** The template's VBA passes, as a hidden last argument, the
edition id the calling workbook records in its named cell ``评分标准版本``
(xlwings' ``vba`` argument: the formula an auditor reads stays
``=JX_EXEC_SCORE(一季度执行率,…)``). A workbook naming an edition this
installation lacks gets a Chinese error in the cell, never a score under
another edition. Python callers may pass ``edition=``; without it they get
``$JX_RUBRIC`` or the newest installed edition that has the function.

A bad input raises :class:`jx.JXInputError` (a ``ValueError``) whose message
is short Chinese naming the input; in a cell that message is what shows.
"""

from __future__ import annotations

import inspect

from jx.errors import JXInputError
from jx.functions import OMITTED, Function, functions
from jx.rubric import EDITION_ENV, RubricError, editions, load_rubric

from ._excel import CATEGORY, EDITION_ARG, EDITION_VBA, arg, excel_errors, func

EDITION_NAME = "评分标准版本"  # the workbook's named cell holding its edition id


def _installed() -> dict[str, list[tuple[str, Function]]]:
    """Function name → (edition, its Function) for every installed edition, newest last."""
    out: dict[str, list[tuple[str, Function]]] = {}
    for edition in editions():
        for name, f in functions(load_rubric(edition)).items():
            out.setdefault(name, []).append((edition, f))
    return out


def _edition(requested: object, name: str) -> str:
    import os

    if isinstance(requested, str) and requested.strip():
        return requested.strip()
    if requested not in (None, "") and not isinstance(requested, str):
        raise JXInputError(f"{EDITION_NAME}应为文字")
    forced = os.environ.get(EDITION_ENV)
    if forced:
        return forced
    having = [e for e, _f in _INSTALLED.get(name, [])]
    if not having:
        raise JXInputError(f"本机安装的评分标准中没有函数 {name}")
    return having[-1]


def _named_value(caller, name: str):
    """The value of the calling workbook's defined name ``name``."""
    if caller is None:
        raise JXInputError(f"无法读取工作簿中的“{name}”，请在公式中直接填写参数")
    try:
        target = caller.sheet.book.names[name].refers_to_range
    except Exception:  # xlwings raises KeyError or a COM error for a missing name
        raise JXInputError(f"工作簿中没有名为“{name}”的单元格") from None
    return target.value


def _make(name: str, first: Function):
    """The Python function for ``name``: the signature of its first edition, any edition's rule."""
    P = inspect.Parameter
    params = [P(a.name, P.POSITIONAL_OR_KEYWORD,
                default=OMITTED if (a.optional or first.read_names) else P.empty) for a in first.args]
    if first.read_names:
        params.append(P("caller", P.POSITIONAL_OR_KEYWORD, default=None))
    params.append(P(EDITION_ARG, P.POSITIONAL_OR_KEYWORD, default=None))
    signature = inspect.Signature(params)

    def udf(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            raise JXInputError(f"{name} 应有 {len(first.args)} 个参数") from None
        values = bound.arguments
        edition = _edition(values.pop(EDITION_ARG, None), name)
        caller = values.pop("caller", None)
        try:
            rubric = load_rubric(edition)
        except RubricError as error:
            raise JXInputError(str(error)) from None
        f = functions(rubric).get(name)
        if f is None:
            raise JXInputError(f"评分标准“{edition}”中没有函数 {name}")
        raw = [values.get(a.name, OMITTED) for a in f.args]
        if f.read_names and all(v is OMITTED for v in raw):
            raw = [_named_value(caller, n) for n in f.read_names]
        return f(*raw)

    udf.__name__ = udf.__qualname__ = name
    udf.__module__ = __name__
    udf.__doc__ = first.summary
    udf.__signature__ = signature
    wrapped = excel_errors(udf)
    for a in first.args:
        wrapped = arg(a.name, a.doc)(wrapped)
    wrapped = arg(EDITION_ARG, None, vba=EDITION_VBA)(wrapped)
    return func(category=CATEGORY, volatile=first.volatile)(wrapped)


_INSTALLED = _installed()
for _name, _defined in _INSTALLED.items():
    globals()[_name] = _make(_name, _defined[0][1])

__all__ = ["JXInputError", *sorted(_INSTALLED)]
