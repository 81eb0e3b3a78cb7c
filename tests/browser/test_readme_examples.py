"""Every JavaScript (and TypeScript) example of README.md runs in Chromium against the built
site and prints what the README says.

Each example runs as a module of its own in web/api.html (a page of the site without the
dashboard, under the site's headers and CSP), in a fresh browser profile. Two things are
done to it, both stated here: its `console.log` prints into a list (strings as they are,
other values as JSON, typed arrays as arrays), which the test compares with the README's
"Prints:" block; and the package's names (`"cortexkg"`, `"cortexkg/engine"`) resolve to
the site's modules, as a bundler resolves them in an app. An example's `assetsURL`
folder serves the site's assets, as the integration guide tells an app to do.
"""

from __future__ import annotations

import re
import sys
from typing import Callable

import pytest
from harness import ROOT, Server
from playwright.sync_api import Page, Route

sys.path.insert(0, str(ROOT / "tests" / "unit"))
from readme import Example, examples  # noqa: E402

pytestmark = pytest.mark.browser

EXAMPLES = [e for e in examples() if e.language in ("js", "ts")]
PACKAGE_NAMES = {'from "cortexkg"': 'from "./cortexkg.js"',
                 'from "cortexkg/engine"': 'from "./engine.js"'}
PRELUDE = """\
const console = { log: (...values) => globalThis.readmePrints.push(values.map((value) =>
  typeof value === "string" ? value
    : typeof value === "object" && value !== null
      ? JSON.stringify(value, (key, v) => ArrayBuffer.isView(v) ? Array.from(v) : v)
      : String(value)).join(" ")) };
globalThis.readmePrints = [];
"""
ASSETS_URL = re.compile(r'assetsURL: "(/[^"]*/)"')


def module_of(example: Example) -> str:
    """The example as the module the page imports."""
    code = example.code
    for name, module in PACKAGE_NAMES.items():
        code = code.replace(name, module)
    return PRELUDE + code


def site_files(folder: str) -> Callable[[Route], None]:
    """A route handler that answers folder/<path> with the site's <path>."""
    return lambda route: route.continue_(url=route.request.url.replace(folder, "/", 1))


def run(page: Page, server: Server, example: Example) -> str:
    """Import the example in page; what it printed, one line per console.log."""
    url = f"{server.url}readme-{example.line}.js"
    page.context.route(url, lambda route: route.fulfill(
        body=module_of(example), headers={"Content-Type": "text/javascript"}))
    for folder in ASSETS_URL.findall(example.code):
        page.context.route(f"{server.url}{folder.lstrip('/')}**", site_files(folder))
    page.goto(server.url + "api.html")
    lines = page.evaluate(f"import('./readme-{example.line}.js').then(() => globalThis.readmePrints)")
    return "".join(line + "\n" for line in lines)


def test_there_are_javascript_examples_and_each_says_what_it_prints() -> None:
    assert len(EXAMPLES) >= 3
    assert all(e.prints for e in EXAMPLES), [e.name for e in EXAMPLES if not e.prints]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_javascript_example_prints_what_the_readme_says(
    page: Page, server: Server, example: Example
) -> None:
    page.set_default_timeout(120_000)
    printed = run(page, server, example)
    assert printed == example.prints
