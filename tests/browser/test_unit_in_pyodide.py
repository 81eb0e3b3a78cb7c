"""The engine's unit tests (tests/unit) pass inside Pyodide in Chromium, not only on CPython.

build_site.py --with-tests adds the page pytest/ (web/pytest/), the test-only wheels of
build/test-wheels.lock and the files of tests/unit; the page boots Python in a worker as
the app does (web/boot.js) and runs pytest there. numpy has no Pyodide wheel here, so the
tests that need it skip (tests/unit/optional_numpy.py); everything else must pass.
"""

from __future__ import annotations

from types import ModuleType
from typing import Iterator

import pytest
from harness import ROOT, Server, serve
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Booting Pyodide, installing the test wheels and running every unit test: about two
# minutes on a quiet 2-core machine, over four under load. A guard against a hang, not a
# speed check (pytest's own timeout is 600 s).
RUN_TIMEOUT_MS = 540_000
# Fewer than pass today (see the printed summary): a run that quietly lost tests, or a
# module of them, fails here.
MIN_PASSED = 550
UNIT_TEST_FILES = {path.relative_to(ROOT).as_posix()
                   for path in (ROOT / "tests" / "unit").glob("test_*.py")}
# Test files whose every test skips inside Pyodide, by design: the CPython host adapter's,
# the kernel's under wasmtime, the reference design's JavaScript port's (run by Node), and
# the type stubs' (they read py/*.pyi and web/, which the page does not copy).
SKIPPED_FILES = {"tests/unit/test_host.py", "tests/unit/test_wasm_kernel.py",
                 "tests/unit/test_bench_reference_js.py", "tests/unit/test_stubs.py"}
# The only reasons a test may skip inside Pyodide. Not among them: a missing WebAssembly
# kernel. The page boots as the app does, so where the app has the kernel, so do the tests.
EXPECTED_SKIPS = {"numpy is not installed", "CPython host only",
                  "the kernel runs under wasmtime here", "needs Node (npm's node) on PATH",
                  "the repository's source tree is not beside the unit tests"}
# The cortexkg modules the unit tests never import inside Pyodide: the numpy scans and
# the wasmtime kernel cannot be imported there, and the worker's session has no unit tests
# yet (the JavaScript API tests in test_api.py drive it). Any other module that no unit
# test even imports fails the test.
NOT_UNIT_TESTED_HERE = {"cortexkg.scans.numpy_scans", "cortexkg.scans.wasmtime_kernel",
                        "cortexkg.session", "cortexkg.session_groups", "cortexkg.session_state"}
SETTLED = "html[data-done='true'], [data-testid='error-banner']:not([hidden])"


@pytest.fixture(scope="module")
def server(build_site: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The site with the unit-test page, built apart from dist/ and served on its own port.

    It stands in for conftest's ``server`` in this module, so the ``page`` fixture checks
    every request against this origin. dist/ stays the app's site, without test code.
    """
    site = tmp_path_factory.mktemp("site-with-tests")
    build_site.build_site(dist=site, with_tests=True)
    with serve(site, tmp_path_factory.mktemp("serve") / "requests.log") as server:
        yield server


def describe(result: dict) -> str:
    """The run as a few readable lines: versions, counts, skip reasons, failures."""
    counts = ", ".join(f"{n} {outcome}" for outcome, n in result["counts"].items() if n)
    lines = [
        f"unit tests inside Pyodide: {counts} in {result['seconds']:.1f} s "
        f"(pytest exit code {result['exitCode']}, {result['selected']} tests selected)",
        f"  Python {result['python'].split()[0]} on {result['platform']}, "
        f"pytest {result['pytest']}, hypothesis {result['hypothesis']}, "
        f"numpy {result['numpy'] or 'absent'}",
    ]
    lines += [f"  skipped {n}: {reason}" for reason, n in result["skips"].items()]
    lines += [f"  {path}: {counts}" for path, counts in result["files"].items()]
    lines += [f"FAILED {f['nodeid']} ({f['when']})\n{f['text']}" for f in result["failures"]]
    return "\n".join(lines)


def test_unit_tests_pass_inside_pyodide(page: Page, server: Server) -> None:
    page.goto(server.url + "pytest/")
    page.wait_for_selector(SETTLED, timeout=RUN_TIMEOUT_MS)
    banner = page.get_by_test_id("error-banner")
    if banner.is_visible():
        output = page.get_by_test_id("pytest-output").inner_text()
        pytest.fail(f"the unit tests could not run: {banner.inner_text()}\n{output}")

    result = page.evaluate("window.pytestResult")
    print(describe(result))
    assert result["platform"] == "emscripten"
    assert result["failures"] == [], describe(result)
    assert result["exitCode"] == 0
    assert result["counts"]["failed"] == result["counts"]["error"] == 0
    assert result["counts"]["passed"] >= MIN_PASSED
    # Every test module ran tests here, and skipped only what needs numpy, CPython or wasmtime.
    passing_files = {path for path, counts in result["files"].items() if counts.get("passed")}
    assert passing_files == UNIT_TEST_FILES - SKIPPED_FILES
    assert set(result["skips"]) <= EXPECTED_SKIPS
    untested = set(result["modulesNotImported"]) - NOT_UNIT_TESTED_HERE
    assert not untested, f"no unit test imports {sorted(untested)}: test them in tests/unit"
    assert page.get_by_test_id("pytest-summary").inner_text().startswith(
        f"{result['counts']['passed']} passed")
