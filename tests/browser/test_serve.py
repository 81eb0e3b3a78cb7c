"""build/serve.py: isolation, CSP, MIME types, caching, and nothing but the site's files."""

from __future__ import annotations

import http.client
import urllib.parse

import pytest

from harness import RUNTIME_PATH, Server

pytestmark = pytest.mark.browser

WASM = f"/{RUNTIME_PATH}pyodide.asm.wasm"


def get(
    server: Server, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    """GET path exactly as written (no client-side normalisation); the body is read."""
    address = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize("path", ["/", "/worker.js", WASM, "/no-such-file"])
def test_every_response_isolates_the_origin(server: Server, path: str) -> None:
    response = get(server, path)
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"]


def test_csp_allows_webassembly_but_no_eval_or_inline_code(server: Server) -> None:
    policy = get(server, "/").headers["Content-Security-Policy"]
    directives = {
        name: sources
        for name, *sources in (directive.split() for directive in policy.split(";"))
    }
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["worker-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    for sources in directives.values():
        assert "'unsafe-eval'" not in sources
        assert "'unsafe-inline'" not in sources


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        (WASM, "application/wasm"),
        (f"/{RUNTIME_PATH}pyodide.mjs", "text/javascript; charset=utf-8"),
        ("/worker.js", "text/javascript; charset=utf-8"),
        ("/site.json", "application/json"),
        ("/", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ],
)
def test_files_have_their_mime_type(server: Server, path: str, content_type: str) -> None:
    response = get(server, path)
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/vendor/", "/vendor", "/wheels/", f"/{RUNTIME_PATH}"])
def test_folders_are_never_listed(server: Server, path: str) -> None:
    assert get(server, path).status == 404


@pytest.mark.parametrize(
    "path", ["/../package.json", "/%2e%2e/package.json", "/..%2fpyproject.toml", "/.gitignore"]
)
def test_nothing_outside_the_site_is_served(server: Server, path: str) -> None:
    assert get(server, path).status == 404


def test_runtime_is_cached_for_good(server: Server) -> None:
    assert get(server, WASM).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_app_files_are_revalidated_and_answer_304_when_unchanged(server: Server) -> None:
    first = get(server, "/main.js")
    assert first.headers["Cache-Control"] == "no-cache"
    assert first.headers["Last-Modified"]
    again = get(server, "/main.js", {"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    since = get(server, "/main.js", {"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status == 304
