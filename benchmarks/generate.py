"""Generate many filled workbooks quickly: the example with its numeric inputs varied.

Each copy is the example package with only the 基础数据 sheet's input values
rewritten (and its cached results left as they were, so the audit has
disagreements to find, as it would in real submissions).
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

from jxtools.build import EXAMPLE
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


def generate(count: int, folder: Path, seed: int = 2020) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    names = defined_names(EXAMPLE)
    inputs_part = sheet_paths(EXAMPLE)["基础数据"]
    with zipfile.ZipFile(EXAMPLE) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = folder / f"dept-{i:04d}.xlsm"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in parts:
                if info.filename == inputs_part:
                    for name, draw in VARIED.items():
                        data = _set_number(data, names[name][1], draw(rng))
                out.writestr(info, data)
        paths.append(path)
    return paths
