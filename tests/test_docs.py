"""The documentation site: it builds with warnings as errors, and each device page agrees
with its definition.

The build runs Sphinx as ``make docs`` does (``-W``), into a temporary folder, once per
session. The device pages are then read back from the built HTML, independently of the
generator, and compared with the ``Device`` tables: a page that was not generated (the stub
left as it is) or that disagrees with the model fails. The built ``nbox`` page is also
opened in headless Chromium where ``/usr/bin/chromium`` exists (skipped elsewhere).
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neurospice.compact_models.devices import device_names, get_device
from neurospice.compact_models.docs import device_page, equations

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = Path("/usr/bin/chromium")

pytest.importorskip("sphinx", reason="the docs extra (sphinx, myst-parser, furo) is not installed")


# --------------------------------------------------------------------------- fast checks

def test_every_device_has_a_page_in_the_toctree():
    index = (DOCS / "devices" / "index.md").read_text()
    for name in device_names():
        assert (DOCS / "devices" / f"{name}.md").is_file(), name
        assert re.search(rf"^{name}$", index, re.MULTILINE), f"{name} not in devices/index.md"


def test_device_page_follows_the_definition():
    """Changing the definition changes the page: a default, a bound and a rate."""
    nbox = get_device("nbox")
    page = device_page(nbox)
    assert "| `g_ref` | S | `3e-06` | `(1e-12, 1]` |" in page
    changed = dataclasses.replace(
        nbox.parameter["g_ref"], default=5e-6, upper=0.5)
    params = tuple(changed if p.name == "g_ref" else p for p in nbox.parameters)
    rates = {**nbox.rates, "Ts": "((T - Ts)/r_th - (Ts - t_amb)/r_env)/c_env/2"}
    other = dataclasses.replace(nbox, parameters=params, rates=rates)
    new = device_page(other, notes="")
    assert "| `g_ref` | S | `5e-06` | `(1e-12, 0.5]` |" in new
    assert "`3e-06`" not in new
    assert "dTs/dt = ((T - Ts)/r_th - (Ts - t_amb)/r_env)/c_env/2" in new
    assert "## Physics" not in new


def test_equations_list_every_local_current_and_rate():
    for name in device_names():
        d = get_device(name)
        text = equations(d)
        for local, expr, *_ in d.locals:
            assert f" = {expr}" in text and text.count(local) >= 1
        for a, b, expr in d.currents:
            assert f"I({a} -> {b}) = {expr}" in text
        for s in d.states:
            assert f"d{s.name}/dt = {d.rates[s.name]}" in text


def test_escape_bars():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from neurospice_docs import escape_bars
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    assert escape_bars("E = |v| / d, ``|x|``, :func:`a`") == r"E = \|v\| / d, ``|x|``, :func:`a`"
    assert escape_bars("| a | b |") == "| a | b |"
    # an indented block after "...:" is a literal block, left as written
    assert escape_bars("G at |v|:\n\n    G = |v| / d\n\nthen |w|") == \
        "G at \\|v\\|::\n\n    G = |v| / d\n\nthen \\|w\\|"


# --------------------------------------------------------------------------- the build

@pytest.fixture(scope="session")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
                           "-q", "-E", str(DOCS), str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"make docs fails:\n{proc.stderr[-6000:]}"
    return out


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find("<section", start + 1)
    return page[start:end if end > 0 else len(page)]


def _rows(section: str) -> list[list[str]]:
    body = section[section.index("<tbody"):section.index("</tbody>")]
    return [[_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.mark.slow
def test_docs_build_without_warnings(built):
    for page in ("index", "getting_started", "api", "architecture", "devices/index",
                 "physics/index", "guides/index", "gallery/mtj_family"):
        assert (built / f"{page}.html").is_file(), page
    # the gallery ran: its figure is in the build folder, never in the source tree
    assert (built / "_gallery" / "mtj_family" / "mtj_family.png").stat().st_size > 10_000
    assert not list((ROOT / "examples").glob("**/mtj_family.png"))
    # the getting-started programs ran and printed their results
    start = _text((built / "getting_started.html").read_text())
    assert "junction resistance" in start and "fitted" in start and "test accuracy" in start
    # the API reference documents the public modules, found by walking the packages
    api = (built / "api.html").read_text()
    for obj in ("neurospice.netlists.circuit.Circuit", "neurospice.compact_models.framework.Device",
                "neurospice.analysis.spikes.detect_spikes"):
        assert f'id="{obj}"' in api, obj


@pytest.mark.slow
@pytest.mark.parametrize("name", device_names())
def test_device_page_agrees_with_definition(built, name):
    d = get_device(name)
    page = (built / "devices" / f"{name}.html").read_text()
    rows = {r[0]: r for r in _rows(_section(page, "parameters"))}
    assert list(rows) == [p.name for p in d.parameters], "parameter table != definition"
    for p in d.parameters:
        _, unit, default, bounds, description, source = rows[p.name]
        assert unit == (p.unit or "1"), p.name
        assert math.isclose(float(default), p.default, rel_tol=1e-5), p.name
        assert bounds == p.interval, p.name
        assert description == (p.description or "–"), p.name
        assert source == (p.source or "–"), p.name
    if d.states:
        srows = {r[0]: r for r in _rows(_section(page, "states"))}
        assert list(srows) == [s.name for s in d.states]
        for s in d.states:
            assert srows[s.name][1] == (s.unit or "1")
            assert float(srows[s.name][2]) == pytest.approx(s.scale, rel=1e-9)
    text = _text(_section(page, "equations"))
    for s in d.states:
        assert f"d{s.name}/dt = {d.rates[s.name]}" in text, s.name
    refs = _text(_section(page, "references"))
    for ref in d.references:
        assert html.unescape(ref) in refs


@pytest.mark.slow
def test_nbox_page_in_headless_chromium(built, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent (Debian package chromium; scripts/setup-system.sh "
                    "installs it with NEUROSPICE_CHROMIUM=1)")
    png = tmp_path / "nbox.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
         "--window-size=1280,2000", (built / "devices" / "nbox.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert png.is_file(), proc.stderr[-3000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, "blank or broken screenshot"
    keep = shutil.copy(png, built / "nbox-screenshot.png")
    print(f"screenshot: {keep}")
