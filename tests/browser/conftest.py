"""Fixtures for the browser tests.

The site is built once per session (build/build_site.py) and served by build/serve.py on
a free port; headless Chromium comes from $CORTEXKG_CHROMIUM, else Debian's `chromium` on
PATH, else Playwright's own install. Every test's page starts on empty storage and
records all requests, console errors and page errors, the worker's included: the test
fails when a request left the page's origin or anything reported an error.

The ``context`` and ``page`` fixtures share one on-disk profile per session
(``warm_profile``) whose storage is emptied before and after each test: its HTTP cache
keeps Chromium's compiled Pyodide runtime from test to test, where a fresh context
compiles it again at every boot (about 40% of a boot's CPU). Tests that need an empty
HTTP cache too, or a second profile, open ``browser.new_context()``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest
from harness import (
    BOOT_TIMEOUT_MS,
    ROOT,
    App,
    Recorder,
    Server,
    chromium_args,
    chromium_executable,
    empty_storage,
    load_build_script,
    serve,
)
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from crashes import CrashBrowser


# Test files that take a worker longest (npm test's durations on the 2-core machine),
# heaviest first: npm test hands out whole files (--dist loadfile) in collection order,
# and a long file handed out last would run alone at the end while the other worker
# idles. Files not listed follow in their usual order; the list only orders, so a stale
# one costs time, never a test.
HEAVIEST_FIRST = [
    "test_durability.py", "test_dashboard_storage.py", "test_dashboard.py",
    "test_persistence.py", "test_call_path.py", "test_relaxed_durability.py",
    "test_dashboard_instrument.py", "test_api.py", "test_bench_in_chromium.py",
    "test_unit_in_pyodide.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the browser test files heaviest first (see HEAVIEST_FIRST), after any unit
    tests of the same run."""
    browser = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        if item.path.parent != browser:
            return -1
        name = item.path.name
        return HEAVIEST_FIRST.index(name) if name in HEAVIEST_FIRST else len(HEAVIEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def build_site(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """build/build_site.py, imported, once dist/ is built from the repository's real inputs.

    Under pytest-xdist (npm test runs two workers) every worker is a session: the first
    to take the lock builds (and so brings the wheel and kernel caches in .cache/ up to
    date), the others find its stamp in the run's shared temporary folder. So no worker
    rewrites a file another one serves or reads, and a test's own build (another dist,
    --with-tests) only reads the caches.
    """
    module = load_build_script("build_site")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    with open(shared / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = shared / "dist.built"
        if not stamp.exists():
            module.build_site()
            stamp.touch()
    return module


@pytest.fixture(scope="session")
def site(build_site: ModuleType) -> Path:
    """dist/, built once per run (see ``build_site``)."""
    return ROOT / "dist"


@pytest.fixture(scope="session")
def server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """build/serve.py serving dist/ on a free port of 127.0.0.1."""
    with serve(site, tmp_path_factory.mktemp("serve") / "requests.log") as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, for the whole session."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium, shared by the session; each test gets its own context."""
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), args=chromium_args()
    )
    yield browser
    browser.close()


@pytest.fixture
def recorder(server: Server) -> Recorder:
    """The request and error record of this test's browser context."""
    return Recorder(origin=server.url)


def checked_page(context: BrowserContext, recorder: Recorder) -> Iterator[Page]:
    """A page of context, closed afterwards; fails the test on any problem recorder saw."""
    recorder.attach(context)
    yield context.pages[0] if context.pages else context.new_page()
    context.close()
    problems = recorder.problems()
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems))


@pytest.fixture(scope="session")
def warm_profile(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[BrowserContext]:
    """A browser with an on-disk profile, shared by the session's ``context`` fixtures.

    Its first page stays open, blank, for the DevTools calls that empty the storage.
    """
    yield from launch_profile(playwright, tmp_path_factory)


def launch_profile(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[BrowserContext]:
    """Chromium on a new on-disk profile, closed afterwards."""
    context = playwright.chromium.launch_persistent_context(
        tmp_path_factory.mktemp("profile"), executable_path=chromium_executable(),
        args=chromium_args(), service_workers="block",
    )
    yield context
    context.close()


@pytest.fixture
def context(warm_profile: BrowserContext, recorder: Recorder, server: Server
            ) -> Iterator[BrowserContext]:
    """The browser profile of this test, with empty storage (see ``warm_profile``); it
    fails the test on browser errors, except those the test provokes on purpose and lists
    in ``context.expected_errors``. Its pages close when the test ends."""
    profile = warm_profile
    blank = profile.pages[0]
    empty_storage(profile, server)
    profile.expected_errors = []
    recorder.attach(profile)
    yield profile
    for open_page in profile.pages:
        if open_page is not blank:
            open_page.close()
    recorder.detach(profile)
    profile.unroute_all(behavior="wait")
    profile.clear_permissions()
    empty_storage(profile, server)
    problems = [p for p in recorder.problems()
                if not any(expected in p for expected in profile.expected_errors)]
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems))


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page of this test's profile: empty storage, a warm HTTP cache."""
    return context.new_page()


@pytest.fixture(scope="session")
def module_profile(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[BrowserContext]:
    """A second on-disk profile, for pages a module's tests share (``api_page``): the
    ``context`` fixture empties its own profile's storage at every test, which would
    pull the stored engines from under a page that outlives the test."""
    yield from launch_profile(playwright, tmp_path_factory)


@pytest.fixture(scope="module")
def module_recorder(module_profile: BrowserContext, server: Server) -> Iterator[Recorder]:
    """The record of ``module_profile`` while one module's tests run, on empty storage
    before and after; it fails the module's last test on browser errors."""
    recorder = Recorder(origin=server.url)
    empty_storage(module_profile, server)
    recorder.attach(module_profile)
    yield recorder
    recorder.detach(module_profile)
    empty_storage(module_profile, server)
    problems = recorder.problems()
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems))


@pytest.fixture(scope="module")
def api_page(module_profile: BrowserContext, module_recorder: Recorder, server: Server
             ) -> Iterator[Page]:
    """web/api.html (the API without the dashboard), shared by one module's tests, on
    empty storage and a warm HTTP cache (see ``warm_profile``); ``module_recorder``
    fails the module's last test on browser errors."""
    page = module_profile.new_page()
    page.set_default_timeout(4 * BOOT_TIMEOUT_MS)  # a ceiling: 1M-column engines included
    page.goto(server.url + "api.html")
    yield page
    page.close()


@pytest.fixture(scope="module")
def module_app(module_profile: BrowserContext, module_recorder: Recorder, server: Server
               ) -> Iterator[App]:
    """The app, opened and booted once for one module's tests, which must leave it as
    they found it (``module_recorder`` records it)."""
    page = module_profile.new_page()
    app = App(page)
    app.load(lambda: page.goto(server.url))
    yield app
    page.close()


@pytest.fixture(scope="session")
def crash_browser(server: Server, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[CrashBrowser]:
    """The browser of the durability tests' crashes, and the warm profile their killed
    browsers copy (see ``crashes.CrashBrowser``)."""
    browser = CrashBrowser(tmp_path_factory.mktemp("crash-browser"), server)
    yield browser
    browser.close()


@pytest.fixture
def persistent_page(playwright: Playwright, recorder: Recorder, tmp_path: Path) -> Iterator[Page]:
    """A page of a browser with an on-disk profile, as a person's browser has.

    Its HTTP cache is on disk: a fresh context's in-memory cache skips files as large as
    pyodide.asm.wasm, so only this page shows what a reload really fetches.
    """
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_executable(), args=chromium_args(),
        service_workers="block",
    )
    yield from checked_page(context, recorder)


@pytest.fixture
def app(page: Page, server: Server) -> App:
    """The app, opened and booted."""
    app = App(page)
    app.load(lambda: page.goto(server.url))
    return app
