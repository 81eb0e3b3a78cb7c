"""Dependencies run one way: no import cycle among cortexkg's modules nor the page's.

The graphs are read from the source (Python's ``ast``; JavaScript's ``import``/``export
... from`` and ``import()`` specifiers), so a cycle fails here even when a lazy import
keeps it from failing at run time.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cortexkg

PACKAGE = Path(cortexkg.__file__).parent  # the source tree, or the wheel inside Pyodide
WEB = Path(__file__).resolve().parents[2] / "web"
# inside Pyodide the unit tests run without the page's source beside them
# (inside Pyodide, web/ holds only cortexkg.js, which test_session reads: not the tree)
needs_web = pytest.mark.skipif(not (WEB / "worker.js").is_file(),
                               reason="the repository's source tree is not beside the unit tests")
# static and dynamic imports, and re-exports, of a quoted specifier
_JS_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*)(["'])(?P<spec>[^"'\n]+)\1""")


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports (anywhere in it, lazily or not)."""
    files = {_module_name(path, package): path for path in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # "from . import fields" imports a module; "from .scans import x" a name
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in files
                           else source for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def javascript_graph(web: Path = WEB) -> dict[str, set[str]]:
    """file (relative to ``web``) -> the files under ``web`` it imports."""
    files = {path.relative_to(web).as_posix(): path for path in web.rglob("*.js")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for match in _JS_IMPORT.finditer(path.read_text()):
            spec = match["spec"]
            if spec.startswith("."):
                target = (path.parent / spec).resolve()
                if target.is_relative_to(web.resolve()):
                    graph[name].add(target.relative_to(web.resolve()).as_posix())
        graph[name] &= files.keys()
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None when the graph has none."""
    done: set[str] = set()  # nodes whose every path was followed without a cycle
    for root in sorted(graph):
        if root in done:
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                stack.pop()
                done.add(path.pop())
            elif target in path:
                return path[path.index(target):] + [target]
            elif target not in done:
                path.append(target)
                stack.append(iter(sorted(graph.get(target, ()))))
    return None


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a2"}, "a2": set(), "b": {"b"}}, ["b", "b"]),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),  # a diamond is no cycle
], ids=["three", "self", "diamond"])
def test_find_cycle_reports_a_cycle_and_only_a_cycle(graph, expected):
    assert find_cycle(graph) == expected


def test_python_graph_sees_relative_lazy_and_submodule_imports():
    graph = python_graph()
    assert "cortexkg.columns" in graph["cortexkg.scans.reference"]  # from ..columns import
    assert "cortexkg.fields" in graph["cortexkg.scans.reference"]  # from .. import fields
    assert "cortexkg.scans.wasm_scans" in graph["cortexkg.scans"]  # inside a function
    assert "cortexkg.snapshot" in graph["cortexkg.engine_snapshots"]  # from . import x as y


@needs_web
def test_javascript_graph_sees_static_dynamic_and_parent_imports():
    graph = javascript_graph()
    assert "durable.js" in graph["worker.js"]  # import("./durable.js")
    assert "protocol.js" in graph["cortexkg.js"]
    assert "dashboard/format.js" in graph["dashboard/grid.js"]
    assert "cortexkg.js" in graph["dashboard/params.js"]  # from "../cortexkg.js"


def test_no_import_cycle_in_python():
    assert find_cycle(python_graph()) is None


@needs_web
def test_no_import_cycle_in_javascript():
    assert find_cycle(javascript_graph()) is None
