"""Edit a workbook the way a LibreOffice user does (rename a sheet, insert rows), through UNO.

Real LibreOffice, not a zip patch: renaming a sheet updates every defined name
and formula that points at it, inserting rows inside a named range grows the
range and moves every cell below, exactly as a user's edit would. The edit
runs in the system Python that has ``uno`` (Debian's python3-uno), in a
throwaway profile, and saves an .xlsm with its VBA project kept.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

# Runs in the system Python (python3-uno): start a headless soffice on a pipe, hand back its desktop.
UNO_PRELUDE = r'''
import json, os, subprocess, sys, time, uuid
import uno
from com.sun.star.beans import PropertyValue

def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p

def start(work, macros=False):
    """A headless soffice with the profile in ``work``, and its desktop; ``macros``: documents' macros run."""
    if macros:  # the lowest macro security level, in the throwaway profile only
        os.makedirs(os.path.join(work, "user"), exist_ok=True)
        with open(os.path.join(work, "user", "registrymodifications.xcu"), "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
                    'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                    '<item oor:path="/org.openoffice.Office.Common/Security/Scripting">'
                    '<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>0</value></prop></item></oor:items>')
    pipe = "jx" + uuid.uuid4().hex
    soffice = subprocess.Popen(["soffice", "--headless", "--norestore", "--nolockcheck", "--nodefault",
                                "-env:UserInstallation=" + uno.systemPathToFileUrl(work),
                                f"--accept=pipe,name={pipe};urp;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"})
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            time.sleep(0.2)
    return soffice, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

def stop(soffice, desktop):
    try:
        desktop.terminate()
    except Exception:
        pass
    try:
        soffice.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(soffice.pid, 9)
'''

_RUNNER = UNO_PRELUDE + r'''
source, target, work, operations = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
soffice, desktop = start(work)
try:
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0, (prop("Hidden", True),))
    for op in operations:
        sheets = doc.Sheets
        if op["op"] == "rename":
            sheet = sheets.getByName(op["sheet"])
            if sheet.isProtected():
                sheet.unprotect("")
            sheet.setName(op["to"])
        elif op["op"] == "insert_rows":
            sheet = sheets.getByName(op["sheet"])
            if sheet.isProtected():
                sheet.unprotect("")
            sheet.getRows().insertByIndex(op["before"] - 1, op["count"])
            sheet.protect("")
        elif op["op"] == "set":
            sheet = sheets.getByName(op["sheet"])
            cell = sheet.getCellRangeByName(op["cell"])
            value = op["value"]
            if isinstance(value, str):
                cell.setString(value)
            else:
                cell.setValue(value)
    doc.calculateAll()
    doc.storeToURL(uno.systemPathToFileUrl(target), (prop("FilterName", "Calc MS Excel 2007 VBA XML"),))
    doc.close(True)
finally:
    stop(soffice, desktop)
'''


def uno_python() -> str | None:
    """A Python that can ``import uno`` (None when LibreOffice or python3-uno is missing)."""
    if shutil.which("soffice") is None:
        return None
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0:
            return candidate
    return None


def edit(source: Path, target: Path, operations: list[dict], timeout: float = 180) -> Path:
    """Apply ``operations`` to ``source`` in LibreOffice and save the result as ``target`` (.xlsm)."""
    python = uno_python()
    if python is None:
        raise RuntimeError("LibreOffice with python3-uno is needed")
    with tempfile.TemporaryDirectory(prefix="jx-uno-") as work:
        done = subprocess.run([python, "-c", _RUNNER, str(Path(source).resolve()), str(Path(target).resolve()), work,
                               json.dumps(operations)], timeout=timeout, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"LibreOffice edit failed: {done.stderr[-2000:]}")
    if not Path(target).exists():
        raise RuntimeError(f"LibreOffice did not write {target}")
    return Path(target)
