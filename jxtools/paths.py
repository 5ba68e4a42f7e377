"""Where the bundled artifacts live (no imports: every command can read this for free)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "workbook_template.xlsm"
EXAMPLE = ROOT / "examples" / "shenzhen-sast-2020.xlsm"
EXAMPLE_INPUTS = ROOT / "examples" / "shenzhen-sast-2020.toml"
EXAMPLE_TABLES = ROOT / "examples" / "reference-tables.toml"
