"""The rubric as data: an edition of the 评分表, loaded and checked.

An edition is one TOML file (``jx/rubrics/*.toml``, or any folder listed in
``$JX_RUBRIC_PATH``): its indicators, each a sum of shaped parts
(:mod:`jx.shapes`) with the verbatim 评分标准 text, the inputs each part
reads, the Excel function each indicator is scored by, the grade bands and
the vocabulary. A new year's or region's rubric is a new file; older
editions stay loadable by id, so last year's scores can still be recomputed.
:func:`check_file` reports every problem of a file at once, with its line.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .read import Vocabulary
from .shapes import (Band, Measure, Override, Part, SchedulePart, Slot, num, parse_bands, parse_measure, parse_part,
                     parse_slot)
from .tables import Problems, Table, describe, line_of

# Environment variables: the edition Python callers get by default, and folders of further editions.
EDITION_ENV = "JX_RUBRIC"
PATH_ENV = "JX_RUBRIC_PATH"
# The functions every edition has, whatever its indicators.
GRADE_FUNCTION, TARGET_FUNCTION = "JX_GRADE", "JX_TARGET_MET"


class RubricError(ValueError):
    """An edition that cannot be loaded: unknown id, or a file with problems (said in Chinese)."""


@dataclass(frozen=True)
class MeasureFunction:
    """A JX function that computes a rate from its arguments (``JX_STAFF_RATIO``, ``JX_EXEC_RATE``)."""

    name: str
    summary: str
    measure: Measure
    volatile: bool = False
    read_names: bool = False  # without arguments, read the workbook's cells named like its arguments


@dataclass(frozen=True)
class Indicator:
    """A 三级指标: where it sits, what it is worth, its rule text and the parts that score it."""

    id: str
    level1: str
    level2: str
    name: str
    max: float
    function: str
    description: str
    rule_text: str
    reference: str
    reading: str
    parts: tuple[Part, ...]
    override: Override | None = None
    path: tuple = field(default=(), compare=False)  # where it stands in its file

    def slots(self) -> tuple[Slot, ...]:
        """The score function's arguments, in order: every part's, then the override's."""
        out = tuple(s for p in self.parts for s in p.slots())
        return out + ((self.override.input,) if self.override else ())

    @property
    def summary(self) -> str:
        """The rule in one line, generated from the numbers of the data."""
        from .shapes import CheckPart

        if all(isinstance(p, CheckPart) for p in self.parts):
            weights = [p.points for p in self.parts]
            each = (f"各 {num(weights[0])} 分" if len(set(weights)) == 1
                    else f"分别 {'、'.join(num(w) for w in weights)} 分")
            text = f"{len(weights)} 项检查，{each}"
        else:
            text = "；".join(p.describe() for p in self.parts)
        if self.override:
            text += f"；{self.override.input.label}为是时得 {num(self.override.points)} 分"
        return text

    @property
    def schedule(self) -> SchedulePart | None:
        return next((p for p in self.parts if isinstance(p, SchedulePart)), None)


@dataclass(frozen=True)
class Grade:
    bands: tuple[Band, ...]
    rule_text: str
    reference: str = ""
    reading: str = ""


@dataclass(frozen=True)
class Rubric:
    """One edition of the 评分表."""

    id: str
    title: str
    region: str
    year: int
    source: str
    total: float
    decimals: int
    level1: tuple[tuple[str, float], ...]
    indicators: tuple[Indicator, ...]
    grade: Grade
    vocabulary: Vocabulary
    target_met: dict[str, Any]
    measure_functions: tuple[MeasureFunction, ...]
    inputs: tuple[Slot, ...]  # the named inputs, in the order 基础数据 lists them
    self_evaluation: dict[str, str] = field(default_factory=dict)
    fixture: bool = False  # a test edition, not a published rubric
    file: str | None = None

    @property
    def grade_bands(self) -> tuple[Band, ...]:
        return self.grade.bands

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def input(self, name: str) -> Slot:
        for slot in self.inputs:
            if slot.name == name:
                return slot
        raise KeyError(name)

    def measure_function(self, name: str) -> MeasureFunction:
        for f in self.measure_functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def by_function(self, function_name: str) -> Indicator:
        """The indicator a JX function belongs to (its score, schedule or rate function)."""
        for ind in self.indicators:
            names = {ind.function}
            for part in ind.parts:
                if isinstance(part, SchedulePart):
                    names |= {part.period_function, part.average_function}
                names |= {s.source.function for s in part.slots() if s.source}
            if function_name in names:
                return ind
        raise KeyError(function_name)


# ------------------------------------------------------------------ where editions live


def _shipped() -> Iterator[tuple[str, Any]]:
    folder = resources.files("jx.rubrics")
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            yield entry.name, entry


def _external(paths: str) -> Iterator[tuple[str, Path]]:
    for folder in filter(None, paths.split(os.pathsep)):
        directory = Path(folder)
        if directory.is_dir():
            for file in sorted(directory.glob("*.toml")):
                yield str(file), file


@functools.cache
def _index(paths: str) -> dict[str, tuple[str, Any]]:
    """Edition id → (where it comes from, its file), shipped first, then ``$JX_RUBRIC_PATH``."""
    out: dict[str, tuple[str, Any]] = {}
    for where, entry in [*(("随安装提供", e) for _n, e in _shipped()), *((str(p), p) for _n, p in _external(paths))]:
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            edition_id = data["edition"]["id"]
        except Exception:  # a broken file is reported by check_file, never fatal here
            continue
        out.setdefault(edition_id, (where, entry))
    return out


def _paths() -> str:
    return os.environ.get(PATH_ENV, "")


def editions() -> list[str]:
    """Ids of every edition installed (shipped and from ``$JX_RUBRIC_PATH``), oldest first."""
    found = []
    for edition_id in _index(_paths()):
        try:
            found.append((load_rubric(edition_id).year, edition_id))
        except RubricError:
            continue
    return [e for _y, e in sorted(found)]


def origin(edition_id: str) -> str:
    """Where an installed edition comes from (随安装提供, or its file)."""
    return _index(_paths())[edition_id][0]


def default_edition() -> str:
    """The edition for Python callers who name none: ``$JX_RUBRIC`` if set, else the newest installed."""
    return os.environ.get(EDITION_ENV) or editions()[-1]


def load_rubric(edition: str | None = None) -> Rubric:
    """Load one installed edition; ``None`` means :func:`default_edition`. Raises :class:`RubricError`."""
    return _load(edition or default_edition(), _paths())


@functools.cache
def _load(edition: str, paths: str) -> Rubric:
    index = _index(paths)
    if edition not in index:
        known = "、".join(sorted(index)) or "无"
        raise RubricError(f"本机没有评分标准版本“{edition}”（已安装：{known}；可用 {PATH_ENV} 指定其他版本所在的文件夹）")
    where, entry = index[edition]
    text = entry.read_text(encoding="utf-8")
    rubric, problems = parse(text, str(entry))
    if problems:
        raise RubricError(f"评分标准“{edition}”（{where}）有 {len(problems)} 处问题，请用 jx rubric check 查看："
                          + "；".join(problems[:3]))
    return rubric


def load_file(path: Path | str) -> Rubric:
    """Load an edition straight from a file (``jx template --rubric FILE``). Raises :class:`RubricError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RubricError(f"{path.name}：无法读取（{error}）") from None
    rubric, problems = parse(text, str(path))
    if problems:
        raise RubricError(f"{path.name} 有 {len(problems)} 处问题：" + "；".join(problems[:5]))
    return rubric


# ------------------------------------------------------------------ parsing


def check_file(path: Path | str, others: bool = True) -> list[str]:
    """Every problem of an edition file, each as ``第 N 行：…`` in Chinese ([] when it is sound).

    With ``others``, its Excel functions are also compared with every
    installed edition's: one name must keep one argument list everywhere.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [f"无法读取：{error}"]
    rubric, problems = parse(text, str(path))
    if rubric is not None and others:
        where = _function_paths(rubric)
        for name, message in _clashes(rubric):
            line = line_of(text, where.get(name, ()))
            problems.append(f"第 {line} 行：{message}" if line else message)
    return problems


def _function_paths(rubric: Rubric) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for ind in rubric.indicators:
        out[ind.function] = ind.path + ("function",)
        if ind.schedule:
            for name in (ind.schedule.period_function, ind.schedule.average_function):
                if name:
                    out[name] = ind.schedule.path
    for i, f in enumerate(rubric.measure_functions):
        out[f.name] = ("function", i, "name")
    return out


def parse(text: str, file: str | None = None) -> tuple[Rubric | None, list[str]]:
    """The edition in ``text`` and its problems (``第 N 行：…``), all of them."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [f"TOML 格式错误：{error}".replace("at line", "第").replace(", column", " 行，第") + " 列"]
    problems = Problems()
    rubric = _from_data(data, problems, file)
    if rubric is not None:
        _validate(rubric, data, problems)
    lines = []
    for path, message in problems.items:
        line = line_of(text, path)
        where = f"第 {line} 行" if line else describe(path)
        lines.append(f"{where}：{message}")
    return rubric, lines


def from_data(data: dict[str, Any]) -> tuple[Rubric | None, Problems]:
    """An edition from already parsed TOML data (problems without lines)."""
    problems = Problems()
    return _from_data(data, problems, None), problems


def _from_data(data: dict[str, Any], problems: Problems, file: str | None) -> Rubric | None:
    root = Table(data, (), problems)
    ed = root.table("edition")
    if ed is None:
        return None
    edition_id = ed.text("id")
    if edition_id and not all(c.isalnum() or c in "-_." for c in edition_id):
        ed.problem("id", "版本 id 只能由字母、数字和 - _ . 组成")
    vocab_t = root.table("vocabulary")
    vocab = Vocabulary(tuple(w.upper() for w in vocab_t.strings("yes")) if vocab_t else (),
                       tuple(w.upper() for w in vocab_t.strings("no")) if vocab_t else (),
                       vocab_t.text("hint") if vocab_t else "")
    if vocab_t:
        vocab_t.unknown()
    level1 = tuple((t.text("name"), t.number("max")) for t in root.tables("level1"))
    indicators = tuple(ind for ind in (_indicator(t, problems) for t in root.tables("indicator")) if ind)
    grade_t = root.table("grade")
    grade = Grade((), "")
    if grade_t:
        grade = Grade(parse_bands(grade_t, "bands", problems, points=False), grade_t.text("rule_text"),
                      grade_t.text("reference", ""), grade_t.text("reading", ""))
        grade_t.unknown()
    functions = tuple(f for f in (_measure_function(t, problems) for t in root.tables("function", required=False)) if f)
    target = root.table("target_met")
    target_met = target.data if target else {}
    if target:
        target.read.update(target.data)
    self_eval = root.table("self_evaluation", required=False)
    checks = {}
    if self_eval:
        checks = {k: self_eval.text(k) for k in ("budget_total", "spent_total") if self_eval.has(k)}
        self_eval.unknown()
    fixture = ed.flag("fixture")
    rubric = Rubric(
        id=edition_id, title=ed.text("title"), region=ed.text("region", ""), year=ed.integer("year"),
        source=ed.text("source"), total=ed.number("total"), decimals=ed.integer("decimals"),
        level1=level1, indicators=indicators, grade=grade, vocabulary=vocab, target_met=target_met,
        measure_functions=functions, inputs=(), self_evaluation=checks, fixture=fixture, file=file)
    ed.unknown({"reference", "reading"})
    root.unknown()
    return _resolve_inputs(rubric, problems)


def _indicator(t: Table, problems: Problems) -> Indicator | None:
    name = t.text("name")
    parts = tuple(p for p in (parse_part(pt, problems, name) for pt in t.tables("part")) if p)
    override = None
    ot = t.table("override", required=False)
    if ot is not None:
        ot.read.add("input")
        slot = parse_slot(ot.raw("input"), ot.path + ("input",), problems, kinds=("check",))
        override = Override(dataclasses.replace(slot, optional=True, declared=True), ot.number("points"),
                            ot.text("note", ""))
        ot.unknown()
    ind = Indicator(id=t.text("id"), level1=t.text("level1"), level2=t.text("level2"), name=name,
                    max=t.number("max"), function=t.text("function"), description=t.text("description"),
                    rule_text=t.text("rule_text"), reference=t.text("reference"), reading=t.text("reading", ""),
                    parts=parts, override=override, path=t.path)
    t.unknown()
    return ind


def _measure_function(t: Table, problems: Problems) -> MeasureFunction | None:
    if not t.has("args"):
        t.problem(None, "函数缺少“args”（参数：arg、label、kind、help）")
        return None
    measure = parse_measure(t, problems, t.text("name", ""), key="args", named=False)
    function = MeasureFunction(t.text("name"), t.text("summary"), measure, t.flag("volatile"),
                               t.flag("read_names")) if measure else None
    for key in ("measure", "rate_label", "above", "both_zero"):
        t.read.add(key)
    t.unknown()
    return function


_INPUT_FIELDS = ("kind", "unit", "help", "upper", "optional", "group", "options")


def _occurrences(rubric: Rubric) -> Iterator[Slot]:
    for ind in rubric.indicators:
        for part in ind.parts:
            for slot in part.slots():
                yield slot
        if ind.override:
            yield ind.override.input


def _resolve_inputs(rubric: Rubric, problems: Problems) -> Rubric:
    """Every named input declared once (kind, unit, help …); each use takes its declaration."""
    declared: dict[str, Slot] = {}
    sources_declared = list(problems.declared)
    for slot in [*_occurrences(rubric), *sources_declared]:
        if slot.name is None or not slot.declared:
            continue
        base = dataclasses.replace(slot, arg=None, path=slot.path, source=None)
        if slot.name in declared:
            first = declared[slot.name]
            diff = [f for f in _INPUT_FIELDS if getattr(first, f) != getattr(base, f)]
            if diff:
                problems.add(slot.path, f"输入项“{slot.name}”已在别处声明，两处的 {'、'.join(diff)} 不一致")
            continue
        declared[slot.name] = base
    # the order of 基础数据: each name where it is first used, grouped under that indicator by default
    order: list[str] = []
    for ind in rubric.indicators:
        used = [s for p in ind.parts for s in p.slots()] + ([ind.override.input] if ind.override else [])
        for slot in used:
            for name in [slot.name, *(slot.source.inputs if slot.source else ())]:
                if name and name not in order:
                    order.append(name)
                    if name in declared and declared[name].group is None:
                        declared[name] = dataclasses.replace(declared[name], group=ind.name)

    def resolve(slot: Slot, kinds: tuple[str, ...] | None = None) -> Slot:
        if slot.name is None:
            return slot
        if slot.name not in declared:
            problems.add(slot.path, f"输入项“{slot.name}”被使用但没有声明（需写明 kind、unit、help）")
            return slot
        decl = declared[slot.name]
        if kinds and decl.kind not in kinds:
            problems.add(slot.path, f"输入项“{slot.name}”的 kind 为“{decl.kind}”，此处需要 {'、'.join(kinds)}")
        return dataclasses.replace(decl, arg=slot.arg, source=slot.source, path=slot.path, declared=slot.declared)

    indicators = []
    for ind in rubric.indicators:
        parts = tuple(_map_slots(p, lambda s, kinds=_expected(p): resolve(s, kinds)) for p in ind.parts)
        override = dataclasses.replace(ind.override, input=resolve(ind.override.input)) if ind.override else None
        indicators.append(dataclasses.replace(ind, parts=parts, override=override))
    for slot in [*_occurrences(dataclasses.replace(rubric, indicators=tuple(indicators)))]:
        if slot.source:
            for name, path in zip(slot.source.inputs, slot.source.paths or [slot.path] * len(slot.source.inputs)):
                if name and name not in declared:
                    problems.add(path, f"输入项“{name}”被使用但没有声明（需写明 kind、unit、help）")
    inputs = tuple(declared[n] for n in order if n in declared)
    return dataclasses.replace(rubric, indicators=tuple(indicators), inputs=inputs)


def _expected(part: Part) -> tuple[str, ...] | None:
    """The kinds of input a part can read (None: it declares its own input)."""
    measure = getattr(part, "measure", None)
    if measure is not None:
        return Measure.SHAPES[measure.shape][2]
    if part.shape == "per_item":
        return ("count",)
    return None


def _map_slots(obj: Any, f) -> Any:
    """``obj`` with every :class:`Slot` inside it (fields, tuples, nested dataclasses) replaced by ``f(slot)``."""
    if isinstance(obj, Slot):
        return f(obj)
    if isinstance(obj, tuple):
        return tuple(_map_slots(x, f) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for fl in dataclasses.fields(obj):
            value = getattr(obj, fl.name)
            if fl.init and isinstance(value, (Slot, tuple)) or dataclasses.is_dataclass(value):
                changes[fl.name] = _map_slots(value, f)
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


# ------------------------------------------------------------------ validation


def _validate(rubric: Rubric, data: dict[str, Any], problems: Problems) -> None:
    level1_max = dict(rubric.level1)
    if not math.isclose(sum(level1_max.values()), rubric.total):
        problems.add(("level1",), f"一级指标分值合计 {num(sum(level1_max.values()))} ≠ 总分 {num(rubric.total)}")
    for i, (name, expected) in enumerate(rubric.level1):
        got = sum(ind.max for ind in rubric.indicators if ind.level1 == name)
        if not math.isclose(got, expected):
            problems.add(("level1", i, "max"), f"“{name}”下各指标分值合计 {num(got)} ≠ {num(expected)}")
    ids, functions = set(), {}
    for ind in rubric.indicators:
        path = ind.path
        if ind.id in ids:
            problems.add(path + ("id",), f"指标 id“{ind.id}”重复")
        ids.add(ind.id)
        if ind.level1 not in level1_max:
            problems.add(path + ("level1",), f"{ind.name}：一级指标“{ind.level1}”未定义")
        parts_max = sum(p.max for p in ind.parts)
        if ind.parts and not math.isclose(parts_max, ind.max):
            problems.add(path + ("max",), f"{ind.name}：各评分项满分合计 {num(parts_max)} ≠ 指标分值 {num(ind.max)}")
        if not ind.parts:
            problems.add(path, f"{ind.name}：没有评分项（[[indicator.part]]）")
        if ind.override and not 0 <= ind.override.points <= ind.max:
            problems.add(path + ("override", "points"), f"{ind.name}：直接得分应在 0 到 {num(ind.max)} 之间")
        for part in ind.parts:
            if getattr(part, "points", 0) < 0 or (hasattr(part, "bands") and any(
                    b.points is not None and not 0 <= b.points <= part.max for b in part.bands)):
                problems.add(part.path, f"{ind.name}：分值不能为负数")
        _function_names(ind, path, functions, problems)
    for f in rubric.measure_functions:
        _claim(functions, f.name, ("function",), problems)
    known = {f.name for f in rubric.measure_functions}
    for ind in rubric.indicators:
        for slot in ind.slots():
            if slot.source:
                if slot.source.function not in known:
                    problems.add(slot.path, f"来源函数“{slot.source.function}”未在 [[function]] 中定义")
                else:
                    f = rubric.measure_function(slot.source.function)
                    if len(slot.source.inputs) != len(f.measure.slots):
                        problems.add(slot.path, f"{slot.source.function} 有 {len(f.measure.slots)} 个参数，"
                                                f"来源给了 {len(slot.source.inputs)} 个输入项")
    if not rubric.grade.bands:
        problems.add(("grade",), "评分等级没有分档")
    if not rubric.vocabulary.yes or not rubric.vocabulary.no:
        problems.add(("vocabulary",), "是/否词表不能为空")
    for key in ("negations", "multipliers", "approximate"):
        if key not in rubric.target_met:
            problems.add(("target_met",), f"[target_met] 缺少“{key}”")


def _function_names(ind: Indicator, path: tuple, functions: dict, problems: Problems) -> None:
    _claim(functions, ind.function, path + ("function",), problems)
    args = [s.arg for s in ind.slots() if s.arg]
    for arg in {a for a in args if args.count(a) > 1}:
        problems.add(path, f"{ind.function} 的参数名“{arg}”重复")
    schedule = ind.schedule
    if schedule:
        for name in (schedule.period_function, schedule.average_function):
            if name:
                _claim(functions, name, schedule.path, problems)


def _claim(functions: dict, name: str, path: tuple, problems: Problems) -> None:
    if not name:
        return
    if not (name.isascii() and name.upper() == name and name.startswith("JX_")
            and all(c.isalnum() or c == "_" for c in name)):
        problems.add(path, f"函数名“{name}”应以 JX_ 开头，只用大写英文字母、数字和下划线")
    if name in (GRADE_FUNCTION, TARGET_FUNCTION):
        problems.add(path, f"函数名“{name}”是每个版本共有的函数，不能用于指标")
    if name in functions:
        problems.add(path, f"函数名“{name}”在本版本中重复")
    functions[name] = path


def signatures(rubric: Rubric) -> dict[str, tuple[tuple[str, bool], ...]]:
    """Every function's argument list, (name, optional) each, straight from the data.

    Cheap and robust: a file with other problems still has its argument
    lists compared with the installed editions'.
    """
    out: dict[str, tuple[tuple[str, bool], ...]] = {}
    for ind in rubric.indicators:
        out[ind.function] = tuple((s.arg, s.optional) for s in ind.slots())
        if ind.schedule:
            part = ind.schedule
            if part.period_function:
                out[part.period_function] = tuple((a, False) for a in part.period_args)
            if part.average_function:
                out[part.average_function] = tuple((s.arg, s.optional) for s in part.slots())
    for f in rubric.measure_functions:
        out[f.name] = tuple((s.arg, s.optional) for s in f.measure.slots)
    out[GRADE_FUNCTION] = (("total", False),)
    out[TARGET_FUNCTION] = (("target", False), ("actual", False))
    return out


def _text(signature: tuple[tuple[str, bool], ...]) -> str:
    return ", ".join(("Optional " if optional else "") + name for name, optional in signature)


def _clashes(rubric: Rubric) -> list[tuple[str, str]]:
    """One function name, one argument list, in every installed edition: (name, message) per clash."""
    out = []
    mine = signatures(rubric)
    for other_id in editions():
        if other_id == rubric.id:
            continue
        theirs = signatures(load_rubric(other_id))
        for name, signature in mine.items():
            if name in theirs and theirs[name] != signature:
                out.append((name, f"函数 {name} 在版本“{other_id}”中的参数为（{_text(theirs[name])}），"
                                  f"本文件为（{_text(signature)}）：同名函数的参数必须相同，请改用其他函数名"))
    return out
