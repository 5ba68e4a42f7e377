"""Open a workbook someone sent us, safely, or say in Chinese why not.

Every check runs before any other library parses the file: not a file, too large,
not an xlsx/xlsm zip, a truncated zip, a zip bomb, a password-protected
(encrypted OLE) file, XML with a DTD or entities (billion laughs, external
entities: refused by defusedxml), a missing part.
"""

from __future__ import annotations

import html
import io
import os
import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_FILE_BYTES = 50 * 1024 * 1024         # a filled template is ~100 KB
MAX_UNPACKED_BYTES = 300 * 1024 * 1024    # all parts together, unpacked
MAX_RATIO = 200                           # unpacked/packed for any one part of real size
MAX_STRINGS_BYTES = 16 * 1024 * 1024      # the shared strings of a filled template are ~50 KB
MAX_SHEET_BYTES = 32 * 1024 * 1024        # one worksheet part the reader parses (a filled one is ~1 MB)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


class WorkbookError(Exception):
    """A workbook that cannot be read; the message names the file (and the cell)."""


def display_name(path: Path | str) -> str:
    """A file name as a person reads it, also when it came in GBK bytes from a Windows archive."""
    name = os.path.basename(os.fsdecode(path))
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # undecodable bytes kept as surrogates: try the Windows codepage
        raw = os.fsencode(name)
        for codec in ("gbk", "gb18030"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")


def read_file(path: Path) -> tuple[bytes, str]:
    """The bytes of a workbook file (read once) and its display name; size checked first."""
    path = Path(path)
    label = display_name(path)
    try:
        if not path.exists():
            raise WorkbookError(f"{label}：文件不存在")
        if not path.is_file():
            raise WorkbookError(f"{label}：不是文件")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WorkbookError(f"{label}：文件过大（{size / 1024 / 1024:.0f} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB）")
        return path.read_bytes(), label
    except OSError as error:
        raise WorkbookError(f"{label}：无法读取（{error.strerror or error}）") from None


def open_checked(path: Path) -> zipfile.ZipFile:
    """The workbook's zip, after every safety check; raises WorkbookError."""
    data, label = read_file(path)
    return check_package(data, label)


def check_package(data: bytes, label: str) -> zipfile.ZipFile:
    """The zip of a workbook's bytes, after every safety check; raises WorkbookError naming ``label``."""
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookError(f"{label}：文件过大（{len(data) / 1024 / 1024:.0f} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB）")
    if data[:8] == OLE_MAGIC:
        raise WorkbookError(f"{label}：文件有密码保护（已加密）或为旧版 .xls 格式，请另存为无密码的 .xlsx/.xlsm")
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        raise WorkbookError(f"{label}：不是 Excel 工作簿（.xlsx/.xlsm）或文件已损坏")
    try:
        archive = zipfile.ZipFile(buffer)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        raise WorkbookError(f"{label}：文件已损坏（{error}）") from None
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookError(f"{label}：{info.filename} 使用了 Excel 不支持的压缩方式，请用 Excel 或 WPS 重新保存")
        if info.file_size > 1024 * 1024 and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise WorkbookError(f"{label}：压缩比异常（{info.filename}），疑似压缩炸弹，已拒绝")
        if info.filename == "xl/sharedStrings.xml" and info.file_size > MAX_STRINGS_BYTES:
            raise WorkbookError(f"{label}：共享字符串表过大（{info.file_size / 1024 / 1024:.0f} MB），"
                                "不是正常填报的工作簿，已拒绝")
    if total > MAX_UNPACKED_BYTES:
        raise WorkbookError(f"{label}：解压后过大（{total / 1024 / 1024:.0f} MB），疑似压缩炸弹，已拒绝")
    names = {i.filename for i in infos}
    for part in ("[Content_Types].xml", "xl/workbook.xml"):
        if part not in names:
            raise WorkbookError(f"{label}：缺少 {part}，不是有效的 Excel 工作簿")
    for name in sorted(names):
        if name.endswith(".xml") or name.endswith(".rels") or name.endswith(".vml"):
            _refuse_dtd(archive, name, label)
    return archive


def _refuse_dtd(archive: zipfile.ZipFile, name: str, label: str) -> None:
    """Refuse any XML part with a DTD: entity expansion and external entities start there.

    A DTD can only stand in the prolog, before the root element, so reading up
    to the root's start tag is enough; the whole part is parsed by defusedxml
    only when the prolog is unusually long.
    """
    try:
        with archive.open(name) as part:
            head = part.read(8192)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
        raise WorkbookError(f"{label}：文件已损坏（{name}：{error}）") from None
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head[: root.start()] if root else head
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise WorkbookError(f"{label}：{name} 含有 DTD 或实体声明（XML 攻击），已拒绝")
    if root is None:
        read_xml(archive, name, label)


def read_xml(archive: zipfile.ZipFile, name: str, label: str) -> Element:
    try:
        data = archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise WorkbookError(f"{label}：文件已损坏（{name}：{error}）") from None
    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise WorkbookError(f"{label}：{name} 含有 DTD 或实体声明（XML 攻击），已拒绝") from None
    except Exception as error:  # ParseError and friends
        raise WorkbookError(f"{label}：{name} 不是有效的 XML（{error}）") from None


_DEFINED_NAME = re.compile(r"<(?:\w+:)?definedName\b([^>]*)>([^<]*)</(?:\w+:)?definedName>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TARGET = re.compile(r"'?(.+?)'?!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)")


def defined_names(path: Path | zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Workbook-level defined names → (sheet, reference without $), for cell and range targets.

    A regular expression over ``xl/workbook.xml`` rather than an XML parser:
    this runs once per file in a batch of thousands, and :func:`check_package`
    has already refused any DTD, so no entity can hide in the text.
    """
    return {n: t for n, t in all_defined_names(path).items() if isinstance(t, tuple)}


def all_defined_names(path: Path | zipfile.ZipFile) -> dict[str, tuple[str, str] | str]:
    """Every workbook-level defined name: (sheet, ref), or the raw text of any other target (#REF!, a formula)."""
    if isinstance(path, zipfile.ZipFile):
        text = path.read("xl/workbook.xml").decode("utf-8", "replace")
    else:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    names: dict[str, tuple[str, str] | str] = {}
    for attrs, body in _DEFINED_NAME.findall(text):
        attributes = dict(_ATTR.findall(attrs))
        name = html.unescape(attributes.get("name", ""))
        if "localSheetId" in attributes or name.startswith("_xlnm."):
            continue
        text = html.unescape(body).strip()
        match = _TARGET.fullmatch(text)
        names[name] = (match.group(1).replace("''", "'"), match.group(2).replace("$", "")) if match else text
    return names


def sheet_paths(path: Path | zipfile.ZipFile, label: str | None = None) -> dict[str, str]:
    """Sheet name → part name inside the zip (xl/worksheets/sheetN.xml)."""
    archive = path if isinstance(path, zipfile.ZipFile) else zipfile.ZipFile(path)
    label = label or (display_name(path) if not isinstance(path, zipfile.ZipFile) else "工作簿")
    workbook = read_xml(archive, "xl/workbook.xml", label)
    rels = read_xml(archive, "xl/_rels/workbook.xml.rels", label)
    targets = {r.get("Id"): r.get("Target") for r in rels.iterfind("rel:Relationship", NS)}
    out = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['r']}}}id"))
        if target is None:
            raise WorkbookError(f"{label}：工作表“{sheet.get('name')}”缺少对应的部件，文件已损坏")
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return out
