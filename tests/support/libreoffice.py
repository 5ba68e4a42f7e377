"""Recalculate workbooks with LibreOffice, an independent spreadsheet engine.

One ``soffice --headless --convert-to xlsx`` run converts many files. Each run
gets a throwaway user profile whose ``registrymodifications.xcu`` sets
``/org.openoffice.Office.Calc/Formula/Load`` ``OOXMLRecalcMode`` and
``ODFRecalcMode`` to 0 ("always recalculate"), so every formula is computed by
LibreOffice on load rather than taken from the cached values in the file; the
converted copies carry LibreOffice's results as their cached values, read back
with :func:`read_values`. The profile also keeps runs apart: two runs with
their own profiles can work at the same time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

RECALC_ALWAYS, RECALC_NEVER, RECALC_ASK = 0, 1, 2
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
DEFAULT_TIMEOUT = 900.0  # seconds for one soffice run
# Files per soffice run: LibreOffice 7.4 was seen to stop after about 245
# documents in one run, without an error and with exit status 0.
BATCH_SIZE = 100

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing, failed, timed out or left a file unconverted."""


def find_soffice() -> str:
    """The ``soffice`` executable (found as jx report finds it), or a clear error saying how to install it."""
    from jxtools.soffice import SofficeError
    from jxtools.soffice import find_soffice as find

    try:
        return find()
    except SofficeError as error:
        raise LibreOfficeError(str(error)) from None


def write_profile(profile: Path, recalc_mode: int = RECALC_ALWAYS) -> Path:
    """A fresh LibreOffice user profile that recalculates on load (or never: the baseline)."""
    user = Path(profile) / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE.format(mode=recalc_mode), encoding="utf-8")
    return Path(profile)


def recalculate_with_libreoffice(paths: Sequence[Path], outdir: Path, timeout: float = DEFAULT_TIMEOUT,
                                 *, recalc_mode: int = RECALC_ALWAYS, batch_size: int = BATCH_SIZE,
                                 soffice: str | None = None) -> dict[Path, Path]:
    """Convert ``paths`` to .xlsx in ``outdir``, ``batch_size`` files per soffice run; input → recalculated copy.

    Inputs are only read (they are staged under unique names, so two inputs
    with the same file name, or an input already in ``outdir``, are fine). A
    file a run leaves unconverted is tried once more in a fresh run. Raises
    :class:`LibreOfficeError` when soffice is missing, fails or times out
    (``timeout`` seconds per run), or a file still comes back unconverted.
    """
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise LibreOfficeError(f"{path}：文件不存在")
    executable = soffice or find_soffice()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    result: dict[Path, Path] = {}
    taken: set[Path] = set()
    for start in range(0, len(paths), batch_size):
        batch = paths[start:start + batch_size]
        done = _convert(batch, outdir, taken, executable, timeout, recalc_mode)
        missing = [p for p in batch if p not in done]
        if missing:  # soffice sometimes stops early without an error: once more, in a fresh run
            done.update(_convert(missing, outdir, taken, executable, timeout, recalc_mode))
        missing = [p.name for p in batch if p not in done]
        if missing:
            raise LibreOfficeError(f"LibreOffice 未能转换 {len(missing)} 个文件：{'、'.join(missing[:10])}")
        result.update(done)
    return result


def _convert(paths: list[Path], outdir: Path, taken: set[Path], executable: str, timeout: float,
             recalc_mode: int) -> dict[Path, Path]:
    """One soffice run over ``paths`` with a throwaway profile; what it converted."""
    work = Path(tempfile.mkdtemp(prefix="jx-libreoffice-"))
    try:
        profile = write_profile(work / "profile", recalc_mode)
        staged, converted = work / "in", work / "out"
        staged.mkdir()
        names = []
        for i, path in enumerate(paths):
            name = f"f{i:06d}{path.suffix.lower()}"
            _link_or_copy(path.resolve(), staged / name)
            names.append(name)
        command = [executable, "--headless", "--norestore", "--nolockcheck", "--nodefault",
                   f"-env:UserInstallation={profile.resolve().as_uri()}",
                   "--convert-to", XLSX_FILTER, "--outdir", str(converted), *names]
        _run(command, cwd=staged, timeout=timeout)
        done: dict[Path, Path] = {}
        for path, name in zip(paths, names):
            produced = converted / (Path(name).stem + ".xlsx")
            if produced.is_file():
                target = _unique(outdir, path.stem, taken)
                shutil.move(str(produced), target)
                done[path] = target
        return done
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.symlink(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _unique(outdir: Path, stem: str, taken: set[Path]) -> Path:
    target, n = outdir / f"{stem}.xlsx", 1
    while target in taken:
        n += 1
        target = outdir / f"{stem}-{n}.xlsx"
    taken.add(target)
    return target


def _run(command: list[str], cwd: Path, timeout: float) -> None:
    """Run soffice in its own process group, so a timeout can stop all of it."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"})
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # our own session: soffice and its soffice.bin
        process.communicate()
        raise LibreOfficeError(f"LibreOffice 超时（{timeout:g} 秒）") from None
    if process.returncode != 0:
        tail = (err or out).decode("utf-8", "replace").strip().splitlines()[-5:]
        raise LibreOfficeError(f"LibreOffice 退出码 {process.returncode}：{' / '.join(tail)}")


def recalculate_in_parallel(paths: Sequence[Path], outdir: Path, runs: int = 2,
                            timeout: float = DEFAULT_TIMEOUT, *, recalc_mode: int = RECALC_ALWAYS) -> dict[Path, Path]:
    """:func:`recalculate_with_libreoffice` over ``runs`` workers side by side (one per core)."""
    from concurrent.futures import ThreadPoolExecutor

    paths = list(paths)
    runs = max(1, min(runs, len(paths)))
    chunks = [paths[i::runs] for i in range(runs)]
    outdirs = [Path(outdir) / f"run{i}" for i in range(runs)] if runs > 1 else [Path(outdir)]
    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(recalculate_with_libreoffice, chunk, out, timeout, recalc_mode=recalc_mode)
                   for chunk, out in zip(chunks, outdirs)]
        result: dict[Path, Path] = {}
        for future in futures:
            result.update(future.result())
    return result


def read_values(path: Path, cells: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The values of ``(sheet, "G5")`` cells as last calculated: a float, text, True/False,
    an error value as its text (``"#VALUE!"``), or None for an empty cell.

    Read from the sheet XML itself: python-calamine gives an error value as an
    empty cell, and here an error is exactly what must be told apart.
    """
    from defusedxml.ElementTree import fromstring

    from jxtools.workbook_io import sheet_paths

    wanted: dict[str, set[str]] = {}
    for sheet, ref in cells:
        wanted.setdefault(sheet, set()).add(ref.replace("$", ""))
    parts = sheet_paths(path)
    out: dict[tuple[str, str], Any] = {}
    with zipfile.ZipFile(path) as archive:
        shared = _shared_strings(archive)
        for sheet, refs in wanted.items():
            if sheet not in parts:
                raise LibreOfficeError(f"{Path(path).name}：没有工作表“{sheet}”")
            root = fromstring(archive.read(parts[sheet]))
            found = {}
            for cell in root.iter(f"{{{_MAIN}}}c"):
                ref = cell.get("r")
                if ref in refs:
                    found[ref] = _cell_value(cell, shared)
            for ref in refs:
                out[(sheet, ref)] = found.get(ref)
    return out


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    from defusedxml.ElementTree import fromstring

    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    root = fromstring(archive.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{{{_MAIN}}}t")) for si in root.iter(f"{{{_MAIN}}}si")]


def _cell_value(cell, shared: list[str]) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{_MAIN}}}t"))
    v = cell.find(f"{{{_MAIN}}}v")
    if v is None or v.text is None:
        return "" if kind == "str" and v is not None else None
    if kind == "n":
        return float(v.text)
    if kind == "b":
        return v.text.strip() in ("1", "true")
    if kind == "s":
        return shared[int(v.text)]
    return v.text  # str (a formula's text) or e (an error value such as #VALUE!)
