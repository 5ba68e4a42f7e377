"""SIGTERM and Ctrl-C stop a command cleanly: no worker left running, no temporary copy, no half output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from jxtools.build import EXAMPLE

JX = [sys.executable, "-m", "jxtools.cli"]
ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> set[int]:
    """Every descendant process of ``pid`` (Linux /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as f:
                    kids = {int(k) for k in f.read().split()}
            except FileNotFoundError:
                continue
            todo += list(kids - out)
            out |= kids
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_batch_stops_with_its_workers(tmp_path, sig):
    folder = tmp_path / "books"
    folder.mkdir()
    for i in range(400):
        os.link(EXAMPLE, folder / f"book{i:03}.xlsm")
    out = tmp_path / "summary.xlsx"
    env = dict(os.environ, TMPDIR=str(tmp_path))
    process = subprocess.Popen([*JX, "batch", str(folder), "-o", str(out), "-j", "2"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: len(_children(process.pid)) >= 2, 60), "the workers never started"
        workers = _children(process.pid)
        process.send_signal(sig)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "已中断" in stderr and "Traceback" not in stderr
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10), "workers left running"
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_recalc_with_the_general_engine_leaves_no_temporary_copy(tmp_path):
    """An edited formula sends recalc to the formula engine, which works on a temporary copy: removed on SIGTERM."""
    edited = tmp_path / "edited.xlsm"
    wb = openpyxl.load_workbook(EXAMPLE, keep_vba=True)
    wb["评分表"]["G17"] = "=JX_STAFF_SCORE(JX_STAFF_RATIO(编外人数,在编人数))+0"
    wb.save(edited)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out.xlsm"
    env = dict(os.environ, TMPDIR=str(scratch))
    process = subprocess.Popen([*JX, "recalc", str(edited), "-o", str(out)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: any(scratch.glob("jx-recalc-*")), 60), "the engine never started"
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert not list(scratch.iterdir()), list(scratch.iterdir())
    assert not out.exists()
