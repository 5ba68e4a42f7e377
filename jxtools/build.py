"""Build the committed artifacts: the template and the filled example.

Both are deterministic, so a test can rebuild them and compare bytes: the
committed files never drift from the code and the rubric data.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

from addin.atomic import write_atomically
from addin.template import Filled, workbook_bytes
from addin.vba_parts import vba_project
from jx.rubric import load_rubric

EDITION = "shenzhen-2020"  # the edition of the bundled template and example

from .paths import EXAMPLE, EXAMPLE_INPUTS, EXAMPLE_TABLES, ROOT, TEMPLATE  # noqa: F401 (re-exported)


def example_filled() -> Filled:
    with EXAMPLE_INPUTS.open("rb") as f:
        example = tomllib.load(f)
    with EXAMPLE_TABLES.open("rb") as f:
        tables = tomllib.load(f)
    return Filled(example["inputs"], tables["task"], tables["target"], example.get("texts", {}))


def template_bytes() -> bytes:
    rubric = load_rubric(EDITION)
    return workbook_bytes(None, rubric, vba_project(rubric))


def example_bytes() -> bytes:
    """The filled example, recalculated, so any viewer shows its scores."""
    from .cached import with_values
    from .recalc import recalculate

    with tempfile.TemporaryDirectory(prefix="jx-example-") as tmp:
        plain = Path(tmp) / EXAMPLE.name
        rubric = load_rubric(EDITION)
        plain.write_bytes(workbook_bytes(example_filled(), rubric, vba_project(rubric)))
        return with_values(plain, recalculate(plain).values)


def build_all() -> list[Path]:
    write_atomically(TEMPLATE, template_bytes())
    write_atomically(EXAMPLE, example_bytes())
    return [TEMPLATE, EXAMPLE]


def stale() -> list[str]:
    """The committed artifacts that differ from a fresh build."""
    problems = []
    for path, fresh in ((TEMPLATE, template_bytes), (EXAMPLE, example_bytes)):
        if not path.exists() or path.read_bytes() != fresh():
            problems.append(str(path.relative_to(ROOT)))
    return problems
