"""What the browser tests drive: the build script, the server, Chromium and the app.

The fixtures in conftest.py assemble these; tests import the types from here (importing
from conftest.py is ambiguous once several test folders have one).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, WebError

ROOT = Path(__file__).resolve().parents[2]
PYODIDE_VERSION = json.loads((ROOT / "package.json").read_text())["devDependencies"]["pyodide"]
RUNTIME_PATH = f"vendor/pyodide-{PYODIDE_VERSION}/"  # where build_site.py puts the runtime

# Quiet, reproducible runs: no background traffic to Google, no GPU on headless machines.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Chromium's sandbox cannot start as root.
CHROMIUM_ARGS_AS_ROOT = ["--no-sandbox", *CHROMIUM_ARGS]

# Pyodide boots in a few seconds; a cold machine under load may need much longer.
BOOT_TIMEOUT_MS = 60_000


def load_build_script(name: str) -> ModuleType:
    """A script of build/ as a module: build/ holds scripts, not a package."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "build" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def chromium_executable() -> str | None:
    """$CORTEXKG_CHROMIUM, else Debian's chromium on PATH; None means Playwright's own."""
    return os.environ.get("CORTEXKG_CHROMIUM") or shutil.which("chromium")


def chromium_args() -> list[str]:
    """Launch arguments for this user."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return CHROMIUM_ARGS_AS_ROOT if as_root else CHROMIUM_ARGS


@dataclass(frozen=True)
class Server:
    """A running build/serve.py: its base URL, its request log and its process id."""

    url: str
    log: Path
    pid: int

    def count(self, method: str, path: str, status: int) -> int:
        """How many requests for path the server has answered with status."""
        return self.log.read_text().count(f'"{method} {path} HTTP/1.1" {status} ')


@contextmanager
def serve(root: Path, log: Path, *options: str) -> Iterator[Server]:
    """build/serve.py serving root on a free port of 127.0.0.1 while the block runs, with
    options added to its command line; its request log goes to log."""
    command = [sys.executable, str(ROOT / "build" / "serve.py"), "--port", "0", "--root", str(root)]
    with log.open("w") as log_stream:
        process = subprocess.Popen(
            [*command, *options],
            stdout=subprocess.PIPE, stderr=log_stream, text=True,
        )
    try:
        first_line = process.stdout.readline()
        match = re.search(r" at (http://127\.0\.0\.1:\d+/)$", first_line.rstrip())
        if match is None:
            pytest.fail(f"serve.py did not start: {first_line!r}\n{log.read_text()}")
        yield Server(match[1], log, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@dataclass
class Recorder:
    """Everything a browser context requested or reported as an error."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        """Record context, so the dedicated worker's requests and console are included."""
        context.on("request", self.on_request)
        context.on("console", self.on_console)
        context.on("weberror", self.on_web_error)

    def detach(self, context: BrowserContext) -> None:
        """Stop recording context (a profile that outlives the test)."""
        context.remove_listener("request", self.on_request)
        context.remove_listener("console", self.on_console)
        context.remove_listener("weberror", self.on_web_error)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        """Keep console errors, saying whether the page or the worker wrote them."""
        if message.type == "error":
            source = "worker" if message.worker else "page"
            where = f"{source}, {message.location['url']}"
            self.errors.append(f"console error ({where}): {message.text}")

    def on_web_error(self, web_error: WebError) -> None:
        """Keep uncaught exceptions, the worker's included."""
        self.errors.append(f"page error: {web_error.error}")

    def problems(self) -> list[str]:
        """Requests that left the origin, and every error, as readable lines."""
        foreign = [f"request left the origin: {url}" for url in self.requests
                   if not url.startswith(self.origin)]
        return foreign + self.errors


def empty_storage(profile: BrowserContext, server: Server) -> None:
    """Delete everything the site stored in profile (IndexedDB, local storage, caches) and
    lift any quota override; the HTTP cache stays."""
    cdp = profile.new_cdp_session(profile.pages[0])
    origin = server.url.rstrip("/")
    cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})
    cdp.detach()


class App:
    """The app in a page, driven the way a person opens it."""

    # Ready, or failed with a message on the page. A selector, not wait_for_function:
    # the page's CSP forbids the eval that a string predicate needs.
    SETTLED = "html[data-ready='true'], [data-testid='error-banner']:not([hidden])"

    def __init__(self, page: Page):
        self.page = page

    def load(self, navigate: Callable[[], object]) -> None:
        """Navigate (goto, reload) and wait until Python has booted in the worker."""
        navigate()
        self.page.wait_for_selector(self.SETTLED, timeout=BOOT_TIMEOUT_MS)
        banner = self.page.get_by_test_id("error-banner")
        if banner.is_visible():
            pytest.fail(f"the app failed to boot: {banner.inner_text()}")

    def status(self, test_id: str) -> str:
        """The text of a status field, e.g. "status-python" (folded into "About", so its
        text content rather than its rendered text)."""
        return self.page.get_by_test_id(test_id).text_content()


# Every stored value of a database, as it is, for byte-for-byte comparison.
RAW_JS = """async (name) => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const out = {version: db.version};
    for (const store of db.objectStoreNames) {
        out[store] = await new Promise((ok) => {
            const r = db.transaction(store).objectStore(store).getAll();
            r.onsuccess = () => ok(r.result);
        });
        // after the transaction: a Blob (snapshot bytes) is compared by its contents
        out[store] = await Promise.all(out[store].map(async (v) => JSON.stringify(
            v?.bytes instanceof Blob ? {...v, bytes: new Uint8Array(await v.bytes.arrayBuffer())} : v,
            (k, x) => ArrayBuffer.isView(x) ? Array.from(x) : x)));
    }
    db.close();
    return out;
}"""


def accept_next_dialog(page: Page) -> list[str]:
    """Accept the page's next dialog (a confirm); the list receives its message."""
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    return messages


@contextmanager
def dismiss_next_dialog(page: Page) -> Iterator[list[str]]:
    """Dismiss the dialog (a confirm) the block's actions open, and return only once the
    page has gone on past it: the block waits for the dialog, then a task queued after the
    one the dialog blocked runs. So a test can check that a cancelled action changed
    nothing without sleeping first. The list receives the dialog's message."""
    messages: list[str] = []

    def dismiss(dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    with page.expect_event("dialog"):
        yield messages
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")
