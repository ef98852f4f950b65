"""The import rules docs/architecture.md states, read from the source with `ast`.

Imports inside functions count: a deferred import still couples the two modules, and a circle
through one only waits for the first call to bite. Imports under `if TYPE_CHECKING:` do not run,
so they are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_syncer"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs: all but those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def imported_modules(path: Path) -> set[str]:
    """The modules `path` imports, by full dotted name (`from a import b` names `a.b` when `b`
    is a module, else `a`)."""
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif node.module is not None and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def test_the_harness_side_imports_the_contract_never_the_reference_syncer() -> None:
    """The harness tests any syncer, so what it expects comes from `contract/`; an import of
    the reference syncer would let one defect change the syncer and the expectation together."""
    harness_side = [
        *(PACKAGE / "harness").rglob("*.py"),
        *(PACKAGE / "soak").rglob("*.py"),
        *(ROOT / "tests" / "e2e").rglob("*.py"),
    ]
    assert len(harness_side) > 30
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in harness_side
        for name in imported_modules(path)
        if _within(name, ("pytest_syncer.syncer",))
    )
    assert offenders == []
    uses_contract = [
        path for path in harness_side if "pytest_syncer.contract" in str(imported_modules(path))
    ]
    assert uses_contract, "the harness side reads its names from pytest_syncer.contract"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {
            imported
            for imported in imported_modules(path)
            if imported in MODULES and imported != name
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_sees_a_circle() -> None:
    """A fixed graph with one circle and one tail: the check below can fail."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_circles_inside_the_package() -> None:
    graph = _graph()
    assert "pytest_syncer.harness.environment" in graph
    assert _cycles(graph) == []


def test_the_contract_imports_nothing_outside_itself() -> None:
    """Everything builds on `contract/`, so it can build on nothing of the package."""
    contract = sorted((PACKAGE / "contract").rglob("*.py"))
    assert contract
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in contract
        for name in imported_modules(path)
        if _within(name, ("pytest_syncer",)) and not _within(name, ("pytest_syncer.contract",))
    )
    assert offenders == []


def _offenders(package: str, forbidden: Callable[[str], bool]) -> list[str]:
    paths = sorted((PACKAGE / package).rglob("*.py"))
    assert paths, f"no modules under {package}/"
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        for name in imported_modules(path)
        if forbidden(name)
    )


def test_the_http1_client_sits_below_the_tunnel_and_the_kubeclient() -> None:
    """`http1/` imports only `process/`; `kubeclient/` and `tunnel/` share it and neither
    imports the other."""
    below = ("pytest_syncer.http1", "pytest_syncer.process")
    assert (
        _offenders(
            "http1", lambda name: _within(name, ("pytest_syncer",)) and not _within(name, below)
        )
        == []
    )
    assert _offenders("kubeclient", lambda name: _within(name, ("pytest_syncer.tunnel",))) == []
    assert _offenders("tunnel", lambda name: _within(name, ("pytest_syncer.kubeclient",))) == []
    assert "pytest_syncer.http1.pool" in imported_modules(PACKAGE / "kubeclient" / "client.py")
    assert "pytest_syncer.http1.pool" in imported_modules(PACKAGE / "tunnel" / "client.py")
