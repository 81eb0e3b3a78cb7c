"""The type stubs at the language boundary (py/js.pyi, py/cortexkg_kernel.pyi) declare
what the Python side reads from JavaScript, as the JavaScript side defines it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "py"
pytestmark = pytest.mark.skipif(not (STUBS / "js.pyi").is_file(),
                                reason="the repository's source tree is not beside the unit tests")
_WASM_TYPES = {"i32": "int", "i64": "int", "f32": "float", "f64": "float"}


def js_names_read(source: str) -> set[tuple[str, ...]]:
    """Every attribute chain read from the ``js`` module, as ``("performance", "now")``."""
    chains = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            chain, inner = [], node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "js":
                chains.add(tuple(reversed(chain)))
    # keep the longest chains: js.performance.now also reads js.performance
    return {c for c in chains if not any(o[: len(c)] == c and o != c for o in chains)}


def _members(node: ast.AST) -> dict[str, ast.AST]:
    out = {}
    for item in getattr(node, "body", []):
        if isinstance(item, (ast.ClassDef, ast.FunctionDef)):
            out[item.name] = item
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            out[item.target.id] = item
    return out


def declared(stub: ast.Module, chain: tuple[str, ...]) -> bool:
    """Whether ``stub`` declares the attribute chain (through annotated types)."""
    classes = {n.name: n for n in stub.body if isinstance(n, ast.ClassDef)}
    scope: ast.AST | None = stub
    for name in chain:
        if scope is None:
            return False
        found = _members(scope).get(name)
        if isinstance(found, ast.AnnAssign):
            annotation = found.annotation
            scope = classes.get(annotation.id) if isinstance(annotation, ast.Name) else None
        elif found is None:
            return False
        else:
            scope = found if isinstance(found, ast.ClassDef) else None
    return True


def test_js_stub_declares_every_javascript_name_the_host_reads():
    stub = ast.parse((STUBS / "js.pyi").read_text())
    chains = js_names_read((ROOT / "py" / "cortexkg" / "host.py").read_text())
    assert ("performance", "now") in chains and ("Date", "now") in chains
    assert [c for c in sorted(chains) if not declared(stub, c)] == []


def test_only_the_host_imports_js():
    importers = [path.name for path in (ROOT / "py" / "cortexkg").rglob("*.py")
                 if re.search(r"^\s*(import js\b|from js import)", path.read_text(), re.M)]
    assert importers == ["host.py"]


def test_declared_sees_a_missing_name():
    stub = ast.parse("class _P:\n    def now(self) -> float: ...\nperformance: _P\n")
    assert declared(stub, ("performance", "now"))
    assert not declared(stub, ("performance", "mark"))
    assert not declared(stub, ("console", "log"))


def test_kernel_stub_declares_each_export_of_the_kernel_with_its_parameters():
    from cortexkg.scans.wasm_scans import EXPORTS

    wat = (ROOT / "py" / "cortexkg" / "scans" / "kernel.wat").read_text()
    defined = {}
    for match in re.finditer(
            r'\(func \$\w+ \(export "(\w+)"\)((?:\s*\((?:param|result)[^)]*\))*)', wat):
        params = [(name, _WASM_TYPES[kind])
                  for name, kind in re.findall(r"\(param \$(\w+) (\w+)\)", match[2])]
        result = re.findall(r"\(result (\w+)\)", match[2])
        defined[match[1]] = (params, _WASM_TYPES[result[0]] if result else "None")
    stub = ast.parse((STUBS / "cortexkg_kernel.pyi").read_text())
    stubbed = {
        f.name: ([(a.arg, ast.unparse(a.annotation)) for a in f.args.args], ast.unparse(f.returns))
        for f in stub.body if isinstance(f, ast.FunctionDef)}
    assert sorted(defined) == sorted(EXPORTS)
    assert stubbed == defined
