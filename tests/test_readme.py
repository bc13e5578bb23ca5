"""The README's Python blocks run as written: extracted in order and executed as one program
(a later block may use what an earlier one defined) in an empty working folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from neurospice.simulators.testing import simulator_param

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_blocks_are_found():
    blocks = python_blocks("a\n```python\nx = 1\n```\n```sh\nls\n```\n```python\ny = x\n```\n")
    assert blocks == ["x = 1\n", "y = x\n"]
    assert len(python_blocks(README.read_text(encoding="utf-8"))) >= 4


def run_blocks(blocks: list[str], cwd: Path) -> subprocess.CompletedProcess:
    program = "".join(f"# --- README block {k + 1}\n{b}" for k, b in enumerate(blocks))
    script = cwd.parent / "readme_blocks.py"
    script.write_text(program, encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_a_failing_block_fails(tmp_path):
    """The runner reports a block that raises (the README's old NameError, for one)."""
    work = tmp_path / "work"
    work.mkdir()
    proc = run_blocks(["x = 1\n", "print(t)\n"], work)
    assert proc.returncode != 0 and "NameError" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sims", [pytest.param(("ngspice", "vacask"), marks=[
    *simulator_param("ngspice").marks, *simulator_param("vacask").marks])])
def test_readme_python_blocks_run(tmp_path, sims):
    work = tmp_path / "work"
    work.mkdir()
    proc = run_blocks(python_blocks(README.read_text(encoding="utf-8")), work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "drone_rf" in proc.stdout and "CC-BY-4.0" in proc.stdout
    leftovers = [p.name for p in work.iterdir()]
    assert leftovers == [], f"README blocks wrote into the working folder: {leftovers}"


def test_licence_and_citation_match_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    cff = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^license: MIT$", cff, re.M)
    assert re.search(rf"^version: {re.escape(project['version'])}$", cff, re.M)
    assert "## Unreleased (since 0.1.0)" in (ROOT / "CHANGELOG.md").read_text()
