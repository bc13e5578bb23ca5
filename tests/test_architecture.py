"""The layering of docs/architecture.md, enforced: which part of neurospice may import which,
and no module reaching into another module's underscore names.

Both rules walk the ``ast`` of every installed module, function-local imports included, so a
lazy import cannot hide a wrong dependency. Each rule is also shown failing on a deliberately
wrong snippet, so the check itself is known to work.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# folder -> installed package, as in setup.py
FOLDERS = {
    "core": "neurospice",
    "netlists": "neurospice.netlists",
    "simulators": "neurospice.simulators",
    "compact_models": "neurospice.compact_models",
    "analysis": "neurospice.analysis",
    "calibration": "neurospice.calibration",
    "circuits": "neurospice.circuits",
    "demo": "neurospice.demo",
    "learning": "neurospice.learning",
}

# The layers, lowest first. A module may import its own layer and the layers below it.
# ``base`` is the part of core/ everything stands on; ``app`` is what a user starts (the CLI,
# the demo, the data sets that return the project's own types).
LAYERS = ["base", "netlists", "simulators", "compact_models", "analysis", "calibration",
          "circuits", "learning", "app"]

# core/ modules that are not base (they sit on top of everything)
APP_MODULES = {"neurospice.cli", "neurospice.__main__", "neurospice.datasets"}

# Exceptions, each with its reason. Keep this list short; every entry is a design decision.
ALLOWED = {
    # analysis turns simulator results into figures of merit; it reads Result, never runs one
    ("analysis", "simulators"): "analysis reads simulators.Result",
}


def layer_of(module: str) -> str | None:
    """The layer of a ``neurospice`` module name, or None for a module outside the project."""
    if module != "neurospice" and not module.startswith("neurospice."):
        return None
    if module in APP_MODULES or module.startswith("neurospice.demo"):
        return "app"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ("netlists", "simulators", "compact_models", "analysis",
                                         "calibration", "circuits", "learning"):
        # a package's own command-line module is the CLI's, but it only imports downward
        return parts[1]
    return "base"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    package = FOLDERS[rel.parts[0]]
    rest = list(rel.parts[1:])
    rest[-1] = rest[-1][:-3]
    if rest[-1] == "__init__":
        rest.pop()
    return ".".join([package, *rest])


def project_modules() -> dict[str, Path]:
    mods = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            mods[module_name(path)] = path
    return mods


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name an ``ImportFrom`` node refers to."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, source: str, is_package: bool = False):
    """(line, imported module, imported names) for every import in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, resolve(module, is_package, node), [a.name for a in node.names]


def layer_violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Imports of ``module`` that reach a layer above its own."""
    own = layer_of(module)
    bad = []
    for line, target, names in imports_of(module, source, is_package):
        # ``from neurospice import x`` imports the module neurospice.x
        targets = [f"{target}.{n}" if target == "neurospice" else target for n in names] \
            if names else [target]
        for t in targets:
            layer = layer_of(t)
            if layer is None or own is None:
                continue
            if LAYERS.index(layer) > LAYERS.index(own) and (own, layer) not in ALLOWED:
                bad.append(f"{module}:{line} ({own}) imports {t} ({layer})")
    return bad


SAFE_PRIVATE = {"_replace", "_asdict", "_fields", "_make", "_exit", "_getframe"}


def defined_private_names(tree: ast.AST) -> set[str]:
    """Underscore names a module defines itself (functions, classes, names, attributes)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)          # namedtuple/dataclass fields given by keyword
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.isidentifier():
            names.add(node.value)        # __slots__, getattr(self, "_x")
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def private_violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Uses of another module's underscore names: ``from m import _x``, ``import m._x``,
    ``obj._x`` where this module defines no ``_x`` itself."""
    tree = ast.parse(source)
    own = defined_private_names(tree)
    bad = []
    for line, target, names in imports_of(module, source, is_package):
        if not (target == "neurospice" or target.startswith("neurospice.")):
            continue
        if any(p.startswith("_") and not p.startswith("__") for p in target.split(".")):
            bad.append(f"{module}:{line} imports the private module {target}")
        bad += [f"{module}:{line} imports {target}.{n}" for n in names
                if n.startswith("_") and not n.startswith("__")]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__") and node.attr not in own \
                and node.attr not in SAFE_PRIVATE:
            bad.append(f"{module}:{node.lineno} uses .{node.attr}, defined elsewhere")
    return bad


MODULES = project_modules()


def test_every_folder_is_mapped():
    """The table above knows every installed folder (as setup.py does)."""
    setup = (ROOT / "setup.py").read_text()
    for folder, package in FOLDERS.items():
        assert f'"{package}": "{folder}"' in setup, (folder, package)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module):
    path = MODULES[module]
    assert layer_violations(module, path.read_text(), path.name == "__init__.py") == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_uses_another_modules_private_names(module):
    path = MODULES[module]
    assert private_violations(module, path.read_text(), path.name == "__init__.py") == []


def test_the_layer_rule_catches_a_wrong_import():
    # the netlist layer must not know about circuits built on devices, even lazily
    wrong = "def f():\n    from neurospice.circuits import neurons\n    return neurons\n"
    assert layer_violations("neurospice.netlists.writers", wrong) == [
        "neurospice.netlists.writers:2 (netlists) imports neurospice.circuits (circuits)"]
    relative = "from ..calibration import fit\n"
    assert layer_violations("neurospice.simulators.base", relative) == [
        "neurospice.simulators.base:1 (simulators) imports neurospice.calibration (calibration)"]
    assert layer_violations("neurospice.circuits.crossbar",
                            "from neurospice.netlists import Circuit\n") == []


def test_the_private_rule_catches_a_reach_in():
    wrong = ("from neurospice.calibration.recipes import _device\n"
             "def f(dev):\n    return dev.numpy._evaluate\n")
    assert private_violations("neurospice.circuits.neurons", wrong) == [
        "neurospice.circuits.neurons:1 imports neurospice.calibration.recipes._device",
        "neurospice.circuits.neurons:3 uses ._evaluate, defined elsewhere"]
    own = "class A:\n    def __init__(self):\n        self._x = 1\n    def g(self, o):\n" \
          "        return o._x\n"
    assert private_violations("neurospice.netlists.circuit", own) == []
