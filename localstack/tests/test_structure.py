"""The extension's shape, read from its source with `ast` (nothing is imported, LocalStack is
not needed): no import cycle between its modules, counting imports inside functions; a
docstring on every module; no module over ~500 lines and no function over ~100.

Runs with the suite, and alone without LocalStack (conftest.py needs a running one):
    python -m pytest --noconftest localstack/tests/test_structure.py
    python localstack/tests/test_structure.py
"""

import ast
import sys
import tempfile
from pathlib import Path

PACKAGE = "pipectl_localstack"
SOURCE = Path(__file__).resolve().parent.parent / "ext" / PACKAGE
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100


def _modules(directory: Path) -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(), filename=str(p)) for p in sorted(directory.glob("*.py"))}


def _imported(tree: ast.Module, own: set[str]) -> set[str]:
    """The package's modules a module imports, anywhere in it (top level or in a function):
    `from . import a, b`, `from .a import x`, `from pipectl_localstack.a import x`,
    `import pipectl_localstack.a`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            relative = node.level == 1
            absolute = node.level == 0 and node.module is not None and (node.module == PACKAGE or node.module.startswith(PACKAGE + "."))
            if not (relative or absolute):
                continue
            inside = node.module if relative else node.module[len(PACKAGE) + 1 :] or None
            if inside:
                found.add(inside.split(".")[0])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(PACKAGE + "."):
                    found.add(a.name.split(".")[1])
    return found & own


def import_graph(directory: Path) -> dict[str, set[str]]:
    modules = _modules(directory)
    own = set(modules)
    return {name: _imported(tree, own) - {name} for name, tree in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None when the graph is acyclic."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_extension_has_no_import_cycle():
    graph = import_graph(SOURCE)
    assert {"batch", "jobs", "batch_lifecycle"} <= set(graph), sorted(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_job_engine_does_not_import_the_batch_operations():
    graph = import_graph(SOURCE)
    reachable, todo = set(), ["jobs"]
    while todo:
        for nxt in graph[todo.pop()] - reachable:
            reachable.add(nxt)
            todo.append(nxt)
    assert "batch_lifecycle" in reachable
    assert not reachable & {"batch", "compute_environments", "job_queues", "providers", "hooks"}, sorted(reachable)


def test_a_cycle_hidden_in_a_function_is_found():
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "a.py").write_text('"""a"""\nfrom .b import thing\n')
        (d / "b.py").write_text('"""b"""\nthing = 1\n\ndef late():\n    from . import c\n')
        (d / "c.py").write_text(f'"""c"""\ndef later():\n    import {PACKAGE}.a\n')
        (d / "d.py").write_text('"""d"""\nimport json\nfrom . import a\n')
        graph = import_graph(d)
        assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        assert find_cycle(graph) == ["a", "b", "c", "a"]
        (d / "c.py").write_text('"""c"""\n')
        assert find_cycle(import_graph(d)) is None


def test_every_module_has_a_docstring_and_stays_small():
    for name, tree in _modules(SOURCE).items():
        lines = (SOURCE / f"{name}.py").read_text().count("\n")
        assert ast.get_docstring(tree), f"{name}.py has no module docstring"
        assert lines <= MAX_MODULE_LINES, f"{name}.py has {lines} lines"
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{name}.py: {node.name} has {length} lines"


if __name__ == "__main__":
    for test in [v for k, v in dict(globals()).items() if k.startswith("test_")]:
        test()
        print("ok", test.__name__)
    sys.exit(0)
