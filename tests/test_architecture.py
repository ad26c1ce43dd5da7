"""The house rules of CONTRIBUTING.md ("Floors"), checked on the source: kseq's imports form no
cycle, each module imports only from its own floor or the floors below, no kseq import hides inside
a function, and no module imports its own package's ``__init__``.

The imports are read with ``ast`` (nothing is executed), top-level and in-function alike; imports
under ``if TYPE_CHECKING:`` are annotations only and never run, so they are left out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kseq"

# Bottom to top. A module belongs to the floor of the longest prefix naming it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("kseq.config", "kseq.core", "kseq.training.distributed")),
    ("registry", ("kseq.registry",)),
    (
        "math catalogues",
        (
            "kseq.activations",
            "kseq.initializers",
            "kseq.regularizers",
            "kseq.constraints",
            "kseq.losses",
            "kseq.mixed_precision",
            "kseq.optimizers",
        ),
    ),
    ("ops", ("kseq.ops", "kseq.random", "kseq.variables")),
    ("stateful catalogues", ("kseq.metrics",)),
    ("layers", ("kseq.layers",)),
    ("file formats", ("kseq.saving",)),
    ("callbacks", ("kseq.callbacks",)),
    ("training", ("kseq.training",)),
    ("models", ("kseq.models",)),
    ("package face", ("kseq", "kseq.utils", "kseq.backend", "kseq.preprocessing")),
]


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    found: list[Import] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "kseq":
                        found.append(Import(module, alias.name, child.lineno, nested))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base.split(".")[0] == "kseq":
                    for alias in child.names:
                        sub = f"{base}.{alias.name}"
                        found.append(
                            Import(module, sub if sub in MODULES else base, child.lineno, nested)
                        )
            visit(child, nested)

    visit(ast.parse(path.read_text()), False)
    return found


IMPORTS: list[Import] = [imp for module in MODULES for imp in _imports_of(module)]


def floor_of(module: str) -> int:
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} belongs to no floor: add it to FLOORS and CONTRIBUTING.md")
    return best


def _runtime_edges() -> dict[str, set[str]]:
    """Who imports whom when the code runs: the named module, and each package above it that
    the importer is not already inside (Python runs those packages' ``__init__`` first)."""
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for imp in IMPORTS:
        edges[imp.importer].add(imp.target)
        parts = imp.target.split(".")
        for depth in range(2, len(parts)):
            parent = ".".join(parts[:depth])
            if parent in MODULES and not (
                imp.importer == parent or imp.importer.startswith(parent + ".")
            ):
                edges[imp.importer].add(parent)
    return edges


def test_every_module_has_a_floor() -> None:
    for module in MODULES:
        floor_of(module)


def test_no_import_cycle() -> None:
    edges = _runtime_edges()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt == "kseq" or nxt not in edges:
                continue  # the package face is the entry point, never re-entered
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            walk(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_imports_only_go_down_the_floors() -> None:
    upward = [
        f"{imp.importer}:{imp.line} ({FLOORS[floor_of(imp.importer)][0]}) imports {imp.target} "
        f"({FLOORS[floor_of(imp.target)][0]})"
        for imp in IMPORTS
        if floor_of(imp.target) > floor_of(imp.importer)
    ]
    assert not upward, "imports that go up a floor:\n" + "\n".join(upward)


def test_no_kseq_import_inside_a_function() -> None:
    hidden = [
        f"{imp.importer}:{imp.line} imports {imp.target}" for imp in IMPORTS if imp.in_function
    ]
    assert not hidden, "kseq imports inside functions:\n" + "\n".join(hidden)


def test_no_import_through_own_package_init() -> None:
    through = [
        f"{imp.importer}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if MODULES[imp.target].name == "__init__.py"
        and imp.importer != imp.target
        and imp.importer.startswith(imp.target + ".")
    ]
    assert not through, "imports through the module's own package __init__:\n" + "\n".join(through)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= 500, f"{module} has {lines} lines (the cap is 500: split it along a seam)"
