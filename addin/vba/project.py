"""Build an Excel ``vbaProject.bin`` (MS-OVBA) from VBA module source text.

The project is written "source only": every module stream holds just its
compressed source (MODULEOFFSET 0, no performance cache) and ``_VBA_PROJECT``
declares version 0xFFFF, which makes Excel compile the code when it opens the
workbook (MS-OVBA 2.3.4.1, 2.3.4.3). The streams written are

* ``PROJECT`` - project properties as text (MS-OVBA 2.3.1);
* ``PROJECTwm`` - module name map (MS-OVBA 2.3.3);
* ``VBA/_VBA_PROJECT`` - the 7-byte header without cache (MS-OVBA 2.3.4.1);
* ``VBA/dir`` - compressed project information, references and module
  records (MS-OVBA 2.3.4.2);
* ``VBA/<module>`` - one compressed source stream per module (MS-OVBA 2.3.4.3).

Module-level attribute lines. A module's stored source starts with
``Attribute`` lines that the VBA editor hides. ``VbaModule.source`` holds the
code *after* them (procedure-level lines such as ``Attribute Item.VB_UserMemId
= 0`` stay in the code, as in an exported file), and the header is generated:

* standard modules: ``Attribute VB_Name = "<name>"`` plus any extra attributes
  given (``module_from_bas`` keeps those of the file);
* class modules: VB_Name, VB_Base, VB_GlobalNameSpace, VB_Creatable,
  VB_PredeclaredId, VB_Exposed, VB_TemplateDerived, VB_Customizable in the
  order and with the defaults Excel uses for a new class; values given in
  ``attributes`` (e.g. from a ``.cls`` file) override the defaults, and other
  attributes such as VB_Description follow;
* document modules: the same eight lines with Excel's document defaults and
  the host's VB_Base (workbook or worksheet).

The stored text is that header followed by the code, every line ended by CRLF,
encoded in the project codepage.
"""

from __future__ import annotations

import codecs
import re
import struct
import uuid
from dataclasses import dataclass

from .cfb import write_compound_file
from .compression import compress

__all__ = [
    "VbaModule",
    "build_vba_project",
    "module_from_bas",
    "module_from_cls",
    "document_module",
    "vba_unicode_expr",
    "vba_unicode_assign",
    "project_id",
    "MAX_LINE_LENGTH",
]

MAX_LINE_LENGTH = 1023  # characters per physical line the VBA editor accepts

WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"
_DOCUMENT_BASES = {"workbook": WORKBOOK_BASE, "worksheet": WORKSHEET_BASE}

# Module-level attributes in the order Excel stores them, with the values it
# gives a new class module and a host document module.
_CLASS_DEFAULTS = {
    "VB_Base": f'"{CLASS_BASE}"',
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "False",
    "VB_Exposed": "False",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "False",
}
_DOCUMENT_DEFAULTS = {
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "True",
    "VB_Exposed": "True",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "True",
}

# PROJECTSYSKIND (MS-OVBA 2.3.4.2.1.1): 1 = 32-bit Windows. Without a
# performance cache the value only records where the project was last saved;
# Excel compiles the source for its own bitness either way. Win32 is what
# EPPlus writes for the projects it creates, and 32-bit-saved workbooks open in
# 64-bit Office every day.
_SYS_KIND_WIN32 = 0x00000001
_LCID_EN_US = 0x0409  # PROJECTLCID and PROJECTLCIDINVOKE MUST be 0x0409 (2.3.4.2.1.3-4)
_VERSION_MAJOR = 1  # PROJECTVERSION (2.3.4.2.1.11): free-form; Excel files carry arbitrary numbers
_VERSION_MINOR = 0
_COOKIE = 0xFFFF  # PROJECTCOOKIE / MODULECOOKIE: MUST be 0xFFFF on write (2.3.4.2.3.1, 2.3.4.2.3.2.7)
_MODULE_TYPE = {"standard": 0x0021, "class": 0x0022, "document": 0x0022}  # 2.3.4.2.3.2.8

# References every workbook Excel creates carries (REFERENCEREGISTERED,
# MS-OVBA 2.3.4.2.2.5). VBA and the host library (Excel) are implicit. Office
# resolves by GUID and version through the registry; the path is only a hint,
# and MSO.DLL ships with every Office installation.
_REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    (
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
        r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
    ),
)

_VBA_PROJECT_STREAM = bytes.fromhex("CC61FFFF000100")  # 2.3.4.1: version 0xFFFF, no cache
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_ENCRYPTION_SEED = 0x8D  # 2.4.3.2 takes a random seed; a fixed one keeps builds reproducible
_PROJECT_ID_NAMESPACE = uuid.UUID("6E1B2C3A-9B4F-4E0A-8F5D-2A7C1D3E4F50")

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")
_ATTRIBUTE = re.compile(r"Attribute\s+(\w+)\s*=\s*(.*?)\s*\Z")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")


@dataclass(frozen=True)
class VbaModule:
    """One VBA module.

    ``kind`` is "standard", "class" or "document". ``source`` is the code after
    the module-level ``Attribute`` lines (see the module docstring);
    ``attributes`` holds module-level attributes other than VB_Name as
    (name, value text) pairs, the value exactly as written after ``=``.
    """

    name: str
    kind: str
    source: str
    attributes: tuple[tuple[str, str], ...] = ()


def _lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their line break (CRLF, CR or LF)."""
    return [match.group() for match in _LINE.finditer(text) if match.group()]


def _split_header(text: str) -> tuple[list[tuple[str, str]], str]:
    """Split leading module-level ``Attribute`` lines from the code that follows."""
    attributes: list[tuple[str, str]] = []
    lines = _lines(text)
    for index, line in enumerate(lines):
        parsed = _ATTRIBUTE.match(line.rstrip("\r\n"))
        if parsed is None:
            return attributes, "".join(lines[index:])
        attributes.append((parsed.group(1), parsed.group(2)))
    return attributes, ""


def _take_name(attributes: list[tuple[str, str]], kind: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Pull the module name out of its VB_Name attribute."""
    names = [value for key, value in attributes if key == "VB_Name"]
    if len(names) != 1 or not re.fullmatch(r'"[^"]*"', names[0]):
        raise ValueError(f'exported {kind} module must start with one Attribute VB_Name = "..." line')
    rest = tuple((key, value) for key, value in attributes if key != "VB_Name")
    return names[0][1:-1], rest


def module_from_bas(text: str) -> VbaModule:
    """Parse an exported standard module (``.bas``), as the VBA editor writes it."""
    attributes, code = _split_header(text.lstrip("\ufeff"))
    name, rest = _take_name(attributes, "standard")
    return VbaModule(name, "standard", code, rest)


def module_from_cls(text: str) -> VbaModule:
    """Parse an exported class module (``.cls``).

    The ``VERSION 1.0 CLASS`` / ``BEGIN`` ... ``END`` block is dropped: it is
    export-only (MS-OVBA stores none of it). The attribute lines are kept; the
    ones an export omits (VB_Base, VB_TemplateDerived, VB_Customizable) get
    Excel's class defaults. A ``.cls`` whose VB_Base names the workbook or
    worksheet base becomes a document module; the editor's own export of a
    document module omits VB_Base, so build those with ``document_module``.
    """
    lines = _lines(text.lstrip("\ufeff"))
    if lines and lines[0].upper().startswith("VERSION"):
        ends = [index for index, line in enumerate(lines) if line.rstrip("\r\n").strip().upper() == "END"]
        if not ends:
            raise ValueError("exported class module: its VERSION/BEGIN block has no END line")
        lines = lines[ends[0] + 1 :]
    attributes, code = _split_header("".join(lines))
    name, rest = _take_name(attributes, "class")
    base = dict(rest).get("VB_Base", f'"{CLASS_BASE}"').strip('"')
    if base == CLASS_BASE:
        return VbaModule(name, "class", code, _full_attributes(rest, _CLASS_DEFAULTS))
    if base in _DOCUMENT_BASES.values():
        return VbaModule(name, "document", code, _full_attributes(rest, _DOCUMENT_DEFAULTS))
    raise ValueError(f"module {name!r}: unsupported VB_Base {base!r} (only classes, workbooks and worksheets)")


def document_module(name: str, base: str, source: str = "") -> VbaModule:
    """Return the document module of the workbook or of one worksheet.

    ``base`` is "workbook" (ThisWorkbook) or "worksheet"; ``name`` must equal
    the workbook's or the sheet's code name. ``source`` is optional event code.
    """
    if base not in _DOCUMENT_BASES:
        raise ValueError(f"document base must be 'workbook' or 'worksheet', not {base!r}")
    attributes = (("VB_Base", f'"{_DOCUMENT_BASES[base]}"'),) + tuple(_DOCUMENT_DEFAULTS.items())
    return VbaModule(name, "document", source, attributes)


def _full_attributes(given: tuple[tuple[str, str], ...], defaults: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Excel's standard attribute lines in Excel's order, then any others given."""
    values = dict(defaults)
    values.update((key, value) for key, value in given if key in values or key == "VB_Base")
    ordered = ["VB_Base", *[key for key in defaults if key != "VB_Base"]]
    extra = tuple((key, value) for key, value in given if key not in ordered)
    return tuple((key, values[key]) for key in ordered) + extra


def _header(module: VbaModule) -> list[str]:
    """Module-level attribute lines of a module's stored source (see module docstring)."""
    keys = [key for key, _ in module.attributes]
    if "VB_Name" in keys:
        raise ValueError(f"module {module.name!r}: VB_Name comes from the module name, not from attributes")
    if len(set(keys)) != len(keys):
        raise ValueError(f"module {module.name!r}: an attribute is given twice")
    if module.kind == "standard":
        if "VB_Base" in keys:
            raise ValueError(f"module {module.name!r}: a standard module has no VB_Base")
        attributes = module.attributes
    elif module.kind == "class":
        attributes = _full_attributes(module.attributes, _CLASS_DEFAULTS)
    else:
        if "VB_Base" not in keys:
            raise ValueError(f"document module {module.name!r} needs a VB_Base attribute; use document_module()")
        attributes = _full_attributes(module.attributes, _DOCUMENT_DEFAULTS)
    return [f'Attribute VB_Name = "{module.name}"'] + [f"Attribute {key} = {value}" for key, value in attributes]


def _module_bytes(module: VbaModule, encoding: str) -> bytes:
    """The stored source of ``module``: header + code, CRLF lines, in the codepage."""
    code_lines = _LINE_BREAK.split(module.source)
    if _ATTRIBUTE.match(code_lines[0]):
        # A whole exported file passed as source would store a second header.
        raise ValueError(
            f"module {module.name!r}: source starts with a module-level Attribute line; "
            "parse exported files with module_from_bas/module_from_cls"
        )
    if code_lines[-1] == "":
        code_lines.pop()  # the text already ends with a line break
    out = bytearray()
    for number, line in enumerate(_header(module) + code_lines, start=1):
        if len(line) > MAX_LINE_LENGTH:
            raise ValueError(
                f"module {module.name!r}, line {number}: {len(line)} characters, "
                f"more than VBA's {MAX_LINE_LENGTH}: {line[:60]!r}..."
            )
        try:
            out += line.encode(encoding) + b"\r\n"
        except UnicodeEncodeError as error:
            bad = line[error.start]
            raise ValueError(
                f"module {module.name!r}, line {number}: character {bad!r} (U+{ord(bad):04X}) "
                f"is not in the project codepage {encoding}; build the text with vba_unicode_expr(): {line!r}"
            ) from None
    return bytes(out)


def _record(record_id: int, data: bytes) -> bytes:
    """A dir stream record: Id (2 bytes), Size (4 bytes), data (MS-OVBA 2.3.4.2)."""
    return struct.pack("<HI", record_id, len(data)) + data


def _text_records(record_id: int, unicode_id: int, text: str, encoding: str) -> bytes:
    """A string record followed by its UTF-16 twin (e.g. PROJECTDOCSTRING, 2.3.4.2.1.7)."""
    return _record(record_id, text.encode(encoding)) + _record(unicode_id, text.encode("utf-16-le"))


def _dir_stream(modules: list[VbaModule], project_name: str, codepage: int, encoding: str) -> bytes:
    """The decompressed ``dir`` stream, records in MS-OVBA 2.3.4.2 order."""
    out = bytearray()
    # PROJECTINFORMATION (2.3.4.2.1); PROJECTCOMPATVERSION is optional and
    # omitted, as in the Excel-written reference file.
    out += _record(0x0001, struct.pack("<I", _SYS_KIND_WIN32))  # PROJECTSYSKIND
    out += _record(0x0002, struct.pack("<I", _LCID_EN_US))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", _LCID_EN_US))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", codepage))  # PROJECTCODEPAGE
    out += _record(0x0004, project_name.encode(encoding))  # PROJECTNAME
    out += _text_records(0x0005, 0x0040, "", encoding)  # PROJECTDOCSTRING
    out += _text_records(0x0006, 0x003D, "", encoding)  # PROJECTHELPFILEPATH (both paths)
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    # PROJECTVERSION: its Reserved field sits where a size would be and is 4,
    # but 6 bytes of data follow (2.3.4.2.1.11).
    out += struct.pack("<HIIH", 0x0009, 4, _VERSION_MAJOR, _VERSION_MINOR)
    out += _text_records(0x000C, 0x003C, "", encoding)  # PROJECTCONSTANTS
    # PROJECTREFERENCES (2.3.4.2.2): REFERENCENAME + REFERENCEREGISTERED each.
    for name, libid in _REFERENCES:
        out += _text_records(0x0016, 0x003E, name, encoding)
        libid_bytes = libid.encode(encoding)
        out += _record(0x000D, struct.pack("<I", len(libid_bytes)) + libid_bytes + struct.pack("<IH", 0, 0))
    # PROJECTMODULES (2.3.4.2.3)
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", _COOKIE))  # PROJECTCOOKIE
    for module in modules:  # MODULE records (2.3.4.2.3.2)
        out += _record(0x0019, module.name.encode(encoding))  # MODULENAME
        out += _record(0x0047, module.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text_records(0x001A, 0x0032, module.name, encoding)  # MODULESTREAMNAME
        out += _text_records(0x001C, 0x0048, "", encoding)  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: source starts at 0
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", _COOKIE))  # MODULECOOKIE
        out += _record(_MODULE_TYPE[module.kind], b"")  # MODULETYPE
        out += _record(0x002B, b"")  # module Terminator
    out += _record(0x0010, b"")  # dir stream Terminator
    return bytes(out)


def _encrypt(data: bytes, project_id: str) -> str:
    """MS-OVBA 2.4.3.2 Data Encryption, as used by the CMG, DPB and GC properties.

    The project key is the byte sum of the ``ID=`` value including braces
    (2.4.3.1); the seed is fixed instead of random so builds are reproducible.
    """
    seed = _ENCRYPTION_SEED
    version = 2
    project_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ project_key])
    unencrypted_1, encrypted_1, encrypted_2 = project_key, out[2], out[1]
    ignored = bytes((seed & 6) // 2)  # IgnoredLength filler bytes
    for byte in ignored + struct.pack("<I", len(data)) + data:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return out.hex().upper()


def _project_stream(modules: list[VbaModule], project_name: str, project_id: str) -> str:
    """The ``PROJECT`` stream text (MS-OVBA 2.3.1), CRLF lines, no [Workspace] section."""
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Unprotected project: protection state 0 (2.3.1.15), no password
        # (a single 0x00, 2.3.1.16), visible (0xFF, 2.3.1.17).
        f'CMG="{_encrypt(bytes(4), project_id)}"',
        f'DPB="{_encrypt(bytes(1), project_id)}"',
        f'GC="{_encrypt(bytes([0xFF]), project_id)}"',
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
    ]
    return "\r\n".join(lines) + "\r\n"


def _projectwm_stream(modules: list[VbaModule], encoding: str) -> bytes:
    """The ``PROJECTwm`` stream: each name in MBCS and UTF-16, NUL-ended (MS-OVBA 2.3.3)."""
    out = bytearray()
    for module in modules:
        out += module.name.encode(encoding) + b"\0" + module.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def project_id(project_name: str) -> str:
    """The fixed ``{GUID}`` used as the project's ID, derived from its name."""
    return "{" + str(uuid.uuid5(_PROJECT_ID_NAMESPACE, project_name)).upper() + "}"


def build_vba_project(modules: list[VbaModule], project_name: str = "VBAProject", codepage: int = 1252) -> bytes:
    """Return ``vbaProject.bin`` bytes holding ``modules`` (MS-OVBA 2.3).

    Raises ``ValueError`` for invalid or duplicate names, unknown module kinds,
    a codepage Python cannot encode, characters outside the codepage and lines
    longer than 1,023 characters (both naming module and line).
    """
    try:
        encoding = codecs.lookup(f"cp{codepage}").name
    except LookupError:
        raise ValueError(f"codepage {codepage} is not supported") from None
    if not _IDENTIFIER.match(project_name):
        raise ValueError(f"project name {project_name!r} is not a VBA identifier of at most 31 ASCII characters")
    if not modules:
        raise ValueError("a VBA project needs at least one module")
    seen: set[str] = set()
    for module in modules:
        if not _IDENTIFIER.match(module.name):
            raise ValueError(f"module name {module.name!r} is not a VBA identifier of at most 31 ASCII characters")
        if module.kind not in _MODULE_TYPE:
            raise ValueError(f"module {module.name!r}: kind must be standard, class or document, not {module.kind!r}")
        if module.name.upper() in seen:  # VBA names are case-insensitive
            raise ValueError(f"module name {module.name!r} is used twice")
        seen.add(module.name.upper())

    identifier = project_id(project_name)
    streams = {
        "PROJECT": _project_stream(modules, project_name, identifier).encode(encoding),
        "PROJECTwm": _projectwm_stream(modules, encoding),
        "VBA/_VBA_PROJECT": _VBA_PROJECT_STREAM,
        "VBA/dir": compress(_dir_stream(modules, project_name, codepage, encoding)),
    }
    for module in modules:
        streams[f"VBA/{module.name}"] = compress(_module_bytes(module, encoding))
    return write_compound_file(streams)


def _literal(text: str) -> str:
    """A VBA string literal: quotes doubled (VBA has no escape sequences)."""
    return '"' + text.replace('"', '""') + '"'


def _unicode_parts(text: str) -> list[str]:
    """Operands whose ``&``-concatenation is ``text``: ASCII-literal runs and ChrW calls.

    Printable ASCII goes into literals. Everything else, including control
    characters a literal cannot hold, becomes ``ChrW(&HXXXX&)``: the ``&``
    suffix makes the hex literal a Long, so code units from &H8000 up are not
    read as negative Integers. Characters beyond the BMP become their two
    UTF-16 surrogates, as VBA strings are UTF-16.
    """
    parts: list[str] = []
    run = ""
    units = text.encode("utf-16-le")
    for (unit,) in struct.iter_unpack("<H", units):
        if 0x20 <= unit < 0x7F:
            run += chr(unit)
            continue
        if run:
            parts.append(_literal(run))
            run = ""
        parts.append(f"ChrW(&H{unit:04X}&)")
    if run or not parts:
        parts.append(_literal(run))
    return parts


def vba_unicode_expr(text: str) -> str:
    """A pure-ASCII VBA expression that evaluates to ``text`` in any codepage.

    Example: ``vba_unicode_expr('编外 "A" 1')`` gives
    ``ChrW(&H7F16&) & ChrW(&H5916&) & " ""A"" 1"``. Long texts give long
    expressions; use ``vba_unicode_assign`` to spread them over statements.
    """
    return " & ".join(_unicode_parts(text))


def vba_unicode_assign(variable: str, text: str, max_line: int = 250) -> list[str]:
    """Statements that leave ``text`` in the String variable ``variable``.

    The first statement assigns, the others append (``v = v & ...``), and no
    line is longer than ``max_line`` characters (at most VBA's 1,023). Long
    ASCII runs are cut into several literals as needed.
    """
    if max_line > MAX_LINE_LENGTH:
        raise ValueError(f"max_line {max_line} exceeds VBA's {MAX_LINE_LENGTH} characters per line")
    first, later = f"{variable} = ", f"{variable} = {variable} & "
    # An appending statement must at least hold one ChrW call.
    if max_line < len(later) + len("ChrW(&HFFFF&)"):
        raise ValueError(f"max_line {max_line} is too short for statements assigning {variable!r}")
    operands: list[str] = []
    for part in _unicode_parts(text):
        if not part.startswith('"'):
            operands.append(part)
            continue
        # Cut literals so each fits a line of its own; never split a doubled quote.
        room = max_line - len(later) - 2
        body = part[1:-1]
        while len(body) > room:
            cut = room
            if body[:cut].count('"') % 2:
                cut -= 1
            operands.append('"' + body[:cut] + '"')
            body = body[cut:]
        operands.append('"' + body + '"')
    statements: list[str] = []
    line = first + operands[0]
    for operand in operands[1:]:
        if len(line) + len(" & ") + len(operand) <= max_line:
            line += " & " + operand
        else:
            statements.append(line)
            line = later + operand
    statements.append(line)
    return statements
