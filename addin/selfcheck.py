"""The template's self-check: ``JxSelfCheck`` (Alt+F8) and the troubleshooting table.

Inside Excel, VBA can see more of the chain the JX functions need than any
Linux test: whether xlwings' DLL loads, whether Python starts, which Python
that is, whether it has xlwings, ``udfs`` and the workbook's edition, and
whether one real call of ``JX_GRADE`` gives the grade the edition's bands say.
``JxSelfCheck`` runs those steps in order, catches each failure with
``On Error`` and writes, in Chinese, what passed, what failed, the likely
cause and what to do, into the block that starts at the named cell
:data:`RESULT_NAME` (on 填报说明). A workbook without that name gets a message
box instead.

One list, :data:`CAUSES`, holds every failure the user may meet: its symptom,
its likely cause, what to do, and the rules (``Err.Number`` values and
``Err.Description`` substrings) that recognise it. :func:`diagnose` applies
the rules in Python; the VBA ``JxDiagnose`` is generated from the same list,
in the same order; :func:`troubleshooting_rows` renders it for the sheet.
Two causes (macros disabled, a file blocked by Mark of the Web) have no rule:
a macro that cannot run cannot report them, so only the sheet explains them.

VBA source is stored in the cp1252 codepage: every Chinese text is built with
``ChrW`` (:func:`addin.vba.project.vba_unicode_assign`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .layout import SELFCHECK_NAME
from .vba.project import VbaModule, vba_unicode_assign

MODULE_NAME = "jx_selfcheck"
MACRO_NAME = "JxSelfCheck"
RESULT_NAME = SELFCHECK_NAME  # the named cell: first cell of the result block on 填报说明
RESULT_ROWS = 32  # cells the macro clears and may fill, from RESULT_NAME downwards (one column)
MIN_PYTHON = (3, 11)  # pyproject's requires-python
TROUBLESHOOTING_HEADER = ("症状", "可能原因", "怎么办")
PASS, FAIL, INFO = "【通过】", "【未通过】", "【信息】"
_RAW_LIMIT = 600  # characters of Err.Description shown (the end of a traceback says most)
PASS_KIND, FAIL_KIND, INFO_KIND = "JX_PASS", "JX_FAIL", "JX_INFO"  # the VBA constants


def xlwings_version() -> str:
    """The installed xlwings: the package whose ``xlwings.bas`` the template carries."""
    return importlib.metadata.version("xlwings")


@dataclass(frozen=True)
class Cause:
    """One thing that keeps Excel from reaching Python, and how to recognise it."""

    key: str
    symptom: str  # 症状: what the user sees
    cause: str  # 可能原因
    remedy: str  # 怎么办
    numbers: tuple[int, ...] = ()  # Err.Number values (VBA's own errors)
    patterns: tuple[str, ...] = ()  # substrings of Err.Description, compared ignoring ASCII case

    def matches(self, description: str, number: int) -> bool:
        text = description.casefold()
        return number in self.numbers or any(p.casefold() in text for p in self.patterns)


def causes(version: str | None = None) -> tuple[Cause, ...]:
    """Every cause, in the order the table lists them and the rules are tried (first match wins)."""
    v = version or xlwings_version()
    py = f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
    config = "运行 xlwings config create --force，把这个 Python 设为 Excel 使用的 Python"
    restart = "完全退出 Excel（所有窗口）后重新打开"
    return (
        Cause("macros_disabled",
              "打开文件时出现黄色的“安全警告 宏已被禁用”栏；JX 单元格显示 #NAME?；按 Alt+F8 找不到 JxSelfCheck",
              "宏未启用",
              "点击黄色栏中的“启用内容”。没有这个栏时：文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置，"
              "选“禁用所有宏，并发出通知”，然后关闭并重新打开本文件"),
        Cause("motw_blocked",
              "出现红色的“安全风险：Microsoft 已阻止宏运行，因为此文件的来源不受信任”栏，或文件在“受保护的视图”中打开",
              "文件来自网络或邮件附件，Windows 给它加了“来自其他计算机”的标记（Mark of the Web），宏被阻止",
              "关闭文件，在资源管理器中右键文件 → 属性 → 常规，勾选“解除锁定”后点“确定”，再打开文件并点击“启用内容”"),
        Cause("dll_missing",
              f"提示 File not found: xlwings64-{v}.dll（中文 Excel 为“文件未找到”，错误 53），"
              f"或 Could not load xlwings64-{v}.dll；32 位 Office 为 xlwings32-{v}.dll",
              f"Excel 找不到或无法载入 xlwings {v} 的 DLL：Excel 使用的 Python 没有安装 xlwings {v}（或装了其他版本），"
              "或这个 Python 既不在 PATH 中、也没有在 xlwings 的设置中指定",
              f"在装了 JX 的 Python 中先运行 jx doctor，按提示安装 xlwings {v}，再{config}；{restart}",
              numbers=(53, 48),
              patterns=("xlwings64-", "xlwings32-", "Could not load xlwings")),
        Cause("python_not_found",
              "提示 Could not create Python process，或 Could not activate Python COM server",
              "Excel 找不到或无法启动 Python：xlwings 设置中的解释器（Interpreter_Win）路径不对，或 pythonw.exe 不在 PATH 中",
              f"确认已安装 Python {py} 或更高版本并装了 JX；在这个 Python 中{config}；{restart}",
              patterns=("Could not create Python process", "Could not activate Python COM server",
                        "cannot autostart server")),
        Cause("python_exited",
              "提示 Python process exited before it was possible to create the interface object，"
              "或 No module named 'xlwings'",
              "Excel 启动的 Python 立即退出了：这个 Python 里多半没有安装 xlwings，即 Excel 用的不是装了 JX 的那个 Python",
              f"在装了 JX 的 Python 中运行 jx doctor 检查，再{config}；{restart}",
              patterns=("Python process exited before", "No module named 'xlwings")),
        Cause("pywin32",
              "提示 No module named 'win32com'（或 pythoncom、pywintypes），或 DLL load failed while importing win32…",
              "pywin32 没有安装或安装不完整：xlwings 在 Windows 上靠它与 Excel 通信",
              f"用 Excel 使用的 Python 运行 python -m pip install --force-reinstall pywin32；{restart}",
              patterns=("No module named 'win32", "No module named 'pythoncom", "No module named 'pywintypes",
                        "No module named '_win32", "DLL load failed while importing win32",
                        "DLL load failed while importing pythoncom", "DLL load failed while importing pywintypes",
                        "DLL load failed while importing _win32")),
        Cause("python_old",
              f"提示 No module named 'tomllib'，或自检报告 Python 版本低于 {py}",
              f"Excel 使用的 Python 版本太旧：JX 需要 Python {py} 或更高版本",
              f"安装 Python {py} 或更高版本，在其中安装 JX 安装包，再{config}；{restart}",
              patterns=("No module named 'tomllib'",)),
        Cause("udfs_missing",
              "提示 ModuleNotFoundError: No module named 'udfs'（或 'jx'），JX 单元格显示同样的英文",
              "Excel 使用的 Python 中没有安装 JX（udfs 模块），或缺少 JX 依赖的模块",
              "用 Excel 使用的 Python 安装随模板分发的 JX 安装包（python -m pip install "
              f"jx_selfeval-<版本>-py3-none-any.whl）；或在已装 JX 的 Python 中{config}；{restart}",
              patterns=("No module named", "ModuleNotFoundError")),
        Cause("version_mismatch",
              f"提示 Object required（中文 Excel 为“要求对象”），或自检报告 xlwings 版本不是 {v}",
              f"安装的 xlwings 与模板中的 VBA 不配套：模板按 xlwings {v} 生成",
              f"运行 python -m pip install \"xlwings=={v}\"；不要单独升级 xlwings，也不要点 xlwings 的 Import Functions；"
              f"{restart}",
              patterns=("Object required", "要求对象")),
        Cause("edition_missing",
              "单元格或自检提示“本机没有评分标准版本……”",
              "本机安装的 JX 中没有这个工作簿记录的评分标准版本（名为“评分标准版本”的单元格）",
              "安装与模板配套的 JX 安装包，或把该版本的 .toml 文件放进环境变量 JX_RUBRIC_PATH 指定的文件夹；"
              "在命令提示符运行 jx rubric list 可查看本机已安装的版本",
              patterns=("本机没有评分标准版本",)),
        Cause("result_mismatch",
              "自检报告“计分结果不符”，提示“……中没有函数 JX_…”，或分数与 jx recalc 算出的不同",
              "本机安装的 JX 与模板不是同一版本：评分规则或函数不同",
              "安装随模板分发的同一版本 JX 安装包；或用 jx template --rubric 按本机已安装的版本重新生成模板",
              patterns=("中没有函数", "has no attribute 'JX_")),
        Cause("unknown",
              "其他英文错误信息，或 Python 回溯（Traceback）",
              "上面没有列出的问题",
              "在命令提示符运行 jx doctor 逐项检查；仍无法解决时，把自检结果（含“原始信息”一行）截图发给技术支持"),
    )


CAUSES = causes()
FALLBACK = "unknown"


def cause(key: str, table: Sequence[Cause] = CAUSES) -> Cause:
    return next(c for c in table if c.key == key)


def diagnose(description: str, number: int, table: Sequence[Cause] = CAUSES) -> Cause:
    """The cause of an error raised in Excel, from ``Err.Description`` and ``Err.Number``.

    The VBA ``JxDiagnose`` applies exactly these rules in this order.
    """
    for c in table:
        if c.matches(description or "", number):
            return c
    return cause(FALLBACK, table)


def troubleshooting_rows(table: Sequence[Cause] = CAUSES) -> list[tuple[str, str, str]]:
    """The 填报说明 table below :data:`TROUBLESHOOTING_HEADER`: (症状, 可能原因, 怎么办) per cause."""
    return [(c.symptom, c.cause, c.remedy) for c in table]


def instruction_lines() -> list[str]:
    """How to run the self-check, for the 填报说明 sheet (above the result block)."""
    return [
        f"按 Alt+F8，选择 {MACRO_NAME}，点“执行”：自检会连接 Python、试算一次评分等级，"
        f"并把结果写在下方“{RESULT_NAME}”处（每项“通过”或“未通过”，未通过时写明可能原因和怎么办）。",
        "宏未启用时无法运行自检：请先看下表前两行。不用 Excel 时，可在命令提示符运行 jx doctor 做同样的检查。",
    ]


# ------------------------------------------------------------------ the checks' expected values


@dataclass(frozen=True)
class CheckCase:
    """One call the macro makes, with the value computed by Python when the template is built."""

    function: str
    args: tuple[Any, ...]
    expected: Any

    @property
    def label(self) -> str:
        shown = ", ".join(f'"{a}"' if isinstance(a, str) else _number(a) for a in self.args)
        return f"{self.function}({shown})"


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def check_cases(rubric) -> list[CheckCase]:
    """JX_GRADE on each side of every grade boundary, then JX_TARGET_MET, as the edition computes them."""
    from jx.errors import JXInputError
    from jx.functions import functions
    from jx.rubric import GRADE_FUNCTION, TARGET_FUNCTION

    table = functions(rubric)
    step = 10 ** -rubric.decimals
    totals: list[float] = []
    for band in rubric.grade.bands:
        for bound in (band.lower, band.upper):
            if bound is not None:
                totals += [round(bound - step, rubric.decimals), float(bound)]
    totals.append(float(rubric.total))
    cases = []
    for total in sorted(set(t for t in totals if 0 <= t <= rubric.total)):
        cases.append((GRADE_FUNCTION, (total,)))
    cases += [(TARGET_FUNCTION, ("≥90%", 0.95)), (TARGET_FUNCTION, ("10 次", 7.0))]
    out = []
    for name, args in cases:
        try:
            expected = table[name](*args)
        except (JXInputError, KeyError):
            continue
        if isinstance(expected, (str, bool, int, float)):
            out.append(CheckCase(name, args, expected))
    return out


# ------------------------------------------------------------------ VBA generation


class _Texts:
    """The module's Chinese texts, numbered; rendered as ``JxText(id)`` over a few ``Select Case`` functions."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __call__(self, text: str) -> str:
        """A VBA expression for ``text``: ``JxText(n)`` (plain ASCII stays a literal)."""
        if text.isascii() and text.isprintable() and '"' not in text:
            return f'"{text}"'
        if text not in self.items:
            self.items.append(text)
        return f"JxText({self.items.index(text) + 1})"

    def render(self, chunk: int = 6000) -> list[str]:
        """``JxText(id)`` dispatching to functions of at most ``chunk`` source characters each.

        VBA refuses procedures whose compiled code passes 64 KB ("Procedure too
        large"); the Chinese texts as ChrW calls are long, so they are spread.
        """
        groups: list[list[tuple[int, list[str]]]] = [[]]
        size = 0
        for i, text in enumerate(self.items, start=1):
            statements = vba_unicode_assign("t", text)
            length = sum(len(s) + 10 for s in statements)
            if groups[-1] and size + length > chunk:
                groups.append([])
                size = 0
            groups[-1].append((i, statements))
            size += length
        lines = ["Private Function JxText(ByVal id As Long) As String"]
        for g, group in enumerate(groups, start=1):
            last = group[-1][0]
            keyword = "If" if g == 1 else "ElseIf"
            lines.append(f"    {keyword} id <= {last} Then")
            lines.append(f"        JxText = JxText{g}(id)")
        lines += ["    End If", "End Function"]
        for g, group in enumerate(groups, start=1):
            lines += ["", f"Private Function JxText{g}(ByVal id As Long) As String",
                      "    Dim t As String", "    Select Case id"]
            for i, statements in group:
                lines.append(f"    Case {i}")
                lines += ["        " + s for s in statements]
            lines += ["    End Select", f"    JxText{g} = t", "End Function"]
        return lines


def _literal(value: Any, texts: _Texts) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return texts(value)
    if float(value).is_integer():
        return f"CDbl({int(value)})"  # a Double, as a cell passes it, not an Integer
    return repr(float(value))


def _diagnose_source(table: Sequence[Cause]) -> list[str]:
    lines = ["Private Function JxDiagnose(ByVal errDesc As String, ByVal errNum As Long) As Long",
             "    ' Generated from addin/selfcheck.py CAUSES: the same rules, in the same order, as diagnose().",
             "    Dim p As String"]
    for index, c in enumerate(table, start=1):
        if not (c.numbers or c.patterns):
            continue
        lines.append(f"    ' {index}: {c.key}")
        if c.numbers:
            condition = " Or ".join(f"errNum = {n}" for n in c.numbers)
            lines.append(f"    If {condition} Then JxDiagnose = {index}: Exit Function")
        for pattern in c.patterns:
            lines += ["    " + s for s in vba_unicode_assign("p", pattern)]
            lines.append(f"    If InStr(1, errDesc, p, vbTextCompare) > 0 Then JxDiagnose = {index}: Exit Function")
    fallback = [c.key for c in table].index(FALLBACK) + 1
    lines += [f"    JxDiagnose = {fallback}", "End Function"]
    return lines


def _cause_text_source(table: Sequence[Cause], texts: _Texts) -> list[str]:
    lines = ["Private Function JxCauseText(ByVal c As Long, ByVal part As Long) As String",
             "    ' part 1 = symptom, 2 = cause, 3 = remedy (the columns of the troubleshooting table)",
             "    Select Case c * 10 + part"]
    for index, c in enumerate(table, start=1):
        for part, text in enumerate((c.symptom, c.cause, c.remedy), start=1):
            lines.append(f"    Case {index * 10 + part}: JxCauseText = {texts(text)}")
    lines += ["    End Select", "End Function"]
    return lines


def _try_source(function: str, arity: int) -> list[str]:
    """A function that calls one wrapper of xlwings_udfs and catches what it raises."""
    params = ", ".join(f"ByVal a{i} As Variant" for i in range(1, arity + 1))
    call = ", ".join(f"a{i}" for i in range(1, arity + 1))
    name = f"JxTry_{function}"
    return [
        f"Private Function {name}({params}, res As Variant, errDesc As String, errNum As Long) As Boolean",
        "    On Error GoTo Failed",
        f"    res = xlwings_udfs.{function}({call})",
        f"    {name} = True",
        "    Exit Function",
        "Failed:",
        "    errDesc = Err.Description",
        "    errNum = Err.Number",
        "End Function",
    ]


def _cases_source(cases: Sequence[CheckCase], texts: _Texts) -> list[str]:
    """The calls of JxSelfCheck: per function, every case; one line per function."""
    lines: list[str] = []
    functions = list(dict.fromkeys(c.function for c in cases))
    for function in functions:
        mine = [c for c in cases if c.function == function]
        done = f"Done_{function}"
        lines += ["", f"    ' {function}: {len(mine)} values computed by Python when the template was built",
                  "    passed = 0",
                  f"    check = {texts(function + ' 计分测试')}"]
        for case in mine:
            for i, a in enumerate(case.args, start=1):
                lines.append(f"    a{i} = {_literal(a, texts)}")
            lines += [
                f"    expected = {_literal(case.expected, texts)}",
                f"    shown = {texts(case.label)}",
                f"    If Not JxTry_{function}({', '.join(f'a{i}' for i in range(1, len(case.args) + 1))}, "
                f"res, errDesc, errNum) Then JxFailError check, shown, errDesc, errNum: GoTo {done}",
                f"    If Not JxSame(res, expected) Then JxFailResult check, shown, expected, res: GoTo {done}",
                "    passed = passed + 1",
            ]
        lines += [f"    JxAdd {PASS_KIND}, check, CStr(passed) & {texts(' 个测试值均与 Python 建模板时算出的相同')}",
                  f"{done}:"]
    return lines



def selfcheck_source(rubric, version: str | None = None, table: Sequence[Cause] | None = None) -> str:
    """The ``jx_selfcheck`` module's code (after its Attribute header)."""
    v = version or xlwings_version()
    table = tuple(table) if table is not None else causes(v)
    keys = [c.key for c in table]
    index = {key: i for i, key in enumerate(keys, start=1)}
    cases = check_cases(rubric)
    t = _Texts()
    py = f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
    arity = max((len(c.args) for c in cases), default=1)
    arguments = ", ".join(f"a{i} As Variant" for i in range(1, arity + 1))

    main = [
        "Option Explicit",
        "' Generated by `jx template` (addin/selfcheck.py). Alt+F8 -> JxSelfCheck checks, from inside",
        "' Excel, the chain the JX functions need (xlwings' DLL, Python, xlwings, udfs, the edition, one",
        "' real JX_GRADE call) and writes the result in Chinese into the block that starts at the named",
        "' cell for the self-check result. Chinese text is built with ChrW: VBA source is cp1252.",
        "",
        f"Private Const JX_ROWS As Long = {RESULT_ROWS}",
        f"Private Const {PASS_KIND} As Long = 1",
        f"Private Const {FAIL_KIND} As Long = 2",
        f"Private Const {INFO_KIND} As Long = 0",
        "Private mLines(1 To JX_ROWS) As String",
        "Private mCount As Long",
        "Private mFailures As Long",
        "",
        f"Public Sub {MACRO_NAME}()",
        "    Dim py As Object, res As Variant, expected As Variant, " + arguments,
        "    Dim errDesc As String, errNum As Long, txt As String, check As String, shown As String",
        "    Dim edition As String, passed As Long",
        "    mCount = 0",
        "    mFailures = 0",
        f"    JxAdd {INFO_KIND}, {t('自检时间')}, Format(Now, \"yyyy-mm-dd hh:mm:ss\")",
        f"    JxAdd {PASS_KIND}, {t('宏已启用')}, {t('本检查能运行，说明宏可用')}",
        "    #If Win64 Then",
        "        txt = \"64\"",
        "    #Else",
        "        txt = \"32\"",
        "    #End If",
        f"    JxAdd {INFO_KIND}, {t('Office 位数')}, txt & {t(' 位，需要 ')} & \"xlwings\" & txt & \"-\" & XLWINGS_VERSION "
        "& \".dll\"",
        "    txt = JxSetting(\"INTERPRETER_WIN\")",
        f"    If txt = \"\" Then txt = {t('未设置，按 PATH 查找 pythonw.exe')}",
        "    If JxSetting(\"CONDA ENV\") <> \"\" Then txt = txt & \" / Conda: \" & JxSetting(\"CONDA ENV\")",
        f"    JxAdd {INFO_KIND}, {t('Excel 使用的 Python（xlwings 的 Interpreter_Win 设置）')}, txt",
        "",
        "    ' Python itself: XLPy loads xlwings' DLL and starts (or reaches) the Python COM server",
        f"    check = {t('连接 Python')}",
        "    If Not JxConnect(py, errDesc, errNum) Then",
        f"        JxFailError check, {t('启动 Python')}, errDesc, errNum",
        f"        JxAdd {INFO_KIND}, {t('其余检查需要先连上 Python，已跳过')}, \"\"",
        "        GoTo Summary",
        "    End If",
        "    If Not JxEval(py, \"__import__('sys').executable\", \"\", txt, errDesc, errNum) Then txt = \"?\"",
        f"    JxAdd {PASS_KIND}, check, txt",
        "",
        f"    check = {t('Python 版本')}",
        "    If Not JxEval(py, \"'%d.%d.%d' % __import__('sys').version_info[:3]\", \"\", shown, errDesc, errNum) Then",
        "        JxFailError check, \"sys.version_info\", errDesc, errNum",
        f"    ElseIf Not JxEval(py, \"str(__import__('sys').version_info >= {MIN_PYTHON!r})\", \"\", txt, errDesc, "
        "errNum) Then",
        "        JxFailError check, \"sys.version_info\", errDesc, errNum",
        "    ElseIf txt = \"True\" Then",
        f"        JxAdd {PASS_KIND}, check, shown",
        "    Else",
        f"        JxFailCause check, shown & {t(f'，低于 {py}')}, {index['python_old']}",
        "    End If",
        "",
        f"    check = {t('xlwings 版本')}",
        "    If Not JxEval(py, \"__import__('xlwings').__version__\", \"\", txt, errDesc, errNum) Then",
        "        JxFailError check, \"import xlwings\", errDesc, errNum",
        "    ElseIf txt <> XLWINGS_VERSION Then",
        f"        JxFailCause check, {t('Python 中为 ')} & txt & {t('，模板的 VBA 需要 ')} & XLWINGS_VERSION, "
        f"{index['version_mismatch']}",
        "    Else",
        f"        JxAdd {PASS_KIND}, check, txt",
        "    End If",
        "",
        f"    check = {t('JX（udfs 模块）')}",
        "    If Not JxEval(py, \"__import__('udfs').__name__\", \"\", txt, errDesc, errNum) Then",
        "        JxFailError check, \"import udfs\", errDesc, errNum",
        f"        JxAdd {INFO_KIND}, {t('计分测试需要 JX，已跳过')}, \"\"",
        "        GoTo Summary",
        "    End If",
        "    If Not JxEval(py, \"__import__('importlib.metadata', fromlist=['version']).version('jx-selfeval')\", "
        "\"\", txt, errDesc, errNum) Then txt = \"\"",
        f"    If txt <> \"\" Then txt = \"jx-selfeval \" & txt",
        f"    JxAdd {PASS_KIND}, check, txt",
        "",
        f"    check = {t('评分标准版本')}",
        "    edition = JxEdition()",
        "    If edition = \"\" Then",
        f"        JxFailCause check, {t('工作簿中没有名为“评分标准版本”的单元格，或它是空的')}, {index['edition_missing']}",
        "    ElseIf Not JxEval(py, \"str(e in __import__('jx.rubric', fromlist=['editions']).editions())\", "
        "edition, txt, errDesc, errNum) Then",
        "        JxFailError check, edition, errDesc, errNum",
        "    ElseIf txt <> \"True\" Then",
        "        If Not JxEval(py, \"', '.join(__import__('jx.rubric', fromlist=['editions']).editions())\", "
        "\"\", txt, errDesc, errNum) Then txt = \"?\"",
        f"        JxFailCause check, {t('本机没有版本 ')} & edition & {t('（已安装：')} & txt & {t('）')}, "
        f"{index['edition_missing']}",
        "    Else",
        f"        JxAdd {PASS_KIND}, check, edition & {t(' 已安装')}",
        "    End If",
    ]
    main += _cases_source(cases, t)
    main += [
        "",
        "Summary:",
        "    If mFailures = 0 Then",
        f"        JxAdd {INFO_KIND}, {t('全部通过：Excel 能调用 Python 计分')}, \"\"",
        "    Else",
        f"        JxAdd {INFO_KIND}, {t('有 ')} & CStr(mFailures) & "
        f"{t(' 项未通过：请按上面写的“怎么办”处理；也可在命令提示符运行 jx doctor 逐项检查')}, \"\"",
        "    End If",
        "    JxWrite",
        "End Sub",
    ]
    helpers = [
        "",
        "Private Sub JxAdd(ByVal kind As Long, ByVal label As String, ByVal detail As String)",
        "    Dim ln As String",
        f"    If kind = {PASS_KIND} Then ln = {t(PASS)}",
        f"    If kind = {FAIL_KIND} Then ln = {t(FAIL)}: mFailures = mFailures + 1",
        f"    If kind = {INFO_KIND} Then ln = {t(INFO)}",
        "    ln = ln & label",
        f"    If detail <> \"\" Then ln = ln & {t('：')} & detail",
        "    JxLine ln",
        "End Sub",
        "",
        "Private Sub JxLine(ByVal ln As String)",
        "    If mCount >= JX_ROWS Then Exit Sub",
        "    mCount = mCount + 1",
        f"    If mCount = JX_ROWS Then ln = {t('……（结果太多，其余从略）')}",
        "    mLines(mCount) = ln",
        "End Sub",
        "",
        "Private Sub JxExplain(ByVal c As Long)",
        f"    JxLine {t('    可能原因：')} & JxCauseText(c, 2)",
        f"    JxLine {t('    怎么办：')} & JxCauseText(c, 3)",
        "End Sub",
        "",
        "Private Sub JxFailCause(ByVal label As String, ByVal detail As String, ByVal c As Long)",
        f"    JxAdd {FAIL_KIND}, label, detail",
        "    JxExplain c",
        "End Sub",
        "",
        "Private Sub JxFailError(ByVal label As String, ByVal what As String, ByVal errDesc As String, "
        "ByVal errNum As Long)",
        f"    JxAdd {FAIL_KIND}, label, what & {t(' 出错')}",
        "    JxExplain JxDiagnose(errDesc, errNum)",
        f"    JxLine {t('    原始信息：')} & CStr(errNum) & \" \" & JxClean(errDesc)",
        "End Sub",
        "",
        "Private Sub JxFailResult(ByVal label As String, ByVal what As String, expected As Variant, res As Variant)",
        f"    JxAdd {FAIL_KIND}, label, what & {t(' 应为 ')} & JxShow(expected) & {t('，实际为 ')} & JxShow(res)"
        f" & {t('（计分结果不符）')}",
        f"    JxExplain {index['result_mismatch']}",
        "End Sub",
        "",
        "Private Function JxClean(ByVal s As String) As String",
        "    s = Replace(Replace(Replace(s, vbCrLf, \" / \"), vbCr, \" / \"), vbLf, \" / \")",
        f"    If Len(s) > {_RAW_LIMIT} Then s = \"... \" & Right$(s, {_RAW_LIMIT})",
        "    JxClean = s",
        "End Function",
        "",
        "Private Function JxShow(v As Variant) As String",
        "    On Error GoTo Unknown",
        "    If IsObject(v) Then JxShow = \"(object)\": Exit Function",
        "    If IsArray(v) Then JxShow = \"(array)\": Exit Function",
        "    If IsEmpty(v) Then JxShow = \"(empty)\": Exit Function",
        "    If VarType(v) = vbBoolean Then",
        "        If v Then JxShow = \"TRUE\" Else JxShow = \"FALSE\"",
        "        Exit Function",
        "    End If",
        "    JxShow = CStr(v)",
        "    Exit Function",
        "Unknown:",
        "    JxShow = \"?\"",
        "End Function",
        "",
        "Private Function JxSame(res As Variant, expected As Variant) As Boolean",
        "    On Error GoTo Different",
        "    If IsObject(res) Or IsArray(res) Or IsError(res) Then Exit Function",
        "    Select Case VarType(expected)",
        "    Case vbString",
        "        If VarType(res) = vbString Then JxSame = (StrComp(res, expected, vbBinaryCompare) = 0)",
        "    Case vbBoolean",
        "        If VarType(res) = vbBoolean Then JxSame = (res = expected)",
        "    Case Else",
        "        Select Case VarType(res)",
        "        Case vbDouble, vbSingle, vbInteger, vbLong, vbCurrency, vbDecimal",
        "            JxSame = (Abs(CDbl(res) - CDbl(expected)) < 0.000001)",
        "        End Select",
        "    End Select",
        "Different:",
        "End Function",
        "",
        "Private Function JxSetting(ByVal key As String) As String",
        "    On Error GoTo Missing",
        "    JxSetting = CStr(GetConfig(key, \"\"))",
        "Missing:",
        "End Function",
        "",
        "Private Function JxConnect(py As Object, errDesc As String, errNum As Long) As Boolean",
        "    On Error GoTo Failed",
        "    Set py = XLPy()",
        "    JxConnect = True",
        "    Exit Function",
        "Failed:",
        "    errDesc = Err.Description",
        "    errNum = Err.Number",
        "End Function",
        "",
        "Private Function JxEval(py As Object, ByVal expr As String, ByVal arg As String, res As String, "
        "errDesc As String, errNum As Long) As Boolean",
        "    ' Evaluate a Python expression in Excel's Python; the name e holds arg.",
        "    On Error GoTo Failed",
        "    res = py.Str(py.Eval(expr, py.Dict(\"e\", arg)))",
        "    JxEval = True",
        "    Exit Function",
        "Failed:",
        "    errDesc = Err.Description",
        "    errNum = Err.Number",
        "End Function",
        "",
        "Private Sub JxWrite()",
        "    Dim anchor As Range, i As Long, txt As String",
        "    On Error GoTo NoBlock",
        f"    Set anchor = ThisWorkbook.Names({t(RESULT_NAME)}).RefersToRange.Cells(1, 1)",
        "    anchor.Resize(JX_ROWS, 1).ClearContents",
        "    For i = 1 To mCount",
        "        anchor.Offset(i - 1, 0).Value = mLines(i)",
        "    Next i",
        "    anchor.Worksheet.Activate",
        "    anchor.Select",
        "    Exit Sub",
        "NoBlock:",
        "    txt = \"\"",
        "    For i = 1 To mCount",
        "        txt = txt & mLines(i) & vbLf",
        "    Next i",
        "    MsgBox txt, vbInformation, \"JX\"",
        "End Sub",
    ]
    for function, arity in dict.fromkeys((c.function, len(c.args)) for c in cases):
        helpers += [""] + _try_source(function, arity)
    helpers += [""] + _diagnose_source(table)
    helpers += [""] + _cause_text_source(table, t)
    helpers += [""] + t.render()  # last: every text above has been numbered by now
    return "\n".join(main + helpers) + "\n"


def selfcheck_module(rubric, version: str | None = None) -> VbaModule:
    """The ``jx_selfcheck`` standard module for the template of ``rubric``."""
    return VbaModule(MODULE_NAME, "standard", selfcheck_source(rubric, version))


