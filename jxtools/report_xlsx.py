"""Audit and batch results as workbooks a finance bureau can sort and filter."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from jx.rubric import RubricError, load_rubric

from .audit import AuditReport

BOLD = Font(bold=True)
BAD = PatternFill("solid", fgColor="FCE4D6")


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _header(ws, headers: Sequence[str]) -> None:
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = BOLD
    ws.freeze_panes = "A2"


def summary_workbook(reports: Sequence[AuditReport]) -> bytes:
    """One row per workbook: department, every indicator, total, grade, flags, error."""
    indicators = _indicators(reports)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    _header(ws, ["文件", "部门", "年度", *indicators.values(),
                 "综合评分（复核）", "评分等级（复核）", "综合评分（填报）", "评分等级（填报）",
                 "复核结论", "未达成指标数", "需要注意", "错误"])
    for r in reports:
        scores = {f.indicator: (f.recomputed if f.error is None else f"错误：{f.error}") for f in r.findings}
        conclusion = "无法读取" if r.error else ("一致" if r.ok else "不一致或需注意")
        ws.append([r.file, r.department, r.year, *[scores.get(i) for i in indicators],
                   r.total, r.grade, _plain(r.claimed_total), _plain(r.claimed_grade), conclusion,
                   None if r.error else len(r.missed_targets),
                   "\n".join(r.flags + [f"{f.name}：填报 {f.claimed}，复核 {f.recomputed}" for f in r.disagreements
                                        if f.error is None and f.claimed is not None]),
                   r.error])
        if not r.ok:
            for cell in ws[ws.max_row]:
                cell.fill = BAD
    ws.auto_filter.ref = ws.dimensions
    return _save(wb)


def _indicators(reports: Sequence[AuditReport]) -> dict[str, str]:
    """Indicator id → name over every edition the reports were scored by, in order."""
    out: dict[str, str] = {}
    for r in reports:
        for f in r.findings:
            out.setdefault(f.indicator, f.name)
    return out


def _plain(value):
    return value if isinstance(value, (int, float, str)) or value is None else str(value)


def audit_workbook(reports: Sequence[AuditReport]) -> bytes:
    """Indicator by indicator: claimed, recomputed, difference, conclusion, reason."""
    wb = Workbook()
    ws = wb.active
    ws.title = "复核结果"
    _header(ws, ["文件", "部门", "一级指标", "三级指标", "分值", "填报分数", "复核分数", "差异", "结论", "扣分原因或错误"])
    for r in reports:
        if r.error:
            ws.append([r.file, None, None, None, None, None, None, None, "无法读取", r.error])
            continue
        for f in r.findings:
            ws.append([r.file, r.department, f.level1, f.name, f.max, _plain(f.claimed), f.recomputed,
                       f.difference, f.status, "；".join(f.notes)])
            if not f.agrees:
                for cell in ws[ws.max_row]:
                    cell.fill = BAD
        ws.append([r.file, r.department, None, "综合评分", 100, _plain(r.claimed_total), r.total, None,
                   "一致" if r.ok else "不一致或需注意", r.grade])
    flags = wb.create_sheet("需要注意")
    _header(flags, ["文件", "部门", "问题"])
    for r in reports:
        for flag in r.flags:
            flags.append([r.file, r.department, flag])
    return _save(wb)
