"""Write a copy of a workbook whose formula cells carry computed values.

Each formula keeps its text; the ``<v>`` beside it gets the value the engine
computed, so a viewer without Python (or a reader such as calamine) shows the
right numbers. The copy is the original package with only the worksheet parts
rewritten; everything else (VBA, styles, names) is copied byte for byte.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from addin.atomic import write_atomically
from .reading import EXCEL_ERROR_TEXT
from .workbook_io import sheet_paths

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_FORMULA = re.compile(rb"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
_REF = re.compile(rb'\br="([A-Z]+\d+)"')
_TYPE = re.compile(rb'\s+t="[^"]*"')


def _value_xml(value: Any) -> tuple[bytes, bytes]:
    """(type attribute, <v> element) for a computed value."""
    if value is None:
        return b"", b""
    if isinstance(value, bool):
        return b' t="b"', b"<v>%d</v>" % int(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return b' t="e"', b"<v>#NUM!</v>"
        return b"", b"<v>" + repr(float(value)).encode() + b"</v>"
    text = str(value)
    if text in EXCEL_ERROR_TEXT:
        return b' t="e"', b"<v>" + text.encode() + b"</v>"
    return b' t="str"', b"<v>" + escape(text).encode("utf-8") + b"</v>"


def _patch_sheet(xml: bytes, values: Mapping[str, Any]) -> bytes:
    def replace(match: re.Match) -> bytes:
        attrs, body = match.group(1), match.group(2)
        if not body:
            return match.group(0)
        formula = _FORMULA.search(body)
        ref = _REF.search(attrs)
        if not formula or not ref:
            return match.group(0)
        type_attr, v = _value_xml(values.get(ref.group(1).decode()))
        attrs = _TYPE.sub(b"", attrs) + type_attr
        return b"<c" + attrs + b">" + formula.group(0) + v + b"</c>"

    return _CELL.sub(replace, xml)


def with_values(src: Path | bytes, values: Mapping[tuple[str, str], Any]) -> bytes:
    """The bytes of ``src`` (a path or the package's bytes) with each formula's cached value set from ``values``."""
    src = io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else Path(src)
    with zipfile.ZipFile(src) as archive:
        parts = {path: sheet for sheet, path in sheet_paths(archive).items()}
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, ref), value in values.items():
        by_sheet.setdefault(sheet, {})[ref] = value
    out = io.BytesIO()
    with zipfile.ZipFile(src) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename in parts:
                data = _patch_sheet(data, by_sheet.get(parts[info.filename], {}))
            if info.filename == "xl/calcChain.xml":
                continue  # the chain is Excel's cache; it rebuilds it
            target.writestr(info, data)
    return out.getvalue()


def write_with_values(src: Path | bytes, values: Mapping[tuple[str, str], Any], dst: Path) -> Path:
    if not isinstance(src, (bytes, bytearray)) and Path(dst).resolve() == Path(src).resolve():
        raise ValueError("输出文件不能与输入文件相同")
    write_atomically(Path(dst), with_values(src, values))
    return Path(dst)
