"""Differential proof: the native-formula copy, recalculated by LibreOffice, scores as Python does.

More than 500 input sets (every boundary of the rubric data just below, at and
just above; the check vocabulary; bad inputs of every kind; seeded random
sets) are written into one exported workbook each, all recalculated by
LibreOffice in two soffice runs side by side, and compared cell by cell with
the Python functions: every converted JX cell of 评分表 and 预算执行, the three
sub-totals, 综合评分 and 评分等级. A bad input must give the same Chinese text
as the add-in and turn the sub-total and the total into an error on both sides.

Also here: the reference report (96.51, 优, 12 targets missed, every one of the
181 rows as Python reads it), extra target texts (with the documented
differences), ROUND at its known edge cases, a mutated rubric (the native text
follows the data), and the proof that LibreOffice really recalculates.
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import udfs
from addin import model
from jxtools.export import export_workbook
from jxtools.libreoffice import RECALC_NEVER, read_values, recalculate_in_parallel, recalculate_with_libreoffice
from addin.template import INPUT_SHEET, SELF_SHEET, Filled, build
from jxtools.workbook_io import defined_names, sheet_paths
from conftest import ROOT, load_toml, needs_libreoffice
from jx import load_rubric, rules
from jx.errors import JXInputError
from jx.excel import excel_round
from jx.rubric import Rubric
from jx.targets import target_met

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, needs_libreoffice()]

RUBRIC = load_rubric("shenzhen-2020")
FIELDS = {f.name: f for f in model.fields(RUBRIC)}
REFERENCE = load_toml(ROOT / "examples" / "shenzhen-sast-2020.toml")["inputs"]
TABLES = load_toml(ROOT / "examples" / "reference-tables.toml")
ERROR = object()  # Python raised where the spreadsheet shows an error value (#VALUE!)
SUBTOTALS = [f"{name}得分" for name, _ in RUBRIC.level1]


# ------------------------------------------------------------------ the input sets


@dataclass
class Case:
    name: str
    values: dict[str, Any]
    full_export: bool = False  # build the filled template and export it (not a patched copy)


def _with(name: str, **changes: Any) -> Case:
    return Case(name, {**REFERENCE, **changes})


def _checks(indicator_id: str) -> list[str]:
    return [c["input"] for c in RUBRIC.indicator(indicator_id).params["checks"]]


def _around(value: float, step: float) -> list[tuple[str, float]]:
    return [("just below", value - step), ("at", value), ("just above", value + step)]


def threshold_cases() -> list[Case]:
    """Every boundary of the rubric data, just below, at and just above."""
    cases: list[Case] = []
    # banded rates built from amounts: 固定资产利用率
    total = 1_000_000.00
    for band in RUBRIC.indicator("asset_use").bands()[:-1]:
        for where, in_use in _around(round(band.upper * total, 2), 0.01):
            cases.append(_with(f"固定资产利用率 {where} {band.upper:.0%}", 在用固定资产=round(in_use, 2), 固定资产总额=total))
    # 财政供养人员控制率 from counts
    for band in RUBRIC.indicator("funded_staff").bands()[:-1]:
        authorized = 20
        for where, on_staff in _around(band.upper * authorized, 1):
            cases.append(_with(f"财政供养 {where} {band.upper:.0%}", 在编人数=int(on_staff), 核定编制数=authorized))
    # 编外人员控制率 from counts: 编外 / (在编 + 编外) = boundary exactly, and one person either side
    for band in RUBRIC.indicator("staff").bands()[:-1]:
        outside = round(band.upper * 1000)
        for where, on_staff in (("just below", 1000 - outside + 1), ("at", 1000 - outside),
                                ("just above", 1000 - outside - 1)):
            cases.append(_with(f"编外 {where} {band.upper:.0%}", 编外人数=outside, 在编人数=on_staff))
    # 公用经费控制率, both parts
    budget = 100_000.00
    for band in RUBRIC.indicator("public_funds").bands()[:-1]:
        for where, actual in _around(round(band.upper * budget, 2), 0.01):
            cases.append(_with(f"三公 {where} {band.upper:.0%}", 三公经费支出=round(actual, 2), 三公经费预算=budget))
            cases.append(_with(f"日常公用 {where} {band.upper:.0%}", 日常公用经费支出=round(actual, 2), 日常公用经费预算=budget))
    # 满意度 typed as a rate
    for band in RUBRIC.indicator("satisfaction").bands()[:-1]:
        for where, rate in _around(band.upper, 0.0001):
            cases.append(_with(f"满意度 {where} {band.upper:.0%}", 满意度=round(rate, 4)))
    cases.append(_with("满意度 100%", 满意度=1))
    cases.append(_with("满意度 0", 满意度=0))
    # 财务合规性: the 10% limit, and the pro-rata deduction beyond it
    p = RUBRIC.indicator("compliance").params
    total_budget = REFERENCE["预算总指标"]
    limit = p["adjustment_limit"]
    for where, adjusted in _around(round(limit * total_budget, 2), 0.01):
        cases.append(_with(f"调整调剂 {where} {limit:.0%}", 调整调剂资金=round(adjusted, 2)))
    for steps in (0.5, 1, 3.5, 5, 9.99, 10, 10.01, 15):
        share = limit + steps * p["adjustment_step"]
        cases.append(_with(f"调整调剂 超出 {steps} 个百分点", 调整调剂资金=round(share * total_budget, 2)))
    cases.append(_with("违规支出 是：本项 0 分", 违规支出="是"))
    cases.append(_with("违规支出 留空：视为否", 违规支出=None))
    cases.append(_with("支出规范 0.5、核算规范 否", 支出规范得分=0.5, 核算规范得分="否"))
    # 政府采购
    planned = REFERENCE["采购计划金额"]
    for where, actual in _around(planned, 0.01):
        cases.append(_with(f"采购 实际 {where} 计划", 实际采购金额=round(actual, 2)))
    cases.append(_with("采购 计划 0 实际 0：执行率部分满分", 实际采购金额=0, 采购计划金额=0))
    cases.append(_with("采购 计划 0 实际 >0：执行率部分 0", 实际采购金额=5, 采购计划金额=0))
    for policy in (0, 0.5, 0.99, "是", "否"):
        cases.append(_with(f"采购 政策落实 {policy}", 采购政策落实=policy))
    # 预算执行率: every quarter's schedule, from amounts (frozen funds taken out)
    e = RUBRIC.indicator("exec").params
    quarters = [f"{q}累计支出" for q in model.QUARTERS]
    budget_total, frozen = 1_000_000.00, 200_000.00
    for i, schedule in enumerate(e["schedule"]):
        available = budget_total - frozen
        for where, rate in _around(schedule, 0.0001):
            if rate > 1:
                continue
            spent = [round(available * min(s, rate if j == i else s * 0.9), 2) for j, s in enumerate(e["schedule"])]
            cases.append(_with(f"{model.QUARTERS[i]}执行率 {where} 序时进度 {schedule:.0%}", 预算总指标=budget_total,
                               冻结资金=frozen, **dict(zip(quarters, spent))))
    cases.append(_with("冻结资金留空：视为 0", 冻结资金=None))
    cases.append(_with("四个季度都达序时进度", 预算总指标=budget_total, 冻结资金=0,
                       **{q: round(budget_total * s, 2) for q, s in zip(quarters, e["schedule"])}))
    # deductions, floor 0
    for indicator_id, name in (("budget_norm", "预算编制不符合项数"), ("goal_complete", "绩效目标缺失项数")):
        ind = RUBRIC.indicator(indicator_id)
        floor_at = int(ind.max / ind.params["per_item"])
        for n in sorted({0, 1, floor_at - 1, floor_at, floor_at + 1}):
            cases.append(_with(f"{ind.name} {n} 项", **{name: n}))
    per = RUBRIC.indicator("key_task").params["per_item"]
    for total_tasks in (0, 2, 3):
        for unfinished in range(total_tasks + 1):
            cases.append(_with(f"重点工作 {unfinished}/{total_tasks} 未完成（每项扣 {per:g}）",
                               重点工作总数=total_tasks, 未完成重点工作数=unfinished))
    # 项目完成及时性
    for finished, planned_projects in ((0, 0), (34, 41), (33, 41), (41, 41), (0, 5), (1, 3)):
        cases.append(_with(f"项目 {finished}/{planned_projects}", 已完成项目数=finished, 计划项目数=planned_projects))
    # 效果性: the judgement, with ROUND's known edge cases
    effect_max = RUBRIC.indicator("effect").max
    for score in (0, effect_max, 2.675, 1.005, 4.639999999999999, 12.345, 0.285, 8.345, 24.995):
        cases.append(_with(f"效果性 {score}", 效果性评分=score))
    # 预决算信息公开: every status pair, and a classified unit (statuses then not read)
    statuses = [s["status"] for s in RUBRIC.indicator("disclosure").params["statuses"]]
    for budget_status in statuses:
        for final_status in statuses:
            cases.append(_with(f"公开 {budget_status}/{final_status}", 预算公开情况=budget_status, 决算公开情况=final_status))
    cases.append(_with("涉密单位：直接得分（公开情况不读）", 涉密单位="是", 预算公开情况="乱填", 决算公开情况=None))
    cases.append(_with("涉密单位留空：视为否", 涉密单位=None))
    # weighted checks: each item off alone
    for indicator_id in ("budget_fit", "goal_clear", "rules", "petition"):
        for name in _checks(indicator_id):
            cases.append(_with(f"{name} 否", **{name: "否"}))
    cases += grade_cases()
    return cases


def python_scores(values: dict[str, Any]) -> dict[str, Any]:
    """Indicator id → points or the error text, by the Python functions."""
    out = {}
    for indicator_id, call in model.score_calls(RUBRIC).items():
        try:
            out[indicator_id] = model.evaluate(call, values)
        except JXInputError as error:
            out[indicator_id] = error.cell_text
    return out


def python_totals(scores: dict[str, Any]) -> dict[str, Any]:
    """Sub-totals, 综合评分 and 评分等级 as the template's ROUND(G5+G6+…) and JX_GRADE give them."""
    out: dict[str, Any] = {}
    for level1, _ in RUBRIC.level1:
        parts = [scores[i.id] for i in RUBRIC.indicators if i.level1 == level1]
        if all(isinstance(s, float) for s in parts):
            subtotal = 0.0
            for s in parts:
                subtotal += s
            out[f"{level1}得分"] = excel_round(subtotal, 2)
        else:
            out[f"{level1}得分"] = ERROR
    subtotals = [out[name] for name in SUBTOTALS]
    if all(isinstance(s, float) for s in subtotals):
        total = 0.0
        for s in subtotals:
            total += s
        out["综合评分"] = excel_round(total, 2)
    else:
        out["综合评分"] = ERROR
    try:
        out["评分等级"] = udfs.JX_GRADE(out["综合评分"] if out["综合评分"] is not ERROR else "#VALUE!")
    except JXInputError as error:
        out["评分等级"] = error.cell_text
    return out


def grade_cases() -> list[Case]:
    """Totals that land just below, at and just above every grade boundary (via 效果性评分)."""
    cases = []
    effect_max = RUBRIC.indicator("effect").max
    for band in RUBRIC.grade_bands[1:]:
        for where, goal in _around(band.lower, 0.01):
            base = dict(REFERENCE)
            for indicator_id in ("budget_fit", "goal_clear", "rules", "petition"):
                others = sum(v for k, v in python_scores(base).items() if k != "effect")
                if others <= goal:
                    break
                base.update({name: "否" for name in _checks(indicator_id)})
            others = sum(v for k, v in python_scores(base).items() if k != "effect")
            effect = round(goal - others, 2)
            assert 0 <= effect <= effect_max, (goal, others)
            case = Case(f"综合评分 {where} {band.lower:g}（{band.label}）", {**base, "效果性评分": effect})
            assert python_totals(python_scores(case.values))["综合评分"] == round(goal, 2), case.name
            cases.append(case)
    return cases


def vocabulary_cases() -> list[Case]:
    """Every yes/no word of the rubric, logicals and 1/0 in a check and in a 酌情 item."""
    words = sorted(RUBRIC.yes_words) + sorted(RUBRIC.no_words)
    spellings: list[Any] = words + [w.lower() for w in words if w.isascii() and w.isalpha()]
    spellings += [True, False, 1, 0, " 是 "]
    cases = [_with(f"检查项 预算符合职责={v!r}", 预算符合职责=v) for v in spellings]
    cases += [_with(f"酌情项 支出规范得分={v!r}", 支出规范得分=v) for v in (True, False, "√", "×", 1, 0, 0.25)]
    cases += [_with(f"可选检查 违规支出={v!r}", 违规支出=v) for v in (True, "FALSE", 0, "×", "  ")]
    return cases


def invalid_cases() -> list[Case]:
    """Bad inputs of every kind: blank, text, negative, not whole, out of range, logical, error, zero denominator."""
    cases: list[Case] = []
    optional = {"违规支出", "涉密单位", "冻结资金"}
    used = {n for n, f in FIELDS.items() if f.kind != "text" and n != "预算年度"}
    for n, name in enumerate(sorted(used)):
        kind = FIELDS[name].kind
        if name not in optional:
            cases.append(_with(f"{name} 留空", **{name: None}))
        text = {"check": "也许", "status": "已公开", "partial": "大概"}.get(kind, "一百")
        cases.append(_with(f"{name} 填文字", **{name: text}))
        if kind in ("amount", "count", "rate", "score", "partial"):
            cases.append(_with(f"{name} 负数", **{name: -1}))
        if kind in ("amount", "count", "rate", "score"):
            cases.append(_with(f"{name} 逻辑值", **{name: True}))
        if kind == "count":
            cases.append(_with(f"{name} 非整数", **{name: 2.5}))
        if kind == "check":
            cases.append(_with(f"{name} 数字 2", **{name: 2}))
        if n % 4 == 0:
            cases.append(_with(f"{name} 错误值", **{name: "#N/A"}))
    cases += [
        _with("满意度 超过 100%", 满意度=1.5),
        _with("采购政策落实 超过 1 分", 采购政策落实=1.5),
        _with("效果性评分 超过满分", 效果性评分=RUBRIC.indicator("effect").max + 0.5),
        _with("预决算状态 为数字", 预算公开情况=1),
        _with("带来的错误信息", 编外人数="错误：上游已出错"),
        _with("固定资产总额 为 0", 在用固定资产=0, 固定资产总额=0),
        _with("在用 大于 总额", 在用固定资产=2, 固定资产总额=1),
        _with("核定编制数 为 0", 核定编制数=0),
        _with("在编 编外 都为 0", 在编人数=0, 编外人数=0),
        _with("三公预算 为 0", 三公经费预算=0),
        _with("日常公用预算 为 0", 日常公用经费预算=0),
        _with("预算总指标 为 0", 预算总指标=0, 冻结资金=0, 调整调剂资金=0, **{f"{q}累计支出": 0 for q in model.QUARTERS}),
        _with("冻结资金 等于 预算总指标", 冻结资金=REFERENCE["预算总指标"]),
        _with("冻结资金 大于 预算总指标", 冻结资金=REFERENCE["预算总指标"] + 1),
        _with("累计支出 大于 可用预算", 四季度累计支出=REFERENCE["预算总指标"]),
        _with("未完成 大于 重点工作总数", 未完成重点工作数=3, 重点工作总数=2),
        _with("已完成 大于 计划项目数", 已完成项目数=42, 计划项目数=41),
    ]
    return cases


def random_cases(count: int, seed: int = 20200) -> list[Case]:
    """Seeded random, valid inputs across the whole range of each rule."""
    rng = random.Random(seed)
    statuses = [s["status"] for s in RUBRIC.indicator("disclosure").params["statuses"]]
    cases = []
    for i in range(count):
        v: dict[str, Any] = {"部门名称": f"随机单位{i}", "预算年度": 2020, "填报人": None}
        for name, f in FIELDS.items():
            if f.kind == "check":
                v[name] = rng.choice(["是", "否"] * 6 + ["√", "×", True, False, 1, 0, "TRUE", "FALSE"])
            elif f.kind == "partial":
                v[name] = rng.choice([round(rng.random(), 2), round(rng.random(), 2), "是", "否", 0, 1])
            elif f.kind == "status":
                v[name] = rng.choice(statuses)
            elif f.kind == "score":
                v[name] = round(rng.uniform(0, f.upper), 2)
            elif f.kind == "rate":
                v[name] = round(rng.uniform(0.6, 1.0), 4)
        v["涉密单位"] = rng.choice(["否"] * 9 + ["是", None])
        v["违规支出"] = rng.choice(["否"] * 9 + ["是", None])
        planned = 0.0 if rng.random() < 0.05 else round(rng.uniform(1e4, 5e6), 2)
        v["采购计划金额"], v["实际采购金额"] = planned, round(planned * rng.uniform(0.5, 1.05), 2)
        total = round(rng.uniform(1e6, 1e8), 2)
        frozen = 0.0 if rng.random() < 0.3 else round(total * rng.uniform(0, 0.3), 2)
        available = total - frozen
        rates = sorted(rng.uniform(0.05, 1.0) for _ in model.QUARTERS)
        v.update({"预算总指标": total, "冻结资金": frozen, "调整调剂资金": round(total * rng.uniform(0, 0.25), 2)})
        v.update({f"{q}累计支出": round(available * r, 2) for q, r in zip(model.QUARTERS, rates)})
        fixed = round(rng.uniform(1e4, 1e7), 2)
        v["固定资产总额"], v["在用固定资产"] = fixed, round(fixed * rng.uniform(0.4, 1.0), 2)
        authorized = rng.randint(5, 200)
        v["核定编制数"] = authorized
        v["在编人数"] = rng.randint(int(authorized * 0.8), int(authorized * 1.1))
        v["编外人数"] = rng.randint(0, max(1, v["在编人数"] // 5))
        for part in ("三公经费", "日常公用经费"):
            budget = round(rng.uniform(1e4, 2e6), 2)
            v[f"{part}预算"], v[f"{part}支出"] = budget, round(budget * rng.uniform(0.5, 1.2), 2)
        v["预算编制不符合项数"], v["绩效目标缺失项数"] = rng.randint(0, 6), rng.randint(0, 4)
        v["重点工作总数"] = rng.randint(0, 5)
        v["未完成重点工作数"] = rng.randint(0, v["重点工作总数"])
        v["计划项目数"] = rng.randint(0, 60)
        v["已完成项目数"] = rng.randint(0, v["计划项目数"])
        cases.append(Case(f"随机 {i:03d}", v))
    return cases


def all_cases() -> list[Case]:
    cases = threshold_cases() + vocabulary_cases() + invalid_cases()
    cases += random_cases(max(0, 515 - len(cases)))
    for case in cases[::97]:  # a few go the whole way: filled template, then export
        case.full_export = True
    return cases


CASES = all_cases()


# ------------------------------------------------------------------ writing inputs into the exported copy


def _cell_xml(ref: str, style: str, value: Any) -> str:
    attrs = f'r="{ref}"{style}'
    if value is None:
        return f"<c {attrs}/>"
    if isinstance(value, bool):
        return f'<c {attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f"<c {attrs}><v>{value!r}</v></c>"
    if value in ("#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!"):
        return f'<c {attrs} t="e"><v>{value}</v></c>'
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def patched_copy(base: bytes, part: str, cells: dict[str, str], values: dict[str, Any]) -> bytes:
    """The exported workbook with only the input cells of 基础数据 rewritten (no formula touched)."""
    source = zipfile.ZipFile(io.BytesIO(base))
    xml = source.read(part).decode("utf-8")
    for name, ref in cells.items():
        pattern = re.compile(rf'<c r="{ref}"(?P<style> s="\d+")?[^>]*?(?:/>|>.*?</c>)')
        xml, n = pattern.subn(lambda m: _cell_xml(ref, m.group("style") or "", values.get(name)), xml, count=1)
        assert n == 1, ref
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, xml.encode("utf-8") if info.filename == part else source.read(info.filename))
    return out.getvalue()


# ------------------------------------------------------------------ Python's side of every converted cell


def _parse_call(text: str) -> model.Call:
    name, inner = re.fullmatch(r"(JX_\w+)\((.*)\)", text).groups()
    args, depth, start = [], 0, 0
    for i, ch in enumerate(inner + ","):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    parsed = [_parse_call(a) if a.startswith("JX_") else int(a) if a.isdigit() else a for a in args if a]
    return model.Call(name, tuple(parsed))


def python_cell(formula: str, values: dict[str, Any]) -> Any:
    """What the add-in shows for one of the template's JX formulas (=JX_…(…) or =JX_…(…)*k)."""
    match = re.fullmatch(r"=(JX_\w+\(.*\))(?:\*([\d.]+))?", formula)
    try:
        result = model.evaluate(_parse_call(match.group(1)), values)
    except JXInputError as error:
        return ERROR if match.group(2) else error.cell_text
    return result * float(match.group(2)) if match.group(2) else result


def agrees(libreoffice: Any, python: Any, exact: bool = True) -> bool:
    """Equal; an unrounded rate (``exact=False``) to the 15 significant digits LibreOffice stores in a file."""
    if python is ERROR:
        return isinstance(libreoffice, str) and libreoffice.startswith("#")
    if isinstance(python, bool) or isinstance(python, str):
        return libreoffice == python
    if not isinstance(libreoffice, float):
        return False
    if libreoffice == python or exact:
        return libreoffice == python
    unit = 10.0 ** (math.floor(math.log10(abs(python))) - 14) if python else 0.0  # the 15th significant digit
    return abs(libreoffice - python) <= unit


def rounded(formula: str) -> bool:
    """A cell whose value is rounded (a 三级指标's score, the grade): compared exactly."""
    name = re.match(r"=(JX_\w+)", formula).group(1)
    return name in udfs.SCORE_RULES or name == "JX_GRADE"


def as_libreoffice_reads(values: dict[str, Any]) -> dict[str, Any]:
    """LibreOffice has no logical type: TRUE/FALSE in a cell with a number format is 1/0 there.

    Excel and WPS keep the logical (and the native formula then shows the add-in's
    message); the 是/否 inputs are General-formatted, so checks read TRUE/FALSE everywhere.
    """
    from addin.template import NUMBER_FORMATS

    return {k: int(v) if isinstance(v, bool) and k in FIELDS and FIELDS[k].kind in NUMBER_FORMATS else v
            for k, v in values.items()}


# ------------------------------------------------------------------ the run


@dataclass
class Run:
    jx_cells: dict[tuple[str, str], str]  # converted cell → the template's JX formula
    names: dict[str, tuple[str, str]]
    results: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)  # case name → values
    extras: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)
    twins: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)  # patched copies of full exports
    seconds: float = 0.0
    files: int = 0


SYNTHETIC_AGREE = [
    ("≥90%", 0.9), ("≥90%", "89.99%"), (">95%", "95%"), (">95%", "95.01%"), ("≤5%", "5%"), ("≤5%", 0.0501),
    ("<3", 2.99), ("<3", "3"), ("=5", "5"), ("＝5", "5.0"), ("＞10", "10.5"), ("＜10", "9"), (">=10", "10"),
    ("<=10", "10.01"), ("≥ 90 %", "90 %"), ("0", "0"), ("0", "1"), ("0 次", "0"), ("10", "9.99"), ("10", 10),
    ("10个", "10 个"), ("1,000", "999"), ("1,000", "1,000"), ("1,000人次", 1000.5), ("2-3 小时", "2"),
    ("2-3 小时", "3.5"), ("2～3天", "2.5天"), ("2至3", "3"), ("2到3", "1.99"), ("90%-95%", "92%"),
    ("90-95%", 0.96), ("90%-95", "0.94"), ("2—3", "3"), ("2–3", "2.5"), ("2~3", 2), ("≥2-3", "2"),
    ("10个左右", "9"), ("约10个", "10"), ("10以上", "10"), ("100万元", "99万"), ("100万元", "1000000"),
    ("1亿", "1.2亿"), ("2000", "282.68 万"), ("5万", 49999), ("-5", "-4"), ("+5", "5"), ("1.5.3", "1.5"),
    ("有效保障", "有效保障"), ("有效保障", "未保障"), ("及时", "不及时"), ("合规", "没有问题"), ("完成", "延期完成"),
    ("完成", "已取消"), ("顺利开展", "失败"), ("按期", "暂停"), ("达标", "无法达标"), ("达标", "否"),
    ("10", "未完成"), ("90%", "不足"), ("10", "很多"), ("有效保障", 5), (None, "有"), ("有效", None),
    (True, "是"), ("5", False), ("#N/A", "1"), ("2020年12月31日前", "2020年12月"), ("当年完成", "2020年12月31日前"),
    (10, "12"), (0.95, "95%"), (0, 0), (0.9, 0.9), (" 10 次 ", "10"), ("10", " 10 "), ("≥", "5"),
    ("三个", "3"), ("3.0", "3"), ("5.", "5"), ("1e3", "2"), ("1,234.5", "1234.5"), ("10%万", "0.1"),
    (1234567, 1000), (1234567, 1234567), (12345.75, "12345.75"),
]
# Where the native reading differs from jx.targets by design (docs/native-formulas.md):
# (target, actual, what Python says, what the native formula says).
SYNTHETIC_DIFFER = [
    ("１０", "5", False, True),  # full-width digits: a number for Python, words natively
    ("1,5", "10", True, False),  # a comma not followed by three digits: Python reads 1, the native text 15
    ("1 000", "999", True, False),  # a space inside a number: Python reads 1, the native text 1000
    (0.00001, 0.5, False, True),  # a number cell below 0.0001: Python writes it 1e-05 and reads 1
]


def _target_rows(pairs) -> list[dict[str, Any]]:
    return [{"level1": "测试", "level2": "测试", "name": f"第{i + 1}行", "target": t, "actual": a}
            for i, (t, a, *_) in enumerate(pairs)]


ROUND_VALUES = sorted({2.675, 1.005, 4.639999999999999, 4.6393, 0.285, 1.015, 8.345, 0.125, 2.5, 0.005,
                       1.0049999999999999, 96.505, 57.615, 18.885, 4.975609756097561, 1.894736842105263,
                       *(k / 1000 for k in range(1, 30001, 7)), *(k / 1000 + 1e-12 for k in range(5, 5000, 10))})


def _mutated() -> Rubric:
    """The edition with other numbers: staff bands, satisfaction bands, grade bands, one check weight."""
    def replace(ind, **params):
        return dataclasses.replace(ind, params={**ind.params, **params})

    indicators = []
    for ind in RUBRIC.indicators:
        if ind.id == "staff":
            ind = replace(ind, bands=[{"points": 1, "upper": 0.06, "upper_inclusive": False},
                                      {"points": 0.5, "lower": 0.06, "lower_inclusive": True, "upper": 0.12,
                                       "upper_inclusive": True},
                                      {"points": 0, "lower": 0.12, "lower_inclusive": False}])
        elif ind.id == "satisfaction":
            ind = replace(ind, bands=[{"points": 1, "upper": 0.7, "upper_inclusive": True},
                                      {"points": 4, "lower": 0.7, "lower_inclusive": False}])
        elif ind.id == "budget_fit":
            checks = [dict(c) for c in ind.params["checks"]]
            checks[0]["points"], checks[1]["points"] = 2, 0
            ind = replace(ind, checks=checks)
        indicators.append(ind)
    grade = (dataclasses.replace(RUBRIC.grade_bands[0], upper=50),
             dataclasses.replace(RUBRIC.grade_bands[1], lower=50, upper=70),
             dataclasses.replace(RUBRIC.grade_bands[2], lower=70, upper=85),
             dataclasses.replace(RUBRIC.grade_bands[3], lower=85))
    return dataclasses.replace(RUBRIC, indicators=tuple(indicators), grade_bands=grade)


MUTATED = _mutated()
MUTATED_CASES = [
    _with("变更后 编外 5.5%（原 0.5，新 1）", 编外人数=55, 在编人数=945, 满意度=0.75, 预算符合职责="是", 预算合理分配="否"),
    _with("变更后 编外 11%（原 0，新 0.5）", 编外人数=110, 在编人数=890, 满意度=0.7, 预算符合职责="否", 预算合理分配="是"),
]


@pytest.fixture(scope="session")
def run(tmp_path_factory) -> Run:
    work = tmp_path_factory.mktemp("libreoffice")
    (work / "in").mkdir()
    template = build(work / "template.xlsm")
    base = export_workbook(template, work / "base.xlsx")
    base_bytes = base.read_bytes()
    names = defined_names(base)
    input_cells = {n: names[n][1] for n in FIELDS}
    part = sheet_paths(base)[INPUT_SHEET]

    from openpyxl import load_workbook

    source = load_workbook(template)
    jx_cells = {(ws.title, c.coordinate): c.value for ws in source.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=JX_")}
    files: dict[Path, str] = {}
    twins: dict[Path, str] = {}
    for i, case in enumerate(CASES):
        path = work / "in" / f"case{i:04d}.xlsx"
        patched = patched_copy(base_bytes, part, input_cells, case.values)
        if case.full_export:
            filled = build(work / f"filled{i:04d}.xlsm", Filled(case.values))
            export_workbook(filled, path)
            twin = work / "in" / f"twin{i:04d}.xlsx"
            twin.write_bytes(patched)
            twins[twin] = case.name
        else:
            path.write_bytes(patched)
        files[path] = case.name

    extras: dict[str, Path] = {}
    example = build(work / "example.xlsm", Filled(REFERENCE, TABLES["task"], TABLES["target"]))
    extras["example"] = export_workbook(example, work / "in" / "example.xlsx")
    pairs = SYNTHETIC_AGREE + SYNTHETIC_DIFFER
    synthetic = build(work / "synthetic.xlsm", Filled(REFERENCE, (), _target_rows(pairs)))
    extras["synthetic"] = export_workbook(synthetic, work / "in" / "synthetic.xlsx")
    extras["round"] = _round_workbook(work / "in" / "round.xlsx")
    extras["stale"] = _stale_workbook(work / "in" / "stale.xlsx")
    for i, case in enumerate(MUTATED_CASES):
        filled = build(work / f"mutated{i}.xlsm", Filled(case.values), rubric=MUTATED)
        extras[f"mutated{i}"] = export_workbook(filled, work / "in" / f"mutated{i}.xlsx", rubric=MUTATED)

    started = time.perf_counter()
    converted = recalculate_in_parallel([*files, *twins, *extras.values()], work / "out", runs=2)
    seconds = time.perf_counter() - started
    result = Run(jx_cells=jx_cells, names=names, seconds=seconds, files=len(converted))
    wanted = list(jx_cells) + [names[n] for n in SUBTOTALS + ["综合评分", "评分等级"]]
    for path, name in files.items():
        result.results[name] = read_values(converted[path], wanted)
    for path, name in twins.items():
        result.twins[name] = read_values(converted[path], wanted)
    first_target = int(names["指标达成情况"][1].split(":")[0][1:])
    target_cells = [(SELF_SHEET, f"F{first_target + i}") for i in range(max(len(TABLES["target"]), len(pairs)))]
    for key in ("example", "synthetic", *(f"mutated{i}" for i in range(len(MUTATED_CASES)))):
        result.extras[key] = read_values(converted[extras[key]], wanted + target_cells + [names["未达成指标数"]])
    rounded_cells = [("Sheet", f"B{i + 1}") for i in range(len(ROUND_VALUES))]
    result.extras["round"] = read_values(converted[extras["round"]], rounded_cells)
    result.extras["stale"] = read_values(converted[extras["stale"]], [("Sheet", "A1"), ("Sheet", "A2")])
    print(f"\nLibreOffice: {len(converted)} files in {seconds:.1f} s (two runs side by side)")
    return result


def _round_workbook(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet"
    for i, value in enumerate(ROUND_VALUES, start=1):
        ws.cell(row=i, column=1, value=value)
        ws.cell(row=i, column=2, value=f"=ROUND(A{i},2)")
    wb.save(path)
    return path


def _stale_workbook(path: Path) -> Path:
    """Formulas whose cached values are deliberately wrong, and no fullCalcOnLoad."""
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1"><f>1+1</f><v>5</v></c></row>'
             '<row r="2"><c r="A2" t="str"><f>"a"&amp;"b"</f><v>stale</v></c></row></sheetData></worksheet>')
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<sheets><sheet name="Sheet" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>')
    root_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'officeDocument" Target="xl/workbook.xml"/></Relationships>')
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", root_rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


# ------------------------------------------------------------------ the proof


def test_at_least_500_input_sets():
    assert len(CASES) >= 500
    assert len({c.name for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if c.name.startswith("随机")) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_libreoffice_scores_as_python(case: Case, run: Run):
    got = run.results[case.name]
    read = as_libreoffice_reads(case.values)
    scores = python_scores(read)
    totals = python_totals(scores)
    values = {**read, "综合评分": totals["综合评分"] if totals["综合评分"] is not ERROR else "#VALUE!"}
    problems = []
    for (sheet, ref), formula in run.jx_cells.items():
        expected = python_cell(formula, values)
        if not agrees(got[(sheet, ref)], expected, exact=rounded(formula)):
            problems.append(f"{sheet}!{ref} {formula}: LibreOffice {got[(sheet, ref)]!r}, Python {expected!r}")
    for name in SUBTOTALS + ["综合评分", "评分等级"]:
        if not agrees(got[run.names[name]], totals[name]):
            problems.append(f"{name}: LibreOffice {got[run.names[name]]!r}, Python {totals[name]!r}")
    assert not problems, "\n".join(problems)
    # an error anywhere reaches the total on both sides, and only then
    assert (totals["综合评分"] is ERROR) == any(isinstance(s, str) for s in scores.values())


def test_every_indicator_is_compared(run: Run):
    """Every 分数 cell is a converted JX cell, so the comparison above covers all of them."""
    for ind in RUBRIC.indicators:
        assert run.names[f"分数_{ind.id}"] in run.jx_cells


def test_logicals_in_number_cells_are_a_libreoffice_difference(run: Run):
    """Python (and Excel, WPS) refuse TRUE for an amount; LibreOffice reads that cell as 1 (documented)."""
    cases = [c for c in CASES if c.name.endswith(" 逻辑值")]
    assert len(cases) >= 20
    for case in cases:
        assert any(isinstance(s, str) and "逻辑值" in s for s in python_scores(case.values).values()), case.name
        assert not any("逻辑值" in str(v) for v in run.results[case.name].values()), case.name


def test_bad_inputs_reach_the_total(run: Run):
    bad = [c for c in CASES if any(isinstance(s, str) for s in python_scores(as_libreoffice_reads(c.values)).values())]
    assert len(bad) >= 150
    for case in bad:
        got = run.results[case.name]
        assert isinstance(got[run.names["综合评分"]], str) and got[run.names["综合评分"]].startswith("#"), case.name
        assert str(got[run.names["评分等级"]]).startswith("错误："), case.name


def test_reference_report(run: Run, golden):
    got = run.extras["example"]
    assert got[run.names["综合评分"]] == golden["total"] == 96.51
    assert got[run.names["评分等级"]] == golden["grade"] == "优"
    for indicator_id, expected in golden["scores"].items():
        assert got[run.names[f"分数_{indicator_id}"]] == expected, indicator_id
    for level1, expected in golden["subtotals"].items():
        assert got[run.names[f"{level1}得分"]] == expected
    assert got[run.names["未达成指标数"]] == 12
    first = int(run.names["指标达成情况"][1].split(":")[0][1:])
    for i, row in enumerate(TABLES["target"]):
        assert got[(SELF_SHEET, f"F{first + i}")] == target_met(row["target"], row["actual"]), row


def _python_target(target: Any, actual: Any) -> Any:
    """What the template's =IF(AND(D="",E=""),"",JX_TARGET_MET(D,E)) shows with the add-in."""
    if target is None and actual is None:
        return ""
    for value in (target, actual):  # AND(D="",E="") meets an error value first and returns it
        if isinstance(value, str) and value in ("#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!"):
            return value
    try:
        return target_met(target, actual)
    except JXInputError as error:
        return error.cell_text


def test_target_texts(run: Run):
    got = run.extras["synthetic"]
    first = int(run.names["指标达成情况"][1].split(":")[0][1:])
    problems = []
    for i, (target, actual) in enumerate(SYNTHETIC_AGREE):
        expected = _python_target(target, actual)
        if got[(SELF_SHEET, f"F{first + i}")] != expected:
            shown = got[(SELF_SHEET, f"F{first + i}")]
            problems.append(f"{target!r} / {actual!r}: LibreOffice {shown!r}, Python {expected!r}")
    assert not problems, "\n".join(problems)


def test_documented_target_differences(run: Run):
    """The differences docs/native-formulas.md lists are real, and the native side does what it says."""
    got = run.extras["synthetic"]
    first = int(run.names["指标达成情况"][1].split(":")[0][1:]) + len(SYNTHETIC_AGREE)
    for i, (target, actual, python, native) in enumerate(SYNTHETIC_DIFFER):
        assert _python_target(target, actual) is python, (target, actual)
        assert got[(SELF_SHEET, f"F{first + i}")] is native, (target, actual)


def test_round_agrees_with_excel_round(run: Run):
    got = run.extras["round"]
    problems = [(v, got[("Sheet", f"B{i + 1}")], excel_round(v, 2)) for i, v in enumerate(ROUND_VALUES)
                if got[("Sheet", f"B{i + 1}")] != excel_round(v, 2)]
    assert not problems
    for edge, expected in ((2.675, 2.68), (1.005, 1.01), (4.639999999999999, 4.64), (0.285, 0.29)):
        assert got[("Sheet", f"B{ROUND_VALUES.index(edge) + 1}")] == expected


def test_libreoffice_really_recalculates(run: Run, tmp_path):
    """Cached values that are wrong come back right; with recalculation off they stay wrong."""
    assert run.extras["stale"] == {("Sheet", "A1"): 2, ("Sheet", "A2"): "ab"}
    stale = _stale_workbook(tmp_path / "stale.xlsx")
    kept = recalculate_with_libreoffice([stale], tmp_path / "never", recalc_mode=RECALC_NEVER)
    assert read_values(kept[stale], [("Sheet", "A1")]) == {("Sheet", "A1"): 5}


def test_native_formulas_follow_the_rubric_data(run: Run):
    """Exported with other numbers in the rubric, LibreOffice scores by those numbers."""
    for i, case in enumerate(MUTATED_CASES):
        got = run.extras[f"mutated{i}"]
        v = case.values
        staff = rules.staff(rules.staff_ratio(v["编外人数"], v["在编人数"]), rubric=MUTATED).points
        assert staff != rules.staff(rules.staff_ratio(v["编外人数"], v["在编人数"]), rubric=RUBRIC).points
        assert got[run.names["分数_staff"]] == staff
        assert got[run.names["分数_satisfaction"]] == rules.satisfaction(v["满意度"], rubric=MUTATED).points
        fit = [v[c["input"]] for c in MUTATED.indicator("budget_fit").params["checks"]]
        assert got[run.names["分数_budget_fit"]] == rules.budget_fit(*fit, rubric=MUTATED).points
        assert got[run.names["评分等级"]] == rules.grade(got[run.names["综合评分"]], rubric=MUTATED)


def test_patched_copies_equal_full_exports(run: Run):
    """The quick way (inputs written into one export) gives what a full build and export gives."""
    full = [c.name for c in CASES if c.full_export]
    assert len(full) >= 5 and set(run.twins) == set(full)
    for name in full:
        assert run.twins[name] == run.results[name], name


def test_recalculation_was_batched(run: Run):
    assert run.files == len(CASES) + len(run.twins) + 4 + len(MUTATED_CASES)
