"""Offline use: the service worker (web/sw.js) caches this build, and a second visit
boots and allocates with the network off.

The other browser tests block service workers (conftest.py); these open contexts that
allow them, as a person's browser does.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest
from harness import ROOT, App, Recorder, Server
from playwright.sync_api import Browser, BrowserContext

pytestmark = pytest.mark.browser

# Resolves once the page's service worker has installed (its cache holds every file:
# install succeeds only when cache.addAll did) and activated (old caches deleted); then
# the names and URLs of every cache of the origin. An explicit signal, not a wait.
CACHED_JS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active;
    if (worker.state !== "activated") {
        await new Promise((done) => worker.addEventListener("statechange",
            () => { if (worker.state === "activated") done(); }));
    }
    const out = {};
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        out[name] = (await cache.keys()).map((request) => request.url).sort();
    }
    return out;
}"""


def precache() -> dict:
    """The first line of dist/sw.js: {version, files}, as build_site.py wrote it."""
    first = (ROOT / "dist" / "sw.js").read_text().splitlines()[0]
    prefix, suffix = "const PRECACHE = ", ";"
    assert first.startswith(prefix) and first.endswith(suffix), first
    return json.loads(first[len(prefix):-len(suffix)])


@pytest.fixture
def sw_context(browser: Browser, recorder: Recorder) -> Iterator[BrowserContext]:
    """A fresh profile that lets the page register its service worker."""
    context = browser.new_context(service_workers="allow")
    recorder.attach(context)
    yield context
    context.close()
    # the failures these tests provoke: a fetch of an uncached file, offline, and the
    # favicon Chromium asks for beside a page that is a JSON file
    problems = [problem for problem in recorder.problems()
                if "/cortexkg.d.ts" not in problem and "/favicon.ico" not in problem]
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems))


def test_the_worker_caches_the_app_and_runtime_but_no_tool_files(site) -> None:
    manifest = precache()
    site_json = json.loads((site / "site.json").read_text())
    files = set(manifest["files"])
    assert {"index.html", "main.js", "worker.js", "boot.js", "site.json",
            site_json["cortexkg"], site_json["kernel"],
            site_json["indexURL"] + "pyodide.asm.wasm",
            site_json["indexURL"] + "python_stdlib.zip"} <= files
    assert all((site / path).is_file() for path in files)
    assert not [path for path in files if path.endswith((".map", ".d.ts")) or path == "sw.js"]
    assert manifest["version"].startswith("cortexkg-")


def test_second_visit_boots_and_allocates_offline(sw_context: BrowserContext, server: Server) -> None:
    page = sw_context.new_page()
    # an old build's cache of this scope, and another app's under another path, made
    # from a page of the origin that is not the app
    page.goto(server.url + "site.json")
    page.evaluate("""async () => { await caches.open("cortexkg-0ld@/");
                                   await caches.open("cortexkg-0ld@/other-app/"); }""")
    app = App(page)
    app.load(lambda: page.goto(server.url + "?columns=64"))

    cached = page.evaluate(CACHED_JS)
    manifest = precache()
    assert cached == {
        f"{manifest['version']}@/": sorted(server.url + path for path in manifest["files"]),
        "cortexkg-0ld@/other-app/": [],
    }

    sw_context.set_offline(True)
    app.load(page.reload)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("window.cortexkg.config.columns") == 64
    column = page.evaluate("window.cortexkg.allocateConcept(7)")
    assert 0 <= column < 64
    assert page.evaluate("window.cortexkg.getAllocationInfo(7)") == column
    # the network really is off: a file the worker does not cache cannot be fetched
    assert page.evaluate(
        "fetch('cortexkg.d.ts').then(() => 'fetched', (error) => error.name)") == "TypeError"
