from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
