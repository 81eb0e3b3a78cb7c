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
    app: App, recorder: Recorder, server: Server
) -> None:
    # The page fixture fails the test on any foreign request; this proves the record is
    # not blind to the worker, which makes every Pyodide and wheel request.
    site = site_manifest()
    for path in (RUNTIME_PATH + "pyodide.asm.wasm", *site["packages"], site["cortexkg"]):
        assert server.url + path in recorder.requests


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
