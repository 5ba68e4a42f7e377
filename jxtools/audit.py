"""Audit a filled workbook: recompute every indicator with the canonical rules.

What the workbook shows (cached results, or scores typed by hand) is set
against what the rules give from the workbook's own inputs, indicator by
indicator, with the reason for each deduction in the report's style. Inputs
that contradict each other are flagged too. Nothing here writes to the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from addin.layout import Call, Layout, arguments, layout
from jx.errors import JXInputError, message_in_cell
from jx.excel import excel_round
from jx.functions import Score, explain, functions
from jx.rubric import GRADE_FUNCTION, Rubric
from jx.shapes import EvaluatorPart
from jx.targets import target_met

from .reading import EXCEL_ERROR_TEXT, WorkbookData, read_workbook
from .workbook_io import WorkbookError, display_name

TOLERANCE = 0.005  # half a unit of the second decimal: scores are shown to 2 decimals


@dataclass
class Finding:
    indicator: str
    name: str
    level1: str
    max: float
    claimed: Any
    recomputed: float | None
    error: str | None = None
    notes: tuple[str, ...] = ()
    measures: tuple[tuple[str, float], ...] = ()  # the rates behind the points (政府采购执行率 0.8947…)
    inputs: tuple[tuple[str, Any], ...] = ()  # what the score function received, by input name

    @property
    def difference(self) -> float | None:
        if _is_number(self.claimed) and self.recomputed is not None:
            return excel_round(self.claimed - self.recomputed, 2)
        return None

    @property
    def status(self) -> str:
        """一致 / 不一致 / 未计算 / 输入错误."""
        if self.error is not None:
            shown = message_in_cell(self.claimed)
            return "一致（输入错误）" if shown == self.error else "输入错误"
        if self.claimed is None:
            return "未计算"
        if not _is_number(self.claimed) or abs(self.claimed - self.recomputed) >= TOLERANCE:
            return "不一致"
        return "一致"

    @property
    def agrees(self) -> bool:
        return self.status.startswith("一致")


@dataclass
class AuditReport:
    file: str
    edition: str | None = None
    department: Any = None
    year: Any = None
    findings: list[Finding] = field(default_factory=list)
    claimed_total: Any = None
    total: float | None = None
    claimed_grade: Any = None
    grade: str | None = None
    targets: int = 0
    missed_targets: list[dict[str, Any]] = field(default_factory=list)
    unjudged_targets: list[dict[str, Any]] = field(default_factory=list)  # 无法判定: with the reason
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    digest: str = ""  # SHA-256 of the file (byte-identical copies share it)

    @property
    def disagreements(self) -> list[Finding]:
        return [f for f in self.findings if not f.agrees]

    @property
    def ok(self) -> bool:
        total_agrees = (self.total is not None and _is_number(self.claimed_total)
                        and abs(self.claimed_total - self.total) < TOLERANCE)
        return (self.error is None and not self.disagreements and not self.flags
                and total_agrees and self.claimed_grade == self.grade)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for finding, raw in zip(self.findings, data["findings"]):
            raw["difference"] = finding.difference
            raw["status"] = finding.status
        data["ok"] = self.ok
        return data


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _input_values(data: WorkbookData, lay: Layout) -> dict[str, Any]:
    return {f.name: data.value(f.name) for f in lay.fields}


class _Located(JXInputError):
    """An input error with the cell it is about (``基础数据!D40``)."""


def _where(name: str, data: WorkbookData) -> str | None:
    return data.where(name) if data.has(name) else None


def _locate(error: JXInputError, call: Call, lay: Layout, data: WorkbookData) -> JXInputError:
    """The error with the cell of the input it names: by the argument it is about, else every input read."""
    if isinstance(error, _Located):
        return error
    f = functions(lay.rubric)[call.function]
    source = getattr(error, "source", None)
    names = [a.name for a in f.args]
    if source in names and names.index(source) < len(call.args):
        arg = call.args[names.index(source)]
        if isinstance(arg, str) and _where(arg, data):
            return _Located(f"{error.message}（{_where(arg, data)}）")
    cells = "、".join(f"{n}={_where(n, data)}" for n in dict.fromkeys(call.names()) if _where(n, data))
    return _Located(f"{error.message}（相关输入：{cells}）" if cells else error.message)


def score(call: Call, indicator: str, values: dict[str, Any], lay: Layout, data: WorkbookData) -> Score:
    """An indicator's points and notes, recomputed from the inputs with the formula the cell holds."""
    args = arguments(call, values, lay, lambda c, e: _locate(e, c, lay, data))
    try:
        return explain(lay.rubric, indicator, args)
    except _Located:
        raise
    except JXInputError as error:
        raise _locate(error, call, lay, data) from None


def _targets(data: WorkbookData, rubric: Rubric) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of 年度绩效指标完成情况: how many, which were missed, which cannot be judged (and why)."""
    if not data.has("预期指标值"):
        return 0, [], []
    goals = data.column("预期指标值")
    actuals = dict(data.column("实际完成值"))
    labels = dict(data.column("预期指标值", offset=-1))  # 三级指标 stands left of 预期指标值
    sheet, goal_ref = data.names["预期指标值"]
    _sheet, actual_ref = data.names["实际完成值"]
    goal_col, actual_col = (re.match(r"[A-Z]+", ref).group(0) for ref in (goal_ref, actual_ref))
    count, missed, unjudged = 0, [], []
    for row, goal in goals:
        actual = actuals.get(row)
        if goal is None and actual is None:
            continue
        count += 1
        entry = {"row": row, "name": labels.get(row), "target": goal, "actual": actual,
                 "where": f"{sheet}!{goal_col}{row}:{actual_col}{row}"}
        try:
            met = target_met(goal, actual, rubric)
        except JXInputError as error:
            unjudged.append(entry | {"reason": error.message})
            continue
        if not met:
            missed.append(entry)
    return count, missed, unjudged


def _sum_column(data: WorkbookData, name: str) -> float | None:
    if not data.has(name):
        return None
    values = [v for _row, v in data.column(name) if v is not None]
    if not values or not all(_is_number(v) for v in values):
        return None
    return sum(values)


def audit_data(data: WorkbookData) -> AuditReport:
    """Recompute every indicator of a workbook read by :func:`read_workbook`, by its own edition."""
    rubric = data.rubric
    lay = layout(rubric)
    report = AuditReport(file=data.label, edition=rubric.id, digest=data.digest)
    values = _input_values(data, lay)
    report.department, report.year = values.get("部门名称"), values.get("预算年度")
    for row in lay.scores:
        ind = rubric.indicator(row.indicator)
        claimed = data.shown(row.name)
        finding = Finding(ind.id, ind.name, ind.level1, ind.max, claimed, None)
        try:
            result = score(row.call, ind.id, values, lay, data)
            finding.recomputed, finding.notes = result.points, result.notes
            finding.measures, finding.inputs = result.measures, result.inputs
        except JXInputError as error:
            finding.error = error.message.split("（")[0] if isinstance(error, _Located) else error.message
            finding.notes = (error.message,)
        report.findings.append(finding)

    grade = functions(rubric)[GRADE_FUNCTION]
    if all(f.recomputed is not None for f in report.findings):
        report.total = excel_round(sum(f.recomputed for f in report.findings), rubric.decimals)
        report.grade = grade(report.total)
    report.claimed_total = data.shown("综合评分") if data.has("综合评分") else None
    report.claimed_grade = data.shown("评分等级") if data.has("评分等级") else None

    report.targets, report.missed_targets, report.unjudged_targets = _targets(data, rubric)
    report.flags += [d.text for d in data.deviations] + data.flags
    report.flags += [f"年度绩效指标无法判定：{u['where']}（{u['name']}）：{u['reason']}" for u in report.unjudged_targets]
    _cross_checks(report, values, data, rubric)
    return report


def _cross_checks(report: AuditReport, values: dict[str, Any], data: WorkbookData, rubric: Rubric) -> None:
    """Inputs and results that contradict each other."""
    judged = {ind.id: ind.level2 for ind in rubric.indicators
              if any(isinstance(p, EvaluatorPart) and p.against_targets for p in ind.parts)}
    for finding in report.findings:
        if finding.indicator in judged and finding.recomputed == finding.max and report.missed_targets:
            shown = "、".join(f"{m['name']}（{m['target']}→{m['actual']}）" for m in report.missed_targets[:6])
            more = "等" if len(report.missed_targets) > 6 else ""
            report.flags.append(f"{judged[finding.indicator]}得满分 {finding.max:g} 分，但年度绩效指标有 "
                                f"{len(report.missed_targets)} 项未达成：{shown}{more}；"
                                "评分标准要求“未实现绩效目标的酌情扣分”")
    budget, spent = _sum_column(data, "任务预算数"), _sum_column(data, "任务执行数")
    budget_name = rubric.self_evaluation.get("budget_total")
    spent_name = rubric.self_evaluation.get("spent_total")
    total_budget, total_spent = values.get(budget_name), values.get(spent_name)
    if budget is not None and _is_number(total_budget) and abs(budget - total_budget) >= 0.005:
        report.flags.append(f"自评表主要任务预算数合计 {budget:,.2f} 元与{budget_name} {total_budget:,.2f} 元不符")
    if spent is not None and _is_number(total_spent) and abs(spent - total_spent) >= 0.005:
        report.flags.append(f"自评表主要任务执行数合计 {spent:,.2f} 元与{spent_name} {total_spent:,.2f} 元不符")
    shown_scores = [f.claimed for f in report.findings]
    if all(_is_number(s) for s in shown_scores) and _is_number(report.claimed_total):
        arithmetic = excel_round(sum(shown_scores), rubric.decimals)
        if abs(arithmetic - report.claimed_total) >= TOLERANCE:
            report.flags.append(f"综合评分 {report.claimed_total:g} 与各指标分数之和 {arithmetic:g} 不符")
        try:
            implied = functions(rubric)[GRADE_FUNCTION](report.claimed_total)
        except JXInputError:
            implied = None
        if report.claimed_grade not in (None, implied):
            report.flags.append(f"评分等级“{report.claimed_grade}”与综合评分 {report.claimed_total:g} 对应的等级“{implied}”不符")
    if isinstance(report.claimed_total, str) and report.claimed_total in EXCEL_ERROR_TEXT and report.total is not None:
        report.flags.append(f"综合评分显示 {report.claimed_total}，复核可得 {report.total:g}")


MAX_LISTED = 5  # input errors named in one message


def input_errors(report: AuditReport, consequence: str = "无法评分", named: bool = True) -> str | None:
    """One Chinese message naming every input the rules refused (and its cell), or None when all were scored.

    ``named``: begin with the file's name (not where a file column says it already).
    """
    broken = [f for f in report.findings if f.error is not None]
    if not broken:
        return None
    lines = "；".join(f"{f.name}：{f.notes[0] if f.notes else f.error}" for f in broken[:MAX_LISTED])
    more = f"；等共 {len(broken)} 项" if len(broken) > MAX_LISTED else ""
    return f"{report.file}：" * named + f"输入有误，{consequence}——{lines}{more}"


def trusted(source, label: str | None = None, rubric: Rubric | None = None) -> tuple[WorkbookData, AuditReport]:
    """Read, check and score a workbook: what every command says about it.

    Raises :class:`WorkbookError` (one Chinese message naming file and cell)
    for a file that cannot be read or is not the template of its edition; the
    same file is refused by every command. An input the rules refuse is a
    finding of the report (its indicator has ``error``), shown by every
    command alike, never a plausible total.
    """
    data = read_workbook(source, label, rubric)
    return data, audit_data(data)


def audit_file(source, label: str | None = None, rubric: Rubric | None = None) -> AuditReport:
    """Audit one workbook (a path, bytes or a binary file object); an unreadable or refused one gives ``error``.

    Per-file work needs nothing but its input, so it runs unchanged in a process
    pool or on any engine that maps a function over files.
    """
    name = label or (display_name(source) if isinstance(source, (str, Path)) else "工作簿")
    try:
        return trusted(source, label, rubric)[1]
    except WorkbookError as error:
        return AuditReport(file=name, error=str(error))
    except Exception as error:  # one odd file must never stop a batch or show a traceback
        return AuditReport(file=name, error=f"{name}：无法处理（{type(error).__name__}: {error}）")


def deduction_reasons(report: AuditReport) -> list[str]:
    """Every deduction, in the report's style: ``编外人员控制率（扣1分）：…``."""
    lines = []
    for f in report.findings:
        if f.recomputed is not None and f.recomputed < f.max:
            lines.append(f"{f.name}（扣{excel_round(f.max - f.recomputed, 2):g}分）：{'；'.join(f.notes)}")
    return lines


# ----------------------------------------------------------------------------- conclusions
#
# Every file gets exactly one 结论: the audit table, the bureau workbook and the CLI counts use these.

UNREADABLE, INPUT_ERROR, SCORES_DIFFER, ATTENTION, AGREES = "无法读取", "输入错误", "分数不一致", "需注意", "一致"


def _score_differences(report: AuditReport) -> list[Finding]:
    """Indicators whose shown score is not the recomputed one (not computed at all counts too)."""
    return [f for f in report.findings if f.error is None and not f.agrees]


def _total_agrees(report: AuditReport) -> bool:
    return (report.total is not None and _is_number(report.claimed_total)
            and abs(report.claimed_total - report.total) < TOLERANCE)


# The one place the precedence lives: the first test that holds names the file's 结论.
_TESTS: tuple[tuple[str, Callable[[AuditReport], bool]], ...] = (
    (UNREADABLE, lambda r: r.error is not None),
    (INPUT_ERROR, lambda r: any(f.error is not None for f in r.findings)),
    (SCORES_DIFFER, lambda r: bool(_score_differences(r)) or not _total_agrees(r) or r.claimed_grade != r.grade),
    (ATTENTION, lambda r: bool(r.flags)),
)
CONCLUSIONS: tuple[str, ...] = (*(name for name, _test in _TESTS), AGREES)  # highest precedence first


def conclusion(report: AuditReport) -> str:
    """The file's one 结论: 无法读取, 输入错误, 分数不一致, 需注意 or 一致 (which is ``report.ok``).

    无法读取: the file was refused (``report.error``). 输入错误: the rules refused
    some input, so there is no total. 分数不一致: an indicator's shown score, the
    综合评分 or the 评分等级 is not what the rules give. 需注意: the scores agree
    but something contradicts them (``report.flags``).
    """
    return next((name for name, applies in _TESTS if applies(report)), AGREES)


__all__ = ["CONCLUSIONS", "AuditReport", "Finding", "audit_data", "audit_file", "conclusion", "deduction_reasons",
           "input_errors", "trusted"]
