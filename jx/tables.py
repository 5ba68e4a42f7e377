"""Reading an edition's TOML tables while collecting every problem, with where it is.

A finance bureau writes an edition by hand; ``jx rubric check`` must report
every problem at once, in Chinese, with its line. Each :class:`Table` knows
its path inside the document (``indicator[3].part[0].bands[1]``); a problem
carries that path, and :func:`line_of` finds the line in the source text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Path = tuple[object, ...]  # keys and indices, e.g. ("indicator", 3, "part", 0, "limit")

_MISSING = object()


@dataclass
class Problems:
    """Every problem found in one document (and the inputs declared along the way)."""

    items: list[tuple[Path, str]] = field(default_factory=list)
    declared: list = field(default_factory=list)  # input declarations found inside sources

    def add(self, path: Path, text: str) -> None:
        self.items.append((path, text))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Table:
    """A TOML table being read: typed lookups that report instead of raising."""

    def __init__(self, data: Any, path: Path, problems: Problems):
        self.path = path
        self.problems = problems
        if not isinstance(data, dict):
            problems.add(path, f"{describe(path)} 应为表格（键 = 值），实际为 {type(data).__name__}")
            data = {}
        self.data = data
        self.read: set[str] = set()

    def problem(self, key: str | None, text: str) -> None:
        self.problems.add(self.path + ((key,) if key else ()), text)

    def _get(self, key: str, kinds: tuple[type, ...], kind_name: str, required: bool, default: Any) -> Any:
        self.read.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(None, f"{describe(self.path)} 缺少“{key}”")
            return default
        if bool in kinds or not isinstance(value, bool):
            if isinstance(value, kinds):
                return float(value) if float in kinds and isinstance(value, int) and not isinstance(value, bool) \
                    else value
        self.problem(key, f"“{key}”应为{kind_name}，实际为 {value!r}")
        return default

    def text(self, key: str, default: Any = _MISSING) -> str:
        required = default is _MISSING
        value = self._get(key, (str,), "文字", required, "" if required else default)
        if required and isinstance(value, str) and not value.strip() and key in self.data:
            self.problem(key, f"“{key}”不能为空")
        return value

    def number(self, key: str, default: Any = _MISSING) -> float:
        required = default is _MISSING
        return self._get(key, (int, float), "数字", required, 0.0 if required else default)

    def integer(self, key: str, default: Any = _MISSING) -> int:
        required = default is _MISSING
        return self._get(key, (int,), "整数", required, 0 if required else default)

    def flag(self, key: str, default: bool = False) -> bool:
        return self._get(key, (bool,), "true 或 false", False, default)

    def raw(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.data.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str, required: bool = True) -> "Table | None":
        self.read.add(key)
        if key not in self.data:
            if required:
                self.problem(None, f"{describe(self.path)} 缺少“{key}”")
            return None
        return Table(self.data[key], self.path + (key,), self.problems)

    def tables(self, key: str, required: bool = True) -> list["Table"]:
        self.read.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(None, f"{describe(self.path)} 缺少“{key}”")
            return []
        if not isinstance(value, list):
            self.problem(key, f"“{key}”应为列表")
            return []
        return [Table(item, self.path + (key, i), self.problems) for i, item in enumerate(value)]

    def strings(self, key: str, required: bool = True) -> list[str]:
        self.read.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(None, f"{describe(self.path)} 缺少“{key}”")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, f"“{key}”应为文字列表")
            return []
        return list(value)

    def unknown(self, allowed: set[str] | None = None) -> None:
        """Report keys nobody read (a typo such as ``uper`` must not pass silently)."""
        allowed = (allowed or set()) | self.read
        for key in self.data:
            if key not in allowed:
                self.problem(key, f"未知的键“{key}”（拼写错误？）")


_NAMES = {"indicator": "指标", "part": "评分项", "bands": "分档", "inputs": "输入项", "input": "输入项",
          "level1": "一级指标", "function": "函数", "periods": "期间", "override": "直接得分条件",
          "statuses": "状态", "grade": "评分等级", "edition": "版本信息", "vocabulary": "是/否词表",
          "target_met": "绩效指标判定", "args": "参数", "from": "来源", "self_evaluation": "自评表核对"}


def describe(path: Path) -> str:
    """A path as a reader of the file says it: 指标[3].评分项[1]."""
    if not path:
        return "文件"
    out = []
    for part in path:
        if isinstance(part, int):
            out[-1] += f"[{part + 1}]"
        else:
            out.append(_NAMES.get(str(part), str(part)))
    return ".".join(out)


# ------------------------------------------------------------------ lines


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def line_of(source: str, path: Path) -> int | None:
    """The 1-based line of ``path`` in the TOML ``source`` (best effort; None if not found)."""
    lines = source.splitlines()
    headers: list[tuple[int, str, bool]] = []  # (line index, dotted name, array-of-tables)
    for i, text in enumerate(lines):
        m = _HEADER.match(text)
        if m and not text.strip().startswith("#"):
            headers.append((i, m.group(2).replace(" ", ""), m.group(1) == "[["))
    # walk the path through headers: each array element is the n-th [[name]] inside the parent's span
    start, end = 0, len(lines)
    table_path: list[str] = []
    rest = list(path)
    while rest:
        key = rest[0]
        dotted = ".".join(table_path + [str(key)])
        spans = [(i, arr) for i, name, arr in headers if name == dotted and start <= i < end]
        if not spans:
            break
        if spans[0][1]:  # array of tables: the next path element is the index
            index = rest[1] if len(rest) > 1 and isinstance(rest[1], int) else 0
            if index >= len(spans):
                return spans[-1][0] + 1
            begin = spans[index][0]
            following = [i for i, name, _ in headers if i > begin and not name.startswith(dotted + ".")]
            start, end = begin, min(following + [end])
            rest = rest[2:] if len(rest) > 1 and isinstance(rest[1], int) else rest[1:]
        else:
            begin = spans[0][0]
            following = [i for i, name, _ in headers if i > begin and not name.startswith(dotted + ".")]
            start, end = begin, min(following + [end])
            rest = rest[1:]
        table_path.append(str(key))
    if not rest:
        return start + 1
    # keys and indices inside the current table: inline tables and arrays, possibly over several lines
    line, col = start, 0
    for i, part in enumerate(rest):
        if isinstance(part, int):
            line, col = _element(lines, line, col, part)
            continue
        found = _key(lines, line, col, end, str(part), nested=i > 0)
        if found is None:
            return line + 1
        line, col = found
    return line + 1


def _key(lines: list[str], line: int, col: int, end: int, key: str, nested: bool) -> tuple[int, int] | None:
    """Where ``key =`` is written from (line, col) on: a line of the table, or inside an inline table."""
    pattern = re.compile(rf"(^|[{{,\s])\"?{re.escape(key)}\"?\s*=")
    for j in range(line, end):
        text = lines[j][col:] if j == line else lines[j]
        m = pattern.search(text)
        if m and (nested or re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", lines[j])):
            return j, (col if j == line else 0) + m.end()
    return None


def _element(lines: list[str], line: int, col: int, index: int) -> tuple[int, int]:
    """Where element ``index`` of the array that opens after (line, col) starts."""
    depth, count, in_string = 0, 0, False
    j, c = line, col
    while j < len(lines):
        text = lines[j]
        while c < len(text):
            ch = text[c]
            if in_string:
                in_string = ch != '"'
            elif ch == '"':
                in_string = True
                if depth == 1 and count == index:
                    return j, c
            elif ch == "#":
                break
            elif ch in "[{":
                depth += 1
                if depth == 2 and count == index:
                    return j, c
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return line, col
            elif ch == "," and depth == 1:
                count += 1
            elif not ch.isspace() and depth == 1 and count == index:
                return j, c
            c += 1
        j, c = j + 1, 0
    return line, col
