"""The rubric as data: load an edition of the 评分表 from ``jx/rubrics/*.toml``.

A new year's rubric is a new TOML file; nothing here changes. Older editions
stay loadable by id, so last year's scores can still be recomputed.
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

# Environment variable that chooses the edition the Excel functions use.
EDITION_ENV = "JX_RUBRIC"


@dataclass(frozen=True)
class Band:
    """One band of a banded rule: a value range and what it earns.

    A missing bound is open (no lower bound: from minus infinity). Each present
    bound says whether the boundary value itself belongs to this band.
    """

    points: float | None = None
    label: str | None = None
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = False

    def contains(self, value: float) -> bool:
        if self.lower is not None:
            if value < self.lower or (value == self.lower and not self.lower_inclusive):
                return False
        if self.upper is not None:
            if value > self.upper or (value == self.upper and not self.upper_inclusive):
                return False
        return True

    def condition(self, subject: str, fmt=lambda v: f"{v:g}") -> str:
        """The band's condition in the rubric's notation: ``比率>10%``, ``5%≤比率≤10%``."""
        if self.lower is not None and self.upper is not None:
            return (f"{fmt(self.lower)}{'≤' if self.lower_inclusive else '<'}{subject}"
                    f"{'≤' if self.upper_inclusive else '<'}{fmt(self.upper)}")
        if self.lower is not None:
            return f"{subject}{'≥' if self.lower_inclusive else '>'}{fmt(self.lower)}"
        if self.upper is not None:
            return f"{subject}{'≤' if self.upper_inclusive else '<'}{fmt(self.upper)}"
        return subject


@dataclass(frozen=True)
class Indicator:
    """A 三级指标: where it sits, what it is worth, its rule text and parameters."""

    id: str
    level1: str
    level2: str
    name: str
    max: float
    rule: str
    functions: tuple[str, ...]
    summary: str
    description: str
    rule_text: str
    reference: str
    reading: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def bands(self, key: str = "bands") -> tuple[Band, ...]:
        return tuple(Band(**b) for b in self.params[key])


@dataclass(frozen=True)
class Rubric:
    id: str
    title: str
    year: int
    source: str
    total: float
    decimals: int
    level1: tuple[tuple[str, float], ...]
    indicators: tuple[Indicator, ...]
    grade_bands: tuple[Band, ...]
    grade_rule_text: str
    yes_words: frozenset[str]
    no_words: frozenset[str]
    target_met: dict[str, Any]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def by_function(self, function_name: str) -> Indicator:
        for ind in self.indicators:
            if function_name in ind.functions:
                return ind
        raise KeyError(function_name)


def _rubric_files() -> dict[str, Any]:
    folder = resources.files("jx.rubrics")
    return {
        entry.name.removesuffix(".toml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def editions() -> list[str]:
    """Ids of every edition shipped, oldest first."""
    return sorted(_rubric_files(), key=lambda e: (load_rubric(e).year, e))


def default_edition() -> str:
    """The edition in force: ``$JX_RUBRIC`` if set, else the newest year shipped."""
    return os.environ.get(EDITION_ENV) or editions()[-1]


@functools.cache
def load_rubric(edition: str | None = None) -> Rubric:
    """Load and validate one edition; ``None`` means :func:`default_edition`."""
    edition = edition or default_edition()
    files = _rubric_files()
    if edition not in files:
        raise KeyError(f"未知的评分标准版本：{edition}（可用：{'、'.join(sorted(files))}）")
    data = tomllib.loads(files[edition].read_text(encoding="utf-8"))
    rubric = _from_data(data)
    problems = validate(rubric)
    if problems:
        raise ValueError(f"评分标准 {edition} 数据有误：" + "；".join(problems))
    return rubric


def _from_data(data: dict[str, Any]) -> Rubric:
    ed = data["edition"]
    vocab = data["vocabulary"]
    return Rubric(
        id=ed["id"],
        title=ed["title"],
        year=ed["year"],
        source=ed["source"],
        total=ed["total"],
        decimals=ed["decimals"],
        level1=tuple((l1["name"], l1["max"]) for l1 in data["level1"]),
        indicators=tuple(
            Indicator(
                id=i["id"],
                level1=i["level1"],
                level2=i["level2"],
                name=i["name"],
                max=i["max"],
                rule=i["rule"],
                functions=tuple(i["functions"]),
                summary=i["summary"],
                description=i["description"],
                rule_text=i["rule_text"],
                reference=i["reference"],
                reading=i.get("reading", ""),
                params=i.get("params", {}),
            )
            for i in data["indicator"]
        ),
        grade_bands=tuple(Band(**b) for b in data["grade"]["bands"]),
        grade_rule_text=data["grade"]["rule_text"],
        yes_words=frozenset(w.upper() for w in vocab["yes"]),
        no_words=frozenset(w.upper() for w in vocab["no"]),
        target_met=data["target_met"],
    )


def bands_problems(bands: tuple[Band, ...], where: str) -> list[str]:
    """Bands must ascend and tile the number line: no gap, no overlap."""
    problems = []
    if not bands:
        return [f"{where}: 没有分档"]
    if bands[0].lower is not None:
        problems.append(f"{where}: 第一档应无下限")
    if bands[-1].upper is not None:
        problems.append(f"{where}: 最后一档应无上限")
    for low, high in zip(bands, bands[1:]):
        if low.upper is None or high.lower is None or low.upper != high.lower:
            problems.append(f"{where}: 分档边界不相接（{low.upper} / {high.lower}）")
        elif low.upper_inclusive == high.lower_inclusive:
            problems.append(f"{where}: 边界 {low.upper} 同时属于或同时不属于相邻两档")
        if high.lower is not None and high.upper is not None and high.lower >= high.upper:
            problems.append(f"{where}: 分档上下限颠倒（{high.lower}–{high.upper}）")
    return problems


def validate(rubric: Rubric) -> list[str]:
    """Every internal-consistency problem of an edition, as Chinese sentences."""
    problems: list[str] = []
    level1_max = dict(rubric.level1)
    if not math.isclose(sum(level1_max.values()), rubric.total):
        problems.append(f"一级指标分值合计 {sum(level1_max.values())} ≠ {rubric.total}")
    for name, expected in level1_max.items():
        got = sum(i.max for i in rubric.indicators if i.level1 == name)
        if not math.isclose(got, expected):
            problems.append(f"{name} 下三级指标分值合计 {got} ≠ {expected}")
    for ind in rubric.indicators:
        if ind.level1 not in level1_max:
            problems.append(f"{ind.name}: 一级指标 {ind.level1} 未定义")
        for key in ("bands",):
            if key in ind.params:
                bands = ind.bands(key)
                problems += bands_problems(bands, ind.name)
                if any(b.points is None or not 0 <= b.points <= ind.max for b in bands):
                    problems.append(f"{ind.name}: 分档得分应在 0–{ind.max} 之间")
        if "checks" in ind.params:
            total = sum(c["points"] for c in ind.params["checks"])
            if not math.isclose(total, ind.max):
                problems.append(f"{ind.name}: 检查项分值合计 {total} ≠ {ind.max}")
        if "schedule" in ind.params:
            schedule = ind.params["schedule"]
            if sorted(schedule) != schedule or len(set(schedule)) != len(schedule):
                problems.append(f"{ind.name}: 序时进度应递增")
    ids = [i.id for i in rubric.indicators]
    if len(set(ids)) != len(ids):
        problems.append("指标 id 重复")
    problems += bands_problems(rubric.grade_bands, "评分等级")
    return problems
