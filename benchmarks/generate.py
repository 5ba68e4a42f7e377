"""Generate many filled workbooks quickly: the example with its inputs and its targets varied.

Each copy is the example package with the 基础数据 sheet's input values
rewritten (its 部门名称 numbered, so that no two copies are the same
department), and the figures of its performance targets: each 预期指标值 and
实际完成值 that begins with a number gets a new one (the target scaled, the
actual drawn around it, units and words kept), so the files do not share
their target judgements the way identical copies would. Cached results are
left as they were, so the audit has disagreements to find, as it would in
real submissions.
"""

from __future__ import annotations

import html
import random
import re
import zipfile
from pathlib import Path

from jxtools.build import EXAMPLE
from jxtools.reading import _escaped as escaped
from jxtools.workbook_io import defined_names, sheet_paths

VARIED = {
    "编外人数": lambda r: r.randint(0, 8),
    "在编人数": lambda r: r.randint(10, 14),
    "满意度": lambda r: round(r.uniform(0.75, 1.0), 4),
    "已完成项目数": lambda r: r.randint(25, 41),
    "效果性评分": lambda r: r.randint(18, 25),
    "三公经费支出": lambda r: round(r.uniform(20000, 48000), 2),
    "采购政策落实": lambda r: round(r.uniform(0.5, 1), 2),
}


def _set_number(xml: bytes, ref: str, value: float) -> bytes:
    pattern = re.compile(rb'(<c r="' + ref.encode() + rb'"[^>]*?)(?: t="\w+")?>(?:<v>[^<]*</v>|<is>.*?</is>)?</c>')
    new, count = pattern.subn(lambda m: m.group(1) + b"><v>" + repr(float(value)).encode() + b"</v></c>", xml)
    if count != 1:
        raise ValueError(f"cell {ref} not found exactly once")
    return new


def _set_text(xml: bytes, ref: str, text: str) -> bytes:
    pattern = re.compile(rb'(<c r="' + ref.encode() + rb'"[^>]*t="inlineStr"[^>]*><is><t[^>]*>)[^<]*(</t>)')
    new, count = pattern.subn(lambda m: m.group(1) + _escaped(text) + m.group(2), xml)
    if count != 1:
        raise ValueError(f"cell {ref} not found exactly once")
    return new


_TEXT_CELL = re.compile(rb'(<c r="([DE])(\d+)"[^>]*t="inlineStr"[^>]*><is><t[^>]*>)([^<]*)')
_FIGURE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(%?)")


def _redrawn(text: str, base: float | None, rng: random.Random) -> tuple[str, float | None]:
    """A target (``base`` None: its figure scaled by 0.5–3) or an actual (0.6–1.5 of its row's new target).

    Only a text that begins with a figure changes; its unit and words stay,
    a percentage stays at most 100%. Returns the text and its new figure.
    """
    m = _FIGURE.match(text)
    if not m:
        return text, None
    number = float(m.group(1))
    if base is None:
        value = number * rng.choice((0.5, 1, 1, 2, 3))
    else:
        value = base * rng.uniform(0.6, 1.5)
    if m.group(2):
        value = min(value, 100.0)
    decimals = len(m.group(1).partition(".")[2])
    shown = f"{value:.{decimals}f}" if decimals else str(round(value))
    return shown + text[m.end(1):], value


def vary_targets(targets: list[dict], rng: random.Random) -> list[dict]:
    """Target rows ({..., "target", "actual"}) with their figures redrawn."""
    out = []
    for row in targets:
        target, figure = _redrawn(row["target"], None, rng)
        actual, _ = _redrawn(row["actual"], figure if figure is not None else _first(row["actual"]), rng)
        out.append(row | {"target": target, "actual": actual})
    return out


def _first(text: str) -> float | None:
    m = _FIGURE.match(text)
    return float(m.group(1)) if m else None


def _vary_targets(xml: bytes, first: int, last: int, rng: random.Random) -> bytes:
    """The target sheet's 预期指标值 (column D) and 实际完成值 (E) redrawn, as :func:`vary_targets` does."""
    figures: dict[bytes, float | None] = {}

    def vary(m: re.Match) -> bytes:
        column, row, raw = m.group(2), m.group(3), m.group(4)
        if not first <= int(row) <= last:
            return m.group(0)
        text = html.unescape(raw.decode())
        if column == b"D":
            text, figures[row] = _redrawn(text, None, rng)
        else:
            base = figures.get(row)
            text, _ = _redrawn(text, base if base is not None else _first(text), rng)
        return m.group(1) + _escaped(text)

    return _TEXT_CELL.sub(vary, xml)


def _escaped(text: str) -> bytes:
    """Text as openpyxl writes it into sheet XML (the reader's own escaping: non-ASCII as character references)."""
    return escaped(text, ascii_only=True).encode()


def generate(count: int, folder: Path, seed: int = 2020) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    names = defined_names(EXAMPLE)
    inputs_part = sheet_paths(EXAMPLE)["基础数据"]
    target_sheet, target_ref = names["预期指标值"]
    targets_part = sheet_paths(EXAMPLE)[target_sheet]
    first, last = (int(re.sub(r"\D", "", ref)) for ref in target_ref.split(":"))
    with zipfile.ZipFile(EXAMPLE) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = folder / f"dept-{i:05d}.xlsm"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in parts:
                if info.filename == inputs_part:
                    for name, draw in VARIED.items():
                        data = _set_number(data, names[name][1], draw(rng))
                    data = _set_text(data, names["部门名称"][1], f"测试单位第 {i + 1} 号")
                elif info.filename == targets_part:
                    data = _vary_targets(data, first, last, rng)
                out.writestr(info, data)
        paths.append(path)
    return paths
