"""JX core: the 部门整体支出绩效评分表 as data plus pure-Python rules.

Nothing in this package knows about Excel; ``udfs`` and ``addin`` sit at the
edges and call in here.
"""

from .errors import JXInputError
from .excel import excel_round
from .rubric import load_rubric

__all__ = ["JXInputError", "excel_round", "load_rubric"]
