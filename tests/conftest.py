from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ROOT / "tests" / "editions"
# A second, structurally different edition is installed for every test (before anything
# imports udfs), so no test can pass by silently scoring with "the newest edition".
os.environ["JX_RUBRIC_PATH"] = str(EDITIONS)
os.environ.pop("JX_RUBRIC", None)
SHENZHEN, FIXTURE = "shenzhen-2020", "test-county-2024"


def load_toml(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="session")
def golden() -> dict:
    return load_toml(ROOT / "tests" / "golden.toml")


@pytest.fixture(scope="session")
def reference_inputs() -> dict:
    return load_toml(ROOT / "examples" / "shenzhen-sast-2020.toml")["inputs"]


def needs_libreoffice():
    return pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")


def shenzhen(name: str):
    """A Shenzhen 2020 worksheet function, called as Python calls it: the edition named."""
    import udfs

    function = getattr(udfs, name)
    return lambda *args: function(*args, edition=SHENZHEN)
