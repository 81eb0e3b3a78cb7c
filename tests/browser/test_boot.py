"""The page boots Pyodide in a module worker and imports cortexkg, isolated and offline."""

from __future__ import annotations

import json
import re

import pytest
from harness import PYODIDE_VERSION, ROOT, RUNTIME_PATH, App, Recorder, Server
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def site_manifest() -> dict:
    """dist/site.json, as the worker reads it."""
    return json.loads((ROOT / "dist" / "site.json").read_text())


@pytest.fixture
def app(module_app: App) -> App:
    """The app booted once for this module: the tests below only read what the boot left."""
    return module_app


def test_worker_boots_pyodide_and_imports_cortexkg(app: App) -> None:
    lock = json.loads((ROOT / "node_modules" / "pyodide" / "pyodide-lock.json").read_text())
    wheel_version = re.fullmatch(r"wheels/cortexkg-([^-]+)-.*\.whl", site_manifest()["cortexkg"])[1]
    assert app.status("status-pyodide") == PYODIDE_VERSION
    assert app.status("status-python").startswith(lock["info"]["python"] + " ")
    assert app.status("status-cortexkg") == wheel_version


def test_page_and_worker_are_cross_origin_isolated(app: App) -> None:
    assert app.page.evaluate("crossOriginIsolated") is True
    assert app.status("status-isolated").startswith("Yes")


def test_worker_clock_is_not_coarsened(app: App) -> None:
    # Without isolation Chromium coarsens performance.now() to 0.1 ms; isolated, to 5 us.
    resolution_ms = float(app.page.get_by_test_id("status-timer").get_attribute("value"))
    assert 0 < resolution_ms < 0.05


def test_recording_sees_the_workers_requests_and_all_stay_on_origin(
    app: App, module_recorder: Recorder, server: Server
) -> None:
    # The module_recorder fixture fails the module on any foreign request; this proves
    # the record is not blind to the worker, which makes every Pyodide and wheel request.
    site = site_manifest()
    for path in (RUNTIME_PATH + "pyodide.asm.wasm", *site["packages"], site["cortexkg"]):
        assert server.url + path in module_recorder.requests


def test_reload_reuses_the_runtime_and_revalidates_app_files(
    persistent_page: Page, server: Server
) -> None:
    app = App(persistent_page)
    app.load(lambda: persistent_page.goto(server.url))
    wasm = "/" + RUNTIME_PATH + "pyodide.asm.wasm"
    wasm_downloads = server.count("GET", wasm, 200)
    site_revalidations = server.count("GET", "/site.json", 304)

    app.load(app.page.reload)

    assert server.count("GET", wasm, 200) == wasm_downloads
    assert server.count("GET", "/site.json", 304) == site_revalidations + 1


# Every change of the boot bar's byte count, with whether the page was ready then.
RECORD_BYTES = """
window.bootBytes = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const bar = change.target;
    window.bootBytes.push({loaded: Number(bar.dataset.loaded), total: Number(bar.dataset.total),
                           value: bar.value, max: bar.max, step: Number(bar.dataset.step), text: document.getElementById('boot-status').textContent,
                           ready: document.documentElement.dataset.ready === 'true'});
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-loaded']});
"""


def test_boot_progress_moves_with_the_runtimes_bytes(page: Page, server: Server) -> None:
    sizes = site_manifest()["runtimeBytes"]
    # every file booting fetches, with its size on disk
    assert sizes == {path: (ROOT / "dist" / path).stat().st_size for path in sizes}
    assert {RUNTIME_PATH + "pyodide.asm.wasm", RUNTIME_PATH + "python_stdlib.zip"} <= sizes.keys()
    total = sum(sizes.values())

    page.add_init_script(RECORD_BYTES)
    App(page).load(lambda: page.goto(server.url))
    seen = page.evaluate("window.bootBytes")

    assert all(entry["total"] == total and not entry["ready"] for entry in seen), seen[:3]
    loaded = [entry["loaded"] for entry in seen]
    assert loaded == sorted(set(loaded))  # each a change, and none backwards
    # at most a hundredth at a time, as the chunks arrive (their size is the network
    # stack's: a few readings when it hands over megabytes at once, up to a hundred)
    assert len([n for n in loaded if 0 < n < total]) >= 3, loaded
    assert loaded[-1] == total
    # the bar moves through the step of loading Pyodide (the second of six) with the bytes
    # (a file may end after that step: the steps after it move the bar by one)
    downloading = [entry for entry in seen if entry["step"] == 1]
    assert len([entry for entry in downloading if 0 < entry["loaded"] < total]) >= 3
    assert [entry["value"] for entry in downloading] == pytest.approx(
        [1 + entry["loaded"] / total for entry in downloading])
    assert all(entry["max"] == 6 for entry in seen)
    midway = next(entry for entry in seen if 0 < entry["loaded"] < total)
    megabytes = f"{midway['loaded'] / 1e6:.1f} of {total / 1e6:.1f} MB of the runtime"
    assert midway["text"].startswith(f"Loading Pyodide {PYODIDE_VERSION}: {megabytes}… "), midway["text"]
