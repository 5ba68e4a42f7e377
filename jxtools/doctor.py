"""``jx doctor [WORKBOOK]``: can this PC's Python serve the template's JX functions to Excel?

The Excel face depends on a chain no Linux test can run: Python (3.11 or
newer), the pinned xlwings with its ``xlwings64-<ver>.dll``/``xlwings32-<ver>.dll``
next to the interpreter, pywin32, ``udfs`` importable with the functions the
workbook's VBA wrappers call, and the workbook's edition installed. Each check
prints one Chinese line (通过 / 未通过 / 跳过) and, when it fails, what to do.
Exit status: 0 everything holds, 1 a check failed, 2 the workbook cannot be read.

Only the minimal install is assumed (xlwings, click and the pure core): the
workbook is read with ``zipfile`` and the standard XML parser (defusedxml when
it is installed), its VBA with ``oletools`` when that is installed, and a
clear line says what was skipped otherwise. Nothing imports xlwings itself
except the Windows-only COM-server check.

Found while building it: xlwings 0.37.8 writes nothing to the registry. Its
DLL starts ``pythonw -c "...; xlwings.serve('{CLSID}')"`` and the server
registers its class at run time (``pythoncom.CoRegisterClassObject``); the
fixed class id ``{506e67c3-55b5-48c3-a035-eed5deea7d6d}`` is only used with the
"Debug UDFs" setting. So instead of a registry lookup the checks import
``xlwings.com_server`` (what that command runs) and find which Python Excel
will start (xlwings' Interpreter_Win setting, else ``pythonw`` on PATH).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import ROOT, TEMPLATE

DIST = "jx-selfeval"
PASS, FAIL, SKIP = "通过", "未通过", "跳过"
SKIP_OFF_WINDOWS = "跳过（非 Windows）"
EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2
WRAPPER_MODULE = "xlwings_udfs"
HIDDEN_ARGS = ("caller", "edition")  # udfs parameters the VBA wrappers do not show to Excel
COM_SERVER_CLSID = "{506e67c3-55b5-48c3-a035-eed5deea7d6d}"  # xlwings.bas: only with "Debug UDFs"
CONF_SHEET = "xlwings.conf"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Result:
    status: str  # PASS, FAIL or SKIP
    name: str
    detail: str
    remedy: str = ""

    def lines(self) -> list[str]:
        out = [f"[{self.status}] {self.name}：{self.detail}"]
        if self.status == FAIL and self.remedy:
            out.append(f"       怎么办：{self.remedy}")
        return out


class Unreadable(Exception):
    """The workbook cannot be read (the message is Chinese and names the file)."""


# ------------------------------------------------------------------ what the checks look at (tests replace these)


def _version_info() -> tuple[int, ...]:
    return tuple(sys.version_info[:3])


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _requirements() -> list[str]:
    """JX's own requirement lines: installed metadata, else the source tree's pyproject.toml."""
    try:
        return list(importlib.metadata.requires(DIST) or [])
    except importlib.metadata.PackageNotFoundError:
        pass
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    return []


def _is_windows() -> bool:
    return sys.platform.startswith("win")


def _import_module(name: str):
    return importlib.import_module(name)


def _dll_dirs() -> list[Path]:
    """Where xlwings' wheel puts its DLLs (its data files go to the environment's root)."""
    dirs = [Path(sys.exec_prefix), Path(sys.prefix), Path(sys.executable).parent]
    return list(dict.fromkeys(dirs))


def _user_base() -> Path | None:
    import site

    return Path(site.USER_BASE) if site.USER_BASE else None


def _excel_path() -> str:
    """The PATH a freshly started Excel gets: the machine's and the user's, from the registry.

    Not this process's PATH: an activated virtual environment puts its Scripts folder first
    there, and Excel started from the Start menu never sees that.
    """
    try:
        import winreg
    except ImportError:
        return os.environ.get("PATH", "")
    parts = []
    for root, key in ((winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\Session Manager\Environment"),
                      (winreg.HKEY_CURRENT_USER, "Environment")):
        try:
            with winreg.OpenKey(root, key) as handle:
                parts.append(os.path.expandvars(str(winreg.QueryValueEx(handle, "Path")[0])))
        except OSError:
            continue
    return os.pathsep.join(parts) or os.environ.get("PATH", "")


def _which(name: str) -> str | None:
    return shutil.which(name, path=_excel_path())


def _executable() -> Path:
    return Path(sys.executable)


def _user_config() -> Path:
    return Path(os.environ.get("USERPROFILE") or Path.home()) / ".xlwings" / "xlwings.conf"


def _editions() -> list[str]:
    from jx.rubric import editions

    return editions()


# ------------------------------------------------------------------ environment checks


def minimum_python() -> tuple[int, int]:
    from addin.selfcheck import MIN_PYTHON

    return MIN_PYTHON


def check_python() -> Result:
    version = _version_info()
    shown = ".".join(str(n) for n in version)
    least = minimum_python()
    need = f"{least[0]}.{least[1]}"
    if tuple(version[:2]) >= least:
        return Result(PASS, "Python 版本", f"{shown}（{_executable()}；需要 {need} 或更高）")
    return Result(FAIL, "Python 版本", f"{shown}，低于 {need}",
                  f"安装 Python {need} 或更高版本，再在其中安装 JX 安装包")


def xlwings_pin() -> str | None:
    """The exact xlwings version JX requires (``xlwings==X`` in its dependencies)."""
    for line in _requirements():
        match = re.match(r"\s*xlwings\s*==\s*([^\s;,]+)", line)
        if match and "extra ==" not in line:
            return match.group(1)
    return None


def check_xlwings() -> Result:
    installed, pin = _dist_version("xlwings"), xlwings_pin()
    if pin is None:
        return Result(SKIP, "xlwings 版本", f"{installed or '未安装'}（找不到 JX 的安装信息，无法确定要求的版本）")
    if installed is None:
        return Result(FAIL, "xlwings 版本", f"未安装（JX 需要 {pin}）", f'python -m pip install "xlwings=={pin}"')
    if installed != pin:
        return Result(FAIL, "xlwings 版本", f"已安装 {installed}，模板的 VBA 按 {pin} 生成",
                      f'python -m pip install "xlwings=={pin}"（不要单独升级 xlwings）')
    return Result(PASS, "xlwings 版本", f"{installed}（与模板的 VBA 一致）")


def windows_checks(workbook: Path | None) -> list[Result]:
    if not _is_windows():
        return [Result(SKIP_OFF_WINDOWS, "xlwings 的 DLL、pywin32、xlwings 的 COM 服务、Excel 会启动的 Python",
                       "只能在 Windows 上检查")]
    results = [check_dll(), check_pywin32()]
    results.append(check_com_server() if results[-1].status == PASS else
                   Result(SKIP, "xlwings 的 COM 服务", "pywin32 不可用，无法检查"))
    results.append(check_interpreter(workbook))
    return results


def check_dll() -> Result:
    version = _dist_version("xlwings")
    if version is None:
        return Result(FAIL, "xlwings DLL", "xlwings 未安装，没有 DLL", 'python -m pip install "xlwings==<版本>"（见上一项）')
    names = {"64": f"xlwings64-{version}.dll", "32": f"xlwings32-{version}.dll"}
    dirs = _dll_dirs()
    found = {bits: next((d / n for d in dirs if (d / n).is_file()), None) for bits, n in names.items()}
    if all(found.values()):
        return Result(PASS, "xlwings DLL", f"{found['64'].parent} 中有 {names['64']} 和 {names['32']}")
    missing = [n for bits, n in names.items() if found[bits] is None]
    where = "、".join(str(d) for d in dirs)
    user = _user_base()
    if user and all((user / n).is_file() for n in missing):
        return Result(FAIL, "xlwings DLL", f"{'、'.join(missing)} 在用户目录 {user} 中（pip install --user 装的），"
                                           "Excel 在那里找不到",
                      f'不带 --user 重新安装：python -m pip install --force-reinstall "xlwings=={version}"'
                      "（或改用虚拟环境，再运行 xlwings config create --force）")
    office = "、".join(f"{bits} 位 Office" for bits in names if found[bits] is None)
    return Result(FAIL, "xlwings DLL", f"在 {where} 中找不到 {'、'.join(missing)}（{office}需要）",
                  f'python -m pip install --force-reinstall "xlwings=={version}"')


def check_pywin32() -> Result:
    for name in ("pywintypes", "pythoncom", "win32com.client"):
        try:
            _import_module(name)
        except Exception as error:  # ImportError, or a DLL that fails to load
            return Result(FAIL, "pywin32", f"import {name} 失败（{type(error).__name__}: {error}）",
                          "python -m pip install --force-reinstall pywin32，然后完全退出 Excel 再打开")
    return Result(PASS, "pywin32", "win32com.client、pythoncom、pywintypes 都能导入")


def check_com_server() -> Result:
    try:
        _import_module("xlwings.com_server")
    except Exception as error:
        return Result(FAIL, "xlwings 的 COM 服务", f"import xlwings.com_server 失败（{type(error).__name__}: {error}）",
                      "python -m pip install --force-reinstall pywin32 xlwings==<版本>，然后完全退出 Excel 再打开")
    return Result(PASS, "xlwings 的 COM 服务", "xlwings.com_server 能导入（它在运行时登记 COM 类，不需要注册表项）")


# ------------------------------------------------------------------ which Python Excel will start


_CONF_LINE = re.compile(r'^\s*"([^"]*)"\s*,\s*"(.*)"\s*$')


def read_conf_file(path: Path) -> dict[str, str]:
    """An xlwings.conf file: lines ``"KEY","VALUE"`` (keys compared in upper case, as xlwings does)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        match = _CONF_LINE.match(line)
        if match:
            out.setdefault(match.group(1).upper(), match.group(2))
    return out


def xlwings_settings(workbook: Path | None) -> tuple[dict[str, str], list[str]]:
    """xlwings' settings in its own order: the workbook's xlwings.conf sheet, the workbook folder's
    xlwings.conf, the user's %USERPROFILE%\\.xlwings\\xlwings.conf; (settings, where each came from)."""
    layers: list[tuple[str, dict[str, str]]] = []
    if workbook is not None:
        try:
            cells = sheet_cells(workbook, CONF_SHEET)
        except Unreadable:
            cells = {}
        sheet = {}
        for ref, value in cells.items():
            match = re.fullmatch(r"A(\d+)", ref)
            if match and value not in (None, ""):
                sheet.setdefault(str(value).upper(), "" if cells.get(f"B{match.group(1)}") is None
                                 else str(cells[f"B{match.group(1)}"]))
        layers.append((f"工作簿的 {CONF_SHEET} 表", sheet))
        layers.append((str(workbook.parent / "xlwings.conf"), read_conf_file(workbook.parent / "xlwings.conf")))
    layers.append((str(_user_config()), read_conf_file(_user_config())))
    settings: dict[str, str] = {}
    sources: dict[str, str] = {}
    for where, layer in layers:
        for key, value in layer.items():
            if key not in settings:
                settings[key], sources[key] = os.path.expandvars(value), where
    return settings, [sources[k] for k in settings]


def excel_python(workbook: Path | None) -> tuple[str | None, str]:
    """The interpreter xlwings' VBA will start (as ``XLPyCommand`` works it out) and how it was chosen."""
    settings, _ = xlwings_settings(workbook)
    interpreter = settings.get("INTERPRETER_WIN") or settings.get("INTERPRETER") or "pythonw"
    conda_path, conda_env = settings.get("CONDA PATH", ""), settings.get("CONDA ENV", "")
    if interpreter in ("python", "pythonw") and conda_path and conda_env:
        if conda_env == "base":
            root = Path(conda_path)
        elif "\\" in conda_env or "/" in conda_env:
            root = Path(conda_env)
        else:
            root = Path(conda_path) / "envs" / conda_env
        return str(root / f"{interpreter}.exe"), f"xlwings 设置的 Conda 环境 {conda_env}"
    if interpreter in ("python", "pythonw"):
        return _which(interpreter), f"未设置解释器，按 PATH 查找 {interpreter}"
    return interpreter, "xlwings 设置的 Interpreter_Win"


def _same_environment(a: Path, b: Path) -> bool:
    def norm(p: Path) -> str:
        try:
            p = p.resolve()
        except OSError:
            pass
        return os.path.normcase(str(p.parent))

    return norm(a) == norm(b)


def check_interpreter(workbook: Path | None) -> Result:
    found, how = excel_python(workbook)
    me = _executable()
    fix = "在装了 JX 的这个 Python 中运行 xlwings config create --force，把它设为 Excel 使用的 Python；然后完全退出 Excel 再打开"
    if not found:
        return Result(FAIL, "Excel 会启动的 Python", f"{how}：PATH 中没有 pythonw.exe", fix)
    if not Path(found).is_file():
        return Result(FAIL, "Excel 会启动的 Python", f"{how}：{found} 不存在", fix)
    if not _same_environment(Path(found), me):
        return Result(FAIL, "Excel 会启动的 Python", f"{how}：{found}，不是运行 jx doctor 的 {me}",
                      fix + f"（或在 {found} 所在的 Python 中安装 JX）")
    return Result(PASS, "Excel 会启动的 Python", f"{how}：{found}（就是这个 Python）")


# ------------------------------------------------------------------ udfs, the workbook's VBA, editions


def check_udfs() -> tuple[Result, Any]:
    try:
        module = _import_module("udfs")
    except Exception as error:
        return Result(FAIL, "JX（udfs 模块）", f"import udfs 失败（{type(error).__name__}: {error}）",
                      "用这个 Python 安装随模板分发的 JX 安装包：python -m pip install jx_selfeval-<版本>-py3-none-any.whl"), None
    version = _dist_version(DIST)
    return Result(PASS, "JX（udfs 模块）", f"可以导入（jx-selfeval {version or '源代码'}）"), module


def read_vba(path: Path) -> dict[str, str] | None:
    """Module name → source of a workbook's VBA project; {} without one; None without oletools."""
    try:
        from oletools.olevba import VBA_Parser
    except ImportError:
        return None
    import logging

    logging.getLogger("olevba").setLevel(logging.CRITICAL)
    try:
        parser = VBA_Parser(str(path))
    except Exception as error:  # oletools' FileOpenError and friends
        raise Unreadable(f"{path.name}：无法读取其中的 VBA（{error}）") from None
    try:
        if not parser.detect_vba_macros():
            return {}
        return {stream.split("/")[-1]: code.replace("\r\n", "\n") for _f, stream, _n, code in parser.extract_macros()}
    finally:
        parser.close()


_FUNCTION = re.compile(r"^\s*(?:Public\s+)?Function\s+(\w+)\s*\(([^)]*)\)", re.M | re.I)


def vba_signatures(source: str) -> dict[str, tuple[tuple[str, bool], ...]]:
    """``Function NAME(a, Optional b)`` lines → NAME → ((a, False), (b, True))."""
    out = {}
    for name, args in _FUNCTION.findall(source):
        params = []
        for arg in filter(None, (a.strip() for a in args.split(","))):
            words = arg.split()
            optional = words[0].lower() == "optional"
            params.append((words[1] if optional else words[0], optional))
        out[name] = tuple(params)
    return out


def python_signature(function) -> tuple[tuple[str, bool], ...]:
    """What Excel sees of a udfs function: its parameters minus the hidden ones, optional or not."""
    params = inspect.signature(function).parameters.values()
    return tuple((p.name, p.default is not inspect.Parameter.empty) for p in params if p.name not in HIDDEN_ARGS)


def _text(signature: tuple[tuple[str, bool], ...]) -> str:
    return ", ".join(("Optional " if optional else "") + name for name, optional in signature)


def check_signatures(modules: dict[str, str], udfs_module) -> list[Result]:
    results = []
    xlwings_source = modules.get("xlwings", "")
    match = re.search(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', xlwings_source)
    installed = _dist_version("xlwings")
    if match is None:
        results.append(Result(FAIL, "工作簿的 VBA", "没有 xlwings 模块（不是本模板生成的工作簿？）",
                              "使用随安装包分发的模板，或用 jx template 重新生成"))
    elif match.group(1) != installed:
        results.append(Result(FAIL, "工作簿的 VBA", f"按 xlwings {match.group(1)} 生成，本机装的是 {installed or '无'}",
                              f'python -m pip install "xlwings=={match.group(1)}"'))
    else:
        results.append(Result(PASS, "工作簿的 VBA", f"按 xlwings {installed} 生成，与本机一致"))
    if WRAPPER_MODULE not in modules:
        results.append(Result(FAIL, "函数签名", f"工作簿中没有 {WRAPPER_MODULE} 模块",
                              "使用随安装包分发的模板，或用 jx template 重新生成"))
        return results
    if udfs_module is None:
        results.append(Result(SKIP, "函数签名", "udfs 无法导入，无法比对"))
        return results
    wanted = vba_signatures(modules[WRAPPER_MODULE])
    problems = []
    for name, signature in sorted(wanted.items()):
        function = getattr(udfs_module, name, None)
        if function is None:
            problems.append(f"udfs 中没有 {name}")
            continue
        mine = python_signature(function)
        if mine != signature:
            problems.append(f"{name} 在工作簿中为（{_text(signature)}），在 udfs 中为（{_text(mine)}）")
    if problems:
        shown = "；".join(problems[:5]) + (f"；等 {len(problems)} 处" if len(problems) > 5 else "")
        results.append(Result(FAIL, "函数签名", shown,
                              "安装与模板配套的 JX 安装包，或用 jx template 按本机的 JX 重新生成模板"))
    else:
        results.append(Result(PASS, "函数签名", f"工作簿的 {len(wanted)} 个 JX 函数在 udfs 中都有，参数相同"))
    return results


def broken_editions() -> list[str]:
    """Edition files in $JX_RUBRIC_PATH that cannot be loaded (RubricError), and folders that do not exist."""
    from jx.rubric import PATH_ENV, RubricError, load_file

    problems = []
    for folder in filter(None, os.environ.get(PATH_ENV, "").split(os.pathsep)):
        directory = Path(folder)
        if not directory.is_dir():
            problems.append(f"{PATH_ENV} 中的文件夹 {folder} 不存在")
            continue
        for file in sorted(directory.glob("*.toml")):
            import tomllib

            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                problems.append(f"{file.name}：无法读取（{error}）")
                continue
            if "edition" not in data:
                continue  # not an edition file (e.g. inputs kept next to it)
            try:
                load_file(file)
            except RubricError as error:
                problems.append(str(error))
    return problems


def check_editions() -> Result:
    installed = _editions()
    problems = broken_editions()
    if problems:
        shown = "；".join(problems[:3]) + (f"；等 {len(problems)} 处" if len(problems) > 3 else "")
        return Result(FAIL, "评分标准版本", f"已安装 {'、'.join(installed) or '无'}；有问题：{shown}",
                      "用 jx rubric check 文件.toml 查看并改正，或把它移出 JX_RUBRIC_PATH 指定的文件夹")
    if not installed:
        return Result(FAIL, "评分标准版本", "一个也没有安装", "重新安装 JX 安装包")
    return Result(PASS, "评分标准版本", f"已安装 {'、'.join(installed)}")


def check_workbook_edition(path: Path) -> Result:
    from addin.layout import EDITION_NAME

    value = named_value(path, EDITION_NAME)
    if value is _MISSING:
        return Result(FAIL, "工作簿的评分标准版本", f"{path.name} 中没有名为“{EDITION_NAME}”的单元格",
                      "使用随安装包分发的模板，或用 jx template 重新生成")
    edition = str(value).strip() if value is not None else ""
    if not edition:
        return Result(FAIL, "工作簿的评分标准版本", f"{path.name} 的“{EDITION_NAME}”是空的",
                      "使用随安装包分发的模板，或用 jx template 重新生成")
    installed = _editions()
    if edition not in installed:
        return Result(FAIL, "工作簿的评分标准版本", f"{path.name} 记录的版本“{edition}”本机没有安装",
                      "安装与模板配套的 JX 安装包，或把该版本的 .toml 文件放进 JX_RUBRIC_PATH 指定的文件夹")
    return Result(PASS, "工作簿的评分标准版本", f"{path.name} 记录的版本“{edition}”已安装")


# ------------------------------------------------------------------ reading a workbook with the standard library


_MISSING = object()


def _fromstring(data: bytes, label: str):
    try:
        from defusedxml.ElementTree import fromstring

        return fromstring(data, forbid_dtd=True)
    except ImportError:
        pass
    except Exception as error:
        raise Unreadable(f"{label}：XML 无法读取（{error}）") from None
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data[:4096].upper():
        raise Unreadable(f"{label}：含有 DTD 或实体声明，已拒绝")
    from xml.etree.ElementTree import ParseError, fromstring

    try:
        return fromstring(data)
    except ParseError as error:
        raise Unreadable(f"{label}：XML 无法读取（{error}）") from None


def open_workbook(path: Path) -> zipfile.ZipFile:
    """The workbook's zip, checked as far as the installed tools can (raises Unreadable)."""
    path = Path(path)
    try:
        from .workbook_io import WorkbookError, open_checked
    except ImportError:  # the tools extra (defusedxml) is not installed
        pass
    else:
        try:
            return open_checked(path)
        except WorkbookError as error:
            raise Unreadable(str(error)) from None
    if not path.is_file():
        raise Unreadable(f"{path.name}：文件不存在")
    if not zipfile.is_zipfile(path):
        raise Unreadable(f"{path.name}：不是 Excel 工作簿（.xlsx/.xlsm）")
    archive = zipfile.ZipFile(path)
    if "xl/workbook.xml" not in archive.namelist():
        archive.close()
        raise Unreadable(f"{path.name}：缺少 xl/workbook.xml，不是有效的 Excel 工作簿")
    return archive


def _part(archive: zipfile.ZipFile, name: str, label: str):
    try:
        return _fromstring(archive.read(name), label)
    except KeyError:
        raise Unreadable(f"{label}：缺少 {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise Unreadable(f"{label}：文件已损坏（{name}：{error}）") from None


def _sheet_part(archive: zipfile.ZipFile, sheet: str, label: str) -> str | None:
    book = _part(archive, "xl/workbook.xml", label)
    rels = _part(archive, "xl/_rels/workbook.xml.rels", label)
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_PKG}}}Relationship")}
    for element in book.iter(f"{{{_MAIN}}}sheet"):
        if element.get("name") == sheet:
            target = targets.get(element.get(f"{{{_REL}}}id"), "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def _cells(archive: zipfile.ZipFile, part: str, label: str) -> dict[str, Any]:
    shared: list[str] = []
    if "xl/sharedStrings.xml" in archive.namelist():
        root = _part(archive, "xl/sharedStrings.xml", label)
        shared = ["".join(t.text or "" for t in si.iter(f"{{{_MAIN}}}t")) for si in root.iter(f"{{{_MAIN}}}si")]
    out: dict[str, Any] = {}
    for cell in _part(archive, part, label).iter(f"{{{_MAIN}}}c"):
        kind, v = cell.get("t", "n"), cell.find(f"{{{_MAIN}}}v")
        text = v.text if v is not None else None
        if kind == "inlineStr":
            value: Any = "".join(t.text or "" for t in cell.iter(f"{{{_MAIN}}}t"))
        elif text is None:
            value = None
        elif kind == "s":
            value = shared[int(text)] if text.isdigit() and int(text) < len(shared) else None
        elif kind == "b":
            value = text == "1"
        elif kind in ("str", "e"):
            value = text
        else:
            try:
                value = float(text)
            except ValueError:
                value = text
        out[cell.get("r", "")] = value
    return out


def sheet_cells(path: Path, sheet: str) -> dict[str, Any]:
    """Every stored cell value of one sheet ({} when there is no such sheet)."""
    label = Path(path).name
    with open_workbook(path) as archive:
        part = _sheet_part(archive, sheet, label)
        return _cells(archive, part, label) if part else {}


def named_value(path: Path, name: str) -> Any:
    """The stored value of a workbook-level defined name's first cell; ``_MISSING`` without the name."""
    label = Path(path).name
    with open_workbook(path) as archive:
        book = _part(archive, "xl/workbook.xml", label)
        target = next((d.text or "" for d in book.iter(f"{{{_MAIN}}}definedName")
                       if d.get("name") == name and d.get("localSheetId") is None), None)
        match = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]+)\$?(\d+)(?::.*)?", (target or "").strip())
        if match is None:
            return _MISSING
        sheet = match.group(1).replace("''", "'")
        part = _sheet_part(archive, sheet, label)
        if part is None:
            return _MISSING
        return _cells(archive, part, label).get(match.group(2) + match.group(3))


# ------------------------------------------------------------------ the whole run


def run_checks(workbook: Path | None) -> tuple[list[Result], str | None]:
    """Every check in order; (results, the reason the workbook could not be read or None)."""
    given = workbook is not None
    path = Path(workbook) if given else TEMPLATE
    unreadable = None
    results = [check_python(), check_xlwings()]
    results += windows_checks(path if given or path.is_file() else None)
    udfs_result, udfs_module = check_udfs()
    results.append(udfs_result)
    if not given and not path.is_file():
        results.append(Result(SKIP, "函数签名", f"未找到模板 {path.name}；可指定工作簿：jx doctor 文件.xlsm"))
        results.append(check_editions())
        return results, None
    try:
        open_workbook(path).close()
        modules = read_vba(path)
        if modules is None:
            results.append(Result(SKIP, "函数签名", "未安装 oletools，无法读取工作簿中的 VBA（python -m pip install oletools）"))
        elif not modules:
            results.append(Result(SKIP, "函数签名", f"{path.name} 不含宏（如 jx export 导出的无宏版本），不需要 Python"))
        else:
            results += check_signatures(modules, udfs_module)
        results.append(check_editions())
        results.append(check_workbook_edition(path))
    except Unreadable as error:
        unreadable = str(error)
        results.append(check_editions())
    return results, unreadable


def run(workbook: Path | None, echo: Callable[[str], Any] = print) -> int:
    """Print every check's lines; the exit status."""
    path = Path(workbook) if workbook is not None else TEMPLATE
    echo(f"jx doctor：检查本机能否让 Excel 调用 Python 计分（工作簿：{path}）")
    results, unreadable = run_checks(workbook)
    for result in results:
        for line in result.lines():
            echo(line)
    failed = [r for r in results if r.status == FAIL]
    if unreadable:
        echo(f"错误：{unreadable}")
        return EXIT_UNREADABLE
    if failed:
        echo(f"有 {len(failed)} 项未通过，请按“怎么办”处理后再运行 jx doctor。")
        return EXIT_FAILED
    echo("全部通过：这台电脑的 Python 可以为 Excel 计分（在 Excel 中还可按 Alt+F8 运行 JxSelfCheck 确认）。")
    return EXIT_OK

