"""The VBA project writer, checked with olevba, our own stream parsers and LibreOffice."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import olefile
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser

import xlwings
from addin.vba import (
    MAX_LINE_LENGTH,
    VbaModule,
    build_vba_project,
    decompress,
    document_module,
    module_from_bas,
    module_from_cls,
    project_id,
    vba_unicode_assign,
    vba_unicode_expr,
)

XLWINGS_DIR = Path(xlwings.__file__).parent
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

# Record ids of the dir stream in the order MS-OVBA 2.3.4.2 prescribes.
PROJECT_INFORMATION = [0x01, 0x02, 0x14, 0x03, 0x04, 0x05, 0x40, 0x06, 0x3D, 0x07, 0x08, 0x09, 0x0C, 0x3C]
REFERENCE = [0x16, 0x3E, 0x0D]
MODULE = [0x19, 0x47, 0x1A, 0x32, 0x1C, 0x48, 0x31, 0x1E, 0x2C, None, 0x2B]  # None: MODULETYPE


# --- helpers -----------------------------------------------------------------


def _reference_sources() -> dict[str, str]:
    """Module sources (as stored) of the Excel-made quickstart_standalone.xlsm, via olevba."""
    with zipfile.ZipFile(XLWINGS_DIR / "quickstart_standalone.xlsm") as archive:
        data = archive.read("xl/vbaProject.bin")
    parser = VBA_Parser("vbaProject.bin", data=data)
    return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}


REFERENCE_SOURCES = _reference_sources()
XLWINGS_BAS = (XLWINGS_DIR / "xlwings.bas").read_bytes().decode("cp1252")


def _exported_cls(stored: str) -> str:
    """What the VBA editor's Export File writes for a stored class module.

    The export carries a VERSION/BEGIN/END block and leaves out the VB_Base,
    VB_TemplateDerived and VB_Customizable lines that the stored form has.
    """
    kept = [
        line
        for line in stored.split("\r\n")
        if not re.match(r"Attribute VB_(Base|TemplateDerived|Customizable) =", line)
    ]
    return "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n" + "\r\n".join(kept)


DICTIONARY_CLS = _exported_cls(REFERENCE_SOURCES["Dictionary"])

UDF_LINES = vba_unicode_assign("s", "编外人数（人）") + ['s = s & " ""quoted"""']
UDF_SOURCE = (
    "Function JX_LABEL() As String\n"
    "    Dim s As String\n" + "".join(f"    {line}\n" for line in UDF_LINES) + "    JX_LABEL = s\n"
    "End Function\n"
)


def _modules() -> list[VbaModule]:
    return [
        document_module("ThisWorkbook", "workbook"),
        document_module("Sheet1", "worksheet"),
        document_module("Sheet2", "worksheet", "Private Sub Worksheet_Activate()\r\nEnd Sub\r\n"),
        module_from_bas(XLWINGS_BAS),
        module_from_cls(DICTIONARY_CLS),
        VbaModule("xlwings_udfs", "standard", UDF_SOURCE),
        VbaModule("JxMain", "standard", "Option Explicit\n\nSub Auto_Open()\n    ThisWorkbook.Saved = True\nEnd Sub"),
    ]


def _document_header(name: str, base: str) -> str:
    return (
        f'Attribute VB_Name = "{name}"\r\nAttribute VB_Base = "{base}"\r\n'
        "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
        "Attribute VB_PredeclaredId = True\r\nAttribute VB_Exposed = True\r\n"
        "Attribute VB_TemplateDerived = False\r\nAttribute VB_Customizable = True\r\n"
    )


# What olevba must return for each module: the exact stored text.
EXPECTED_SOURCES = {
    "ThisWorkbook": _document_header("ThisWorkbook", WORKBOOK_BASE),
    "Sheet1": _document_header("Sheet1", WORKSHEET_BASE),
    "Sheet2": _document_header("Sheet2", WORKSHEET_BASE) + "Private Sub Worksheet_Activate()\r\nEnd Sub\r\n",
    "xlwings": XLWINGS_BAS,
    "Dictionary": REFERENCE_SOURCES["Dictionary"],
    "xlwings_udfs": 'Attribute VB_Name = "xlwings_udfs"\r\n' + UDF_SOURCE.replace("\n", "\r\n"),
    "JxMain": 'Attribute VB_Name = "JxMain"\r\n'
    "Option Explicit\r\n\r\nSub Auto_Open()\r\n    ThisWorkbook.Saved = True\r\nEnd Sub\r\n",
}


@pytest.fixture(scope="module")
def project_bin() -> bytes:
    return build_vba_project(_modules())


def _dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """Records of a decompressed dir stream; PROJECTVERSION's 6 data bytes follow a size of 4."""
    records = []
    position = 0
    while position < len(data):
        record_id, size = struct.unpack_from("<HI", data, position)
        if record_id == 0x0009:
            assert size == 4
            size = 6
        records.append((record_id, data[position + 6 : position + 6 + size]))
        position += 6 + size
    assert position == len(data)
    return records


def _utf16_units(text: str) -> list[int]:
    return [unit for (unit,) in struct.iter_unpack("<H", text.encode("utf-16-le", "surrogatepass"))]


def _evaluate(expression: str, variables: dict[str, str] | None = None) -> str:
    """Evaluate a VBA concatenation of string literals, ChrW(&H....&) calls and variables."""
    variables = variables or {}
    token = re.compile(r'\s*(?:"((?:[^"]|"")*)"|ChrW\(&H([0-9A-F]{1,4})&?\)|([A-Za-z_]\w*))\s*(&|\Z)')
    units: list[int] = []
    position = 0
    while position < len(expression):
        match = token.match(expression, position)
        assert match, f"cannot parse {expression[position:]!r}"
        literal, code, variable, _ = match.groups()
        if literal is not None:
            units += _utf16_units(literal.replace('""', '"'))
        elif code is not None:
            units.append(int(code, 16))
        else:
            units += _utf16_units(variables[variable])
        position = match.end()
    return struct.pack(f"<{len(units)}H", *units).decode("utf-16-le", "surrogatepass")


def _run_assignments(variable: str, statements: list[str]) -> str:
    values: dict[str, str] = {}
    for statement in statements:
        target, expression = statement.split(" = ", 1)
        assert target == variable
        values[variable] = _evaluate(expression, values)
    return values[variable]


def _decrypt(hex_text: str) -> tuple[int, int, bytes]:
    """MS-OVBA 2.4.3.3 Decryption; returns (version, project key, data)."""
    encrypted = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = encrypted[:3]
    version, key = seed ^ version_enc, seed ^ key_enc
    unencrypted_1, encrypted_1, encrypted_2 = key, key_enc, version_enc
    plain = bytearray()
    for byte in encrypted[3:]:
        decrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(decrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte, decrypted
    ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored)
    data = bytes(plain[ignored + 4 :])
    assert len(data) == length
    return version, key, data


# --- olevba: the independent reader ------------------------------------------


def test_olevba_reads_every_module_exactly(project_bin: bytes) -> None:
    parser = VBA_Parser("vbaProject.bin", data=project_bin, relaxed=False)
    assert parser.detect_vba_macros()
    found = {}
    for _, stream, filename, code in parser.extract_macros():
        name = stream.split("/")[-1]
        found[name] = code
        extension = ".bas" if name in ("xlwings", "xlwings_udfs", "JxMain") else ".cls"
        assert filename == name + extension
    assert found.keys() == EXPECTED_SOURCES.keys()
    for name, expected in EXPECTED_SOURCES.items():
        assert found[name] == expected, name


def test_class_from_cls_equals_what_excel_stored() -> None:
    dictionary = module_from_cls(DICTIONARY_CLS)
    assert dictionary.name == "Dictionary" and dictionary.kind == "class"
    assert dictionary.attributes[:7] == (
        ("VB_Base", f'"{CLASS_BASE}"'),
        ("VB_GlobalNameSpace", "False"),
        ("VB_Creatable", "False"),
        ("VB_PredeclaredId", "False"),
        ("VB_Exposed", "True"),
        ("VB_TemplateDerived", "False"),
        ("VB_Customizable", "False"),
    )
    assert dictionary.attributes[7][0] == "VB_Description"
    assert "Attribute Item.VB_UserMemId = 0" in dictionary.source  # procedure attributes stay in the code


def test_document_modules_match_excel_headers() -> None:
    # Excel's own ThisWorkbook/Sheet1 modules in the reference file.
    for name, base in [("ThisWorkbook", "workbook"), ("Sheet1", "worksheet")]:
        parser = VBA_Parser("x.bin", data=build_vba_project([document_module(name, base)]))
        ((_, _, _, code),) = list(parser.extract_macros())
        assert code == REFERENCE_SOURCES[name]


def test_module_from_bas() -> None:
    module = module_from_bas(XLWINGS_BAS)
    assert (module.name, module.kind, module.attributes) == ("xlwings", "standard", ())
    assert module.source.startswith('#Const App = "Microsoft Excel"')
    assert not module.source.startswith("Attribute")


def test_cls_with_a_document_base_becomes_a_document_module() -> None:
    header = "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
    module = module_from_cls(header + REFERENCE_SOURCES["ThisWorkbook"])
    assert module.kind == "document"
    assert dict(module.attributes)["VB_Base"] == f'"{WORKBOOK_BASE}"'


def test_plain_class_module_gets_excel_defaults() -> None:
    parser = VBA_Parser("x.bin", data=build_vba_project([VbaModule("Class1", "class", "Public X As Long")]))
    ((_, _, filename, code),) = list(parser.extract_macros())
    assert filename == "Class1.cls"
    assert code == (
        f'Attribute VB_Name = "Class1"\r\nAttribute VB_Base = "{CLASS_BASE}"\r\n'
        "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
        "Attribute VB_PredeclaredId = False\r\nAttribute VB_Exposed = False\r\n"
        "Attribute VB_TemplateDerived = False\r\nAttribute VB_Customizable = False\r\n"
        "Public X As Long\r\n"
    )


# --- stream structure and cross-stream consistency ----------------------------


def test_streams_and_dir_records(project_bin: bytes) -> None:
    modules = _modules()
    ole = olefile.OleFileIO(project_bin, raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(parts) for parts in ole.listdir()}
    assert streams == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} | {f"VBA/{m.name}" for m in modules}
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000100")

    records = _dir_records(decompress(ole.openstream("VBA/dir").read()))
    ids = [record_id for record_id, _ in records]
    types = [0x21 if m.kind == "standard" else 0x22 for m in modules]
    expected = PROJECT_INFORMATION + REFERENCE * 2 + [0x0F, 0x13]
    for module_type in types:
        expected += [module_type if record_id is None else record_id for record_id in MODULE]
    assert ids == expected + [0x10]
    values = dict(records[: len(PROJECT_INFORMATION)])
    assert struct.unpack("<I", values[0x01]) == (1,)  # Win32
    assert struct.unpack("<I", values[0x02]) == struct.unpack("<I", values[0x14]) == (0x0409,)
    assert struct.unpack("<H", values[0x03]) == (1252,)
    assert values[0x04] == b"VBAProject"
    assert len(values[0x09]) == 6

    libids = [data[4:-6] for record_id, data in records if record_id == 0x0D]
    assert libids[0].startswith(rb"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#")
    assert libids[1].startswith(rb"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#")

    count = struct.unpack("<H", dict(records)[0x0F])[0]
    names = [data.decode() for record_id, data in records if record_id == 0x19]
    unicode_names = [data.decode("utf-16-le") for record_id, data in records if record_id == 0x47]
    stream_names = [data.decode() for record_id, data in records if record_id == 0x1A]
    offsets = [struct.unpack("<I", data)[0] for record_id, data in records if record_id == 0x31]
    cookies = {data for record_id, data in records if record_id in (0x13, 0x2C)}
    assert count == len(modules) == len(names)
    assert names == unicode_names == stream_names == [m.name for m in modules]
    assert offsets == [0] * len(modules)
    assert cookies == {b"\xff\xff"}

    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert project.endswith("\r\n") and "\n" not in project.replace("\r\n", "")
    lines = project.split("\r\n")
    declared = [line for line in lines if re.match(r"(Document|Module|Class)=", line)]
    assert declared == [
        "Document=ThisWorkbook/&H00000000",
        "Document=Sheet1/&H00000000",
        "Document=Sheet2/&H00000000",
        "Module=xlwings",
        "Class=Dictionary",
        "Module=xlwings_udfs",
        "Module=JxMain",
    ]
    assert len(declared) == count == len(streams) - 4

    wm = ole.openstream("PROJECTwm").read()
    pairs = re.findall(rb"([\x20-\x7e]+)\x00((?:[\x20-\x7e]\x00)+)\x00\x00", wm)
    assert [(a.decode(), b.decode("utf-16-le")) for a, b in pairs] == [(m.name, m.name) for m in modules]
    assert wm.endswith(b"\x00\x00\x00\x00")


def test_project_stream_properties(project_bin: bytes) -> None:
    ole = olefile.OleFileIO(project_bin)
    lines = ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")
    identifier = project_id("VBAProject")
    assert lines[0] == f'ID="{identifier}"'
    assert uuid.UUID(identifier.strip("{}"))
    assert identifier == identifier.upper()
    for line in ['Name="VBAProject"', 'HelpContextID="0"', 'VersionCompatible32="393222000"', "[Host Extender Info]"]:
        assert line in lines
    assert "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000" in lines
    properties = dict(line.split("=", 1) for line in lines if line.startswith(("CMG=", "DPB=", "GC=")))
    key = sum(identifier.encode()) & 0xFF
    # Unprotected (state 0), no password (one 0x00 byte), visible (0xFF).
    assert _decrypt(properties["CMG"].strip('"')) == (2, key, bytes(4))
    assert _decrypt(properties["DPB"].strip('"')) == (2, key, b"\x00")
    assert _decrypt(properties["GC"].strip('"')) == (2, key, b"\xff")


def test_build_is_deterministic() -> None:
    assert build_vba_project(_modules()) == build_vba_project(_modules())
    assert project_id("VBAProject") != project_id("Other")


def test_codepage_is_honoured() -> None:
    module = VbaModule("Cn", "standard", "' 编外人数\r\nSub A()\r\nEnd Sub\r\n")
    data = build_vba_project([module], codepage=936)
    ((_, _, _, code),) = list(VBA_Parser("x.bin", data=data).extract_macros())
    assert code == 'Attribute VB_Name = "Cn"\r\n' + module.source


# --- validation ---------------------------------------------------------------


def test_non_codepage_character_names_module_and_line() -> None:
    module = VbaModule("Labels", "standard", 'Sub A()\n    MsgBox "编外人数"\nEnd Sub\n')
    with pytest.raises(ValueError, match=r"'Labels', line 3: character '编'"):
        build_vba_project([module])


def test_overlong_line_names_module_and_line() -> None:
    module = VbaModule("Long", "standard", "' " + "x" * (MAX_LINE_LENGTH - 1))
    with pytest.raises(ValueError, match=r"'Long', line 2: 1024 characters"):
        build_vba_project([module])
    build_vba_project([VbaModule("Long", "standard", "'" + "x" * (MAX_LINE_LENGTH - 1))])


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        ([VbaModule("1abc", "standard", "")], "not a VBA identifier"),
        ([VbaModule("A" * 32, "standard", "")], "not a VBA identifier"),
        ([VbaModule("A", "standard", ""), VbaModule("a", "class", "")], "used twice"),
        ([VbaModule("A", "form", "")], "kind must be"),
        ([VbaModule("Sheet1", "document", "")], "needs a VB_Base"),
        ([VbaModule("A", "standard", "", (("VB_Name", '"B"'),))], "VB_Name comes from"),
        ([VbaModule("xlwings", "standard", XLWINGS_BAS)], "starts with a module-level Attribute"),
        ([VbaModule("A", "standard", "", (("VB_Base", '"x"'),))], "no VB_Base"),
        ([], "at least one module"),
    ],
)
def test_invalid_projects_are_rejected(modules: list[VbaModule], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_vba_project(modules)


def test_invalid_project_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="codepage"):
        build_vba_project([VbaModule("A", "standard", "")], codepage=99999)
    with pytest.raises(ValueError, match="project name"):
        build_vba_project([VbaModule("A", "standard", "")], project_name="VBA Project")
    with pytest.raises(ValueError, match="workbook"):
        document_module("Sheet1", "chart")
    with pytest.raises(ValueError, match="VB_Name"):
        module_from_bas("Sub A()\r\nEnd Sub\r\n")


# --- ChrW expressions -----------------------------------------------------------


def test_unicode_expr_for_chinese_label() -> None:
    expression = vba_unicode_expr("编外人数")
    assert expression == "ChrW(&H7F16&) & ChrW(&H5916&) & ChrW(&H4EBA&) & ChrW(&H6570&)"
    assert expression.isascii()
    assert _evaluate(expression) == "编外人数"
    assert _evaluate(vba_unicode_expr('编外 "A" 1')) == '编外 "A" 1'
    assert vba_unicode_expr("") == '""'


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_unicode_expr_round_trips_any_text(text: str) -> None:
    expression = vba_unicode_expr(text)
    assert expression.isascii() and "\n" not in expression and "\r" not in expression
    assert _evaluate(expression) == text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000), st.integers(min_value=30, max_value=MAX_LINE_LENGTH))
def test_unicode_assign_keeps_lines_short(text: str, max_line: int) -> None:
    statements = vba_unicode_assign("label", text, max_line=max_line)
    assert all(len(line) <= max_line and line.isascii() for line in statements)
    assert _run_assignments("label", statements) == text


def test_unicode_assign_output_compiles_into_a_module() -> None:
    text = "绩效自评得分：" * 200 + '"quoted"' * 100
    statements = vba_unicode_assign("s", text)
    assert len(statements) > 1
    source = "Function T() As String\n" + "\n".join(statements) + "\nT = s\nEnd Function\n"
    build_vba_project([VbaModule("T", "standard", source)])
    assert _run_assignments("s", statements) == text
    with pytest.raises(ValueError):
        vba_unicode_assign("s", text, max_line=MAX_LINE_LENGTH + 1)


# --- LibreOffice: a second independent reader -----------------------------------


def _xlsm(project: bytes, sheet_code_names: list[str]) -> bytes:
    """A macro-enabled workbook written by openpyxl around ``project``."""
    carrier = BytesIO()
    with zipfile.ZipFile(carrier, "w") as archive:
        archive.writestr("xl/vbaProject.bin", project)
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            '<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
    workbook = openpyxl.Workbook()
    workbook.vba_archive = zipfile.ZipFile(BytesIO(carrier.getvalue()))
    workbook.code_name = "ThisWorkbook"
    workbook.active.title = "Data"
    for index, code_name in enumerate(sheet_code_names):
        sheet = workbook.active if index == 0 else workbook.create_sheet(f"Data{index}")
        sheet.sheet_properties.codeName = code_name
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_imports_the_modules(project_bin: bytes, tmp_path: Path) -> None:
    workbook = tmp_path / "template.xlsm"
    workbook.write_bytes(_xlsm(project_bin, ["Sheet1", "Sheet2"]))
    with zipfile.ZipFile(workbook) as archive:
        assert archive.read("xl/vbaProject.bin") == project_bin
        assert "macroEnabled" in archive.read("[Content_Types].xml").decode()
    profile = tmp_path / "lo_profile"
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with zipfile.ZipFile(tmp_path / "template.ods") as archive:
        basic = {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.startswith("Basic/")}
    for name in ["xlwings", "xlwings_udfs", "JxMain"]:
        module = basic[f"Basic/VBAProject/{name}.xml"]
        assert 'script:moduleType="normal"' in module
    assert "Function RunPython(" in basic["Basic/VBAProject/xlwings.xml"]
    assert "ChrW(&amp;H7F16&amp;)" in basic["Basic/VBAProject/xlwings_udfs.xml"]
    assert "Sub Auto_Open()" in basic["Basic/VBAProject/JxMain.xml"]
    assert 'script:moduleType="class"' in basic["Basic/VBAProject/Dictionary.xml"]
    for name in ["ThisWorkbook", "Sheet1", "Sheet2"]:
        assert f"Basic/VBAProject/{name}.xml" in basic
