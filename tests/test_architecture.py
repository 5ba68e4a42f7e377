"""The layers stay apart: the rules know nothing of Excel, the Excel face nothing of the tools.

Every import in every module (at the top or inside a function) is read from
the source, so a shortcut added anywhere fails here:

* ``jx`` (the rules): the standard library only;
* ``udfs`` (the Excel functions): ``jx`` and xlwings;
* ``addin`` (the template and its VBA): ``jx``, ``udfs``, openpyxl; never ``jxtools``;
  ``addin/vba`` (the VBA project writer) is a leaf: nothing from the project;
* ``jxtools`` (the headless tools and the CLI) may use all of the above;
* nothing shipped imports ``tests``.

And the minimal Windows install (xlwings, click, the core) runs the functions:
``udfs`` imports with openpyxl, pandas, numpy, formulas and calamine hidden.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("jx", "udfs", "addin", "jxtools")
STDLIB = set(sys.stdlib_module_names)

ALLOWED = {
    "jx": set(),
    "udfs": {"jx", "xlwings", "win32com", "pythoncom"},  # pywin32 on Windows: errors as COM exceptions
    "addin": {"jx", "udfs", "openpyxl", "xlwings"},
    "addin.vba": set(),
    "jxtools": {"jx", "udfs", "addin", "click", "openpyxl", "formulas", "python_calamine", "defusedxml", "tqdm",
                "pandas", "numpy", "schedula", "docx", "oletools", "xlwings", "win32api", "win32com", "pythoncom",
                "winreg"},
}


def _imports(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside its own package (checked by the package's own rule)
                if node.level > 1 or (node.level == 1 and package == "addin.vba" and node.module is None):
                    found.add(f"..{node.module or ''}")
                continue
            found.add(node.module or "")
    return found


def _layer(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return "addin.vba" if parts[:2] == ("addin", "vba") else parts[0]


MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_every_import_respects_the_layers(path):
    layer = _layer(path)
    allowed = ALLOWED[layer]
    for name in _imports(path, layer):
        top = name.split(".")[0]
        if name.startswith(".."):
            assert layer != "addin.vba", f"{path.name}: the VBA writer imports {name} from the project"
            continue
        if top in STDLIB or top == "__future__":
            continue
        if top == layer.split(".")[0] and layer != "addin.vba":
            continue
        assert top in allowed, f"{path.relative_to(ROOT)} imports {name} (allowed: {sorted(allowed) or 'stdlib'})"
        assert top != "tests"


def test_the_minimal_install_runs_the_functions():
    """udfs with the tools extra hidden: what a Windows user who only wants Excel gets."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'openpyxl','pandas','numpy','formulas','python_calamine','defusedxml',"
        "'tqdm','docx','schedula'}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import udfs\n"
        "print(udfs.JX_EXEC_SCORE(0.25, 0.5, 0.75, 1.0, edition='shenzhen-2020'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6.0"
