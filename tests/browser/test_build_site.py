"""build/build_site.py: dist/ only from verified inputs, rebuilt incrementally."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from types import ModuleType

import pytest

from harness import ROOT, load_build_script

pytestmark = pytest.mark.browser

TEST_LOCK = ROOT / "build" / "test-wheels.lock"


def test_a_wheel_that_differs_from_its_pin_fails_the_build_and_ships_nothing(
    build_site: ModuleType, tmp_path: Path
) -> None:
    real_pin = load_build_script("site_pins").read_pins(TEST_LOCK)[0]
    tampered_hash = ("0" if real_pin.sha256[0] != "0" else "1") + real_pin.sha256[1:]
    tampered_lock = tmp_path / "test-wheels.lock"
    tampered_lock.write_text(TEST_LOCK.read_text().replace(real_pin.sha256, tampered_hash))
    dist = tmp_path / "dist"

    with pytest.raises(build_site.BuildError) as failure:
        build_site.build_site(with_tests=True, test_lock=tampered_lock, dist=dist)

    message = str(failure.value)
    assert "sha256 mismatch" in message
    assert f"{real_pin.name}=={real_pin.version}" in message
    assert tampered_hash in message and real_pin.sha256 in message
    assert not dist.exists()


def test_a_malformed_pin_fails_the_build_naming_the_line(
    build_site: ModuleType, tmp_path: Path
) -> None:
    lock = tmp_path / "test-wheels.lock"
    lock.write_text("# comment\nmicropip>=0.11\n")
    with pytest.raises(build_site.BuildError, match=r"test-wheels\.lock:2: .*micropip>=0\.11"):
        build_site.build_site(with_tests=True, test_lock=lock, dist=tmp_path / "dist")


def test_a_numpy_wheel_is_accepted_only_with_the_runtimes_sha256(
    build_site: ModuleType, tmp_path: Path
) -> None:
    impostor = tmp_path / "numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    impostor.write_bytes(b"not numpy")
    with pytest.raises(build_site.BuildError, match="pyodide-lock.json lists numpy-"):
        build_site.build_site(numpy_wheel=impostor, dist=tmp_path / "dist")


def test_the_manifest_names_the_runtime_and_the_cortexkg_wheel_only(site: Path) -> None:
    manifest = json.loads((site / "site.json").read_text())
    assert re.fullmatch(r"wheels/cortexkg-[^-]+-py3-none-any\.whl", manifest["cortexkg"])
    assert (site / manifest["cortexkg"]).is_file()
    assert (site / manifest["indexURL"] / "pyodide.asm.wasm").is_file()
    # cortexkg needs nothing else in Pyodide: no installer, and numpy only when given
    assert manifest["packages"] == []
    assert [path.name for path in site.rglob("*.whl")] == [Path(manifest["cortexkg"]).name]


def test_tables_js_is_the_python_tables(site: Path) -> None:
    from cortexkg.tables import javascript_module

    assert (site / "tables.js").read_text() == javascript_module()
    assert 'from "./tables.js"' in (site / "api-checks.js").read_text()  # the API's defaults


def test_a_rebuild_with_unchanged_inputs_changes_nothing(
    build_site: ModuleType, site: Path
) -> None:
    result = build_site.build_site()
    assert (result.copied, result.removed) == (0, 0)


def test_the_apps_site_ships_no_test_code(site: Path) -> None:
    # Only build_site.py --with-tests adds pytest/ (the unit tests inside Pyodide), and
    # only --with-bench the benchmark page.
    assert not (site / "pytest").exists()
    assert not (site / "bench").exists()
    assert not list(site.rglob("test_*.py"))
    assert not list(site.rglob("pytest-*.whl"))


def test_the_dashboard_preloads_every_module_main_js_imports(site: Path) -> None:
    # index.html lists them so the browser fetches them at once, not level by level
    # (the worker, and so Pyodide, starts only when they have all loaded)
    def imports(module: str) -> list[str]:
        text = (site / module).read_text()
        specifiers = re.findall(r'^import\b[^;]*?\bfrom "(\.{1,2}/[^"]+)"', text, re.M)
        return [posixpath.normpath(posixpath.join(posixpath.dirname(module), s))
                for s in specifiers]

    graph, pending = set(), imports("main.js")
    while pending:
        module = pending.pop()
        if module not in graph:
            graph.add(module)
            pending += imports(module)
    html = (site / "index.html").read_text()
    assert set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)) == graph
