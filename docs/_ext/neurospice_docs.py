"""Sphinx glue for the neurospice documentation: generated pages and the example gallery.

- ``devices/<name>.md`` (one stub per registered device): the source is replaced, when read,
  by :func:`neurospice.compact_models.docs.device_page` of that device, so the page is the
  definition's rendering and cannot drift from it.
- ``api.md``: the source is replaced by one ``automodule`` section per public module, found
  by walking the installed ``neurospice`` packages, so moving a module never breaks the build.
- The ``example`` directive shows an example script's source and, with ``:run:``, runs it at
  build time (arguments after the path; ``{out}`` is a folder in the build output, never in
  the source tree) and shows its printed output and the PNG figures it wrote.

Generated pages and pages that run an example are re-read on every build
(``env-get-outdated``), so an incremental build also follows changes to the models. The
``:run:`` examples are started side by side when the build starts (``builder-inited``) and
any still running when it ends are stopped.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
LOG = logging.getLogger(__name__)

# The top-level packages of the API reference (setup.py's FOLDERS); their submodules are found.
API_PACKAGES = ("neurospice", "neurospice.netlists", "neurospice.simulators",
                "neurospice.compact_models", "neurospice.circuits", "neurospice.calibration",
                "neurospice.analysis", "neurospice.demo")


_BAR = re.compile(r"(``.*?``|`[^`]*`)|\|")


def escape_bars(text: str) -> str:
    """Plain-text docstrings, made safe and readable as reStructuredText.

    - Docstrings write absolute values as ``|x|``, which reStructuredText reads as a
      substitution reference: every ``|`` outside inline literals, roles and literal blocks
      is escaped (lines that start with one, line blocks and tables, are left alone).
    - An indented block after a paragraph ending in a single ``:`` (equations, as the
      docstrings write them) becomes a literal block, as if the colon were doubled.
    """
    lines = text.split("\n")
    out, literal_indent = [], None
    for k, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None and line.strip() and indent <= literal_indent:
            literal_indent = None
        if literal_indent is not None or line.lstrip().startswith("|"):
            out.append(line)
            continue
        line = _BAR.sub(lambda m: m.group(1) or "\\|", line)
        stripped = line.rstrip()
        if stripped.endswith(":") and stripped.strip():
            nxt = [n for n in lines[k + 1:k + 3]]
            follows = len(nxt) == 2 and not nxt[0].strip() and \
                len(nxt[1]) - len(nxt[1].lstrip()) > indent and nxt[1].strip()
            if stripped.endswith("::") or follows:
                literal_indent = indent
                if not stripped.endswith("::"):
                    line = stripped + ":"
        out.append(line)
    return "\n".join(out)


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = escape_bars("\n".join(lines)).split("\n")


def device_docnames() -> dict[str, str]:
    """docname -> device name, for every registered device."""
    from neurospice.compact_models.devices import device_names

    return {f"devices/{name}": name for name in device_names()}


def public_modules() -> list[str]:
    """Every public module under :data:`API_PACKAGES` (no ``_private`` part, no
    ``__main__``), sorted. A package that fails to import is still listed (its subpackages
    are not), so autodoc reports the import error and the build fails on it."""
    found = set()
    for package in API_PACKAGES:
        found.add(package)
        try:
            mod = importlib.import_module(package)
        except Exception:           # reported by autodoc, with its traceback, as a warning
            continue
        for info in pkgutil.walk_packages(mod.__path__, prefix=package + ".",
                                          onerror=found.add):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            found.add(info.name)
    return sorted(found)


def api_page() -> str:
    lines = ["# API reference", "",
             "Generated from the docstrings of every public module (found by walking the "
             "installed packages when the documentation is built).", ""]
    for name in public_modules():
        lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}",
                  "   :members:", "   :ignore-module-all:", "```", ""]
    return "\n".join(lines)


def _source_read(app, docname, source):
    if docname in device_docnames():
        from neurospice.compact_models.devices import get_device
        from neurospice.compact_models.docs import device_page, physics_notes

        device = get_device(device_docnames()[docname])
        source[0] = device_page(device, notes=escape_bars(physics_notes(device)))
    elif docname == "api":
        source[0] = api_page()


def _outdated(app, env, added, changed, removed):
    generated = [*device_docnames(), "api", *getattr(app, "neurospice_run_docs", ())]
    return [d for d in generated if d in env.found_docs]


def _missing_device_pages(app):
    """Every registered device must have its stub page (else it would silently be missing)."""
    srcdir = Path(app.srcdir)
    missing = [d for d in device_docnames() if not (srcdir / f"{d}.md").is_file()]
    if missing:
        raise ExtensionError(f"docs: no stub page for device(s) {missing}: add "
                             f"docs/<docname>.md (its text is replaced by the generated page)")


_EXAMPLE = re.compile(r"^```\{example\}\s+(\S+)\s*\n:run:(.*)$", re.MULTILINE)


def _start_examples(app):
    """Start every ``:run:`` example of the source tree at once (they run side by side while
    the pages are read; each ``example`` directive then waits for its own)."""
    app.neurospice_runs, app.neurospice_run_docs = {}, set()
    srcdir = Path(app.srcdir)
    for md in sorted(srcdir.rglob("*.md")):
        if "_build" in md.parts:
            continue
        for path, args in _EXAMPLE.findall(md.read_text()):
            app.neurospice_runs[(path, args.strip())] = _launch(app, ROOT / path, args.strip())
            app.neurospice_run_docs.add(md.relative_to(srcdir).with_suffix("").as_posix())


def _stop_examples(app, exception):
    """After the build (failed or not) no example process is left running."""
    for proc, _, _ in getattr(app, "neurospice_runs", {}).values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _launch(app, path: Path, args: str):
    folder = Path(app.outdir) / "_gallery" / path.stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    argv = [a.replace("{out}", str(folder)) for a in shlex.split(args)]
    proc = subprocess.Popen([sys.executable, str(path), *argv], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, folder, time.monotonic()


class Example(SphinxDirective):
    """``example`` directive: one example of ``examples/`` (path relative to the repository)."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"run": directives.unchanged, "timeout": directives.positive_int}

    def run(self):
        path = ROOT / self.arguments[0]
        if not path.is_file():
            raise self.error(f"example {self.arguments[0]!r} not found in {ROOT}")
        self.env.note_dependency(str(path))
        out = [nodes.paragraph(text=f"Source: {self.arguments[0]}"),
               _literal(path.read_text(), "python")]
        if "run" not in self.options:
            return out
        key = (self.arguments[0], (self.options["run"] or "").strip())
        runs = getattr(self.env.app, "neurospice_runs", {})
        if key not in runs:        # an example written in a way _start_examples did not see
            runs[key] = _launch(self.env.app, path, key[1])
        proc, folder, start = runs[key]
        try:
            stdout, stderr = proc.communicate(timeout=self.options.get("timeout", 180))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise self.error(f"example {path.name} ran past its timeout") from None
        if proc.returncode:
            raise self.error(f"example {path.name} failed (exit {proc.returncode}):\n"
                             f"{stderr[-3000:]}")
        LOG.info(f"[gallery] {path.name}: {time.monotonic() - start:.1f} s")
        out += [nodes.paragraph(text="Output (printed when these pages were built):"),
                _literal(stdout, "text")]
        depth = self.env.docname.count("/")
        for png in sorted(folder.glob("*.png")):
            src = "../" * depth + f"_gallery/{path.stem}/{png.name}"
            out.append(nodes.raw("", f'<img src="{src}" alt="{png.name}" style="width:100%">',
                                 format="html"))
        return out


def _literal(text: str, language: str) -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = language
    return block


def setup(app):
    app.connect("builder-inited", _missing_device_pages)
    app.connect("builder-inited", _start_examples)
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("build-finished", _stop_examples)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _outdated)
    app.add_directive("example", Example)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
