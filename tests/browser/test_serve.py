"""build/serve.py: isolation, CSP, MIME types, caching, nothing but the site's files, only
to its own Host names, and bounded connections."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import select
import signal
import socket
import time
import urllib.parse
from pathlib import Path
from typing import Iterator

import pytest

from harness import RUNTIME_PATH, Server, serve

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


# The tests below speak raw HTTP over sockets: their requests are malformed or hostile on
# purpose, and they see every byte the server sends back.

IDLE_TIMEOUT = 0.5  # seconds, for impatient_server
MAX_CONNECTIONS = 8  # for impatient_server


@pytest.fixture(scope="module")
def impatient_server(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """serve.py closing idle connections after IDLE_TIMEOUT, at most MAX_CONNECTIONS at once."""
    log = tmp_path_factory.mktemp("serve") / "requests.log"
    options = ["--idle-timeout", str(IDLE_TIMEOUT), "--max-connections", str(MAX_CONNECTIONS)]
    with serve(site, log, *options) as server:
        yield server


def address(server: Server) -> tuple[str, int]:
    """Where server listens."""
    url = urllib.parse.urlsplit(server.url)
    return url.hostname, url.port


def host_line(server: Server) -> str:
    """The Host header a browser sends to server."""
    return "Host: 127.0.0.1:%d" % address(server)[1]


def request(*header_lines: str, body: bytes = b"", path: str = "/") -> bytes:
    """A GET of path with header_lines and body, as raw bytes."""
    head = "".join(f"{line}\r\n" for line in [f"GET {path} HTTP/1.1", *header_lines])
    return f"{head}\r\n".encode("latin-1") + body


def thread_count(server: Server) -> int:
    """How many threads the server's process has."""
    return len(os.listdir(f"/proc/{server.pid}/task"))


def read_until_closed(client: socket.socket) -> bytes:
    """Everything the server sends on client until it closes the connection."""
    client.settimeout(10)  # a ceiling: the server answers and closes in milliseconds
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(server: Server, raw: bytes) -> list[tuple[int | None, bytes]]:
    """Send raw on one connection; the (status, body) of each response until the server
    closes the connection."""
    with socket.create_connection(address(server), timeout=10) as client:
        client.sendall(raw)
        return responses(read_until_closed(client))


def responses(reply: bytes) -> list[tuple[int | None, bytes]]:
    """The (status, body) of each response in reply, whole GET responses back to back;
    status None for a body without a status line, as http.server answers a request line
    it cannot parse."""
    found = []
    while reply:
        if not reply.startswith(b"HTTP/"):
            return [*found, (None, reply)]
        head, _, rest = reply.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines)
        length = int(headers.get("content-length", 0))
        found.append((int(status_line.split()[1]), rest[:length]))
        reply = rest[length:]
    return found


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"]
)
def test_the_loopback_names_with_the_port_are_served(
    server: Server, site: Path, host: str
) -> None:
    host = host.format(port=address(server)[1])
    replies = exchange(server, request(f"Host: {host}", "Connection: close"))
    assert replies == [(200, (site / "index.html").read_bytes())]


@pytest.mark.parametrize(
    "host_lines",
    [
        [],
        ["Host: evil.example:{port}"],
        ["Host: 127.0.0.1:{other_port}"],
        ["Host: localhost"],
        ["Host: 127.0.0.1:{port}.evil.example"],
        ["Host: 127.0.0.1:{port}", "Host: evil.example:{port}"],
    ],
    ids=["missing", "other-name", "other-port", "no-port", "suffix", "two-hosts"],
)
def test_other_host_names_are_misdirected(
    server: Server, site: Path, host_lines: list[str]
) -> None:
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 must not
    read the site, since its requests carry Host: evil.example."""
    port = address(server)[1]
    lines = [line.format(port=port, other_port=port + 1) for line in host_lines]
    replies = exchange(server, request(*lines, "Connection: close"))
    [(status, body)] = replies
    assert status == 421
    assert (site / "index.html").read_bytes() not in body


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_get_with_a_body_is_refused_and_its_body_never_answered(
    server: Server, framing: str
) -> None:
    """A proxy that forwards the body would otherwise have the server answer it as a
    request of its own (request smuggling)."""
    smuggled = request(host_line(server), "Connection: close", path="/index.html")
    if framing == "content-length":
        header, body = f"Content-Length: {len(smuggled)}", smuggled
    else:
        header, body = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (
            len(smuggled), smuggled
        )
    replies = exchange(server, request(host_line(server), header, body=body))
    assert [status for status, _ in replies] == [400]


def test_a_burst_of_connections_waits_in_the_listen_backlog(server: Server) -> None:
    """Connections the server has not accepted yet wait in the kernel's listen backlog;
    a full one drops the client's SYN, which the client retries only after 1 s, 3 s..."""
    raw = request(host_line(server), "Connection: close")
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(socket.socket()) for _ in range(100)]
        os.kill(server.pid, signal.SIGSTOP)  # accepting nothing, as a server busy for a while
        try:
            for client in clients:
                client.setblocking(False)
                client.connect_ex(address(server))
            pending = set(clients)
            deadline = time.monotonic() + 10  # a ceiling: the kernel connects them at once
            while pending and time.monotonic() < deadline:
                _, connected, _ = select.select([], list(pending), [], 0.1)
                pending.difference_update(connected)
            assert len(pending) == 0, f"{len(pending)} of {len(clients)} connects were dropped"
            for client in clients:
                assert client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                client.setblocking(True)
                client.sendall(raw)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        replies = [responses(read_until_closed(client)) for client in clients]
    assert [[status for status, _ in reply] for reply in replies] == [[200]] * len(clients)


@pytest.mark.parametrize(
    ("sent", "statuses"),
    [("", []), ("GET / HTTP/1.1\r\n", []), ("GET / HTTP/1.1\r\n{host_line}\r\n\r\n", [200])],
    ids=["nothing", "half-a-request", "after-a-response"],
)
def test_an_idle_connection_is_closed(
    impatient_server: Server, sent: str, statuses: list[int]
) -> None:
    with socket.create_connection(address(impatient_server), timeout=10) as client:
        client.sendall(sent.format(host_line=host_line(impatient_server)).encode())
        replies = responses(read_until_closed(client))
    assert [status for status, _ in replies] == statuses


def test_idle_connections_hold_a_bounded_number_of_threads(impatient_server: Server) -> None:
    """Each connection waiting for a thread waits in the listen backlog, costing none."""
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(socket.create_connection(address(impatient_server), timeout=10))
            for _ in range(5 * MAX_CONNECTIONS)
        ]
        open_clients = set(clients)
        most_threads = 0
        # A ceiling: the server closes MAX_CONNECTIONS of them every IDLE_TIMEOUT.
        deadline = time.monotonic() + 30
        while open_clients and time.monotonic() < deadline:
            most_threads = max(most_threads, thread_count(impatient_server))
            closed, _, _ = select.select(list(open_clients), [], [], 0.1)
            for client in closed:
                assert client.recv(1) == b""  # closed without an answer
            open_clients.difference_update(closed)
    assert most_threads <= MAX_CONNECTIONS + 1  # the handlers and the accepting thread
    assert not open_clients, f"{len(open_clients)} of {len(clients)} were never closed"


def fetch(server: Server, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    """GET path: the response and its body as sent."""
    address = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


@pytest.mark.parametrize("path", ["/cortexkg.js", "/site.json", WASM])
def test_text_and_webassembly_are_gzipped_for_a_client_that_accepts_it(
    server: Server, site: Path, path: str
) -> None:
    original = (site / path.lstrip("/")).read_bytes()
    zipped, body = fetch(server, path, {"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert int(zipped.headers["Content-Length"]) == len(body) < len(original)
    assert gzip.decompress(body) == original
    plain, body = fetch(server, path, {"Accept-Encoding": "gzip;q=0, identity"})
    assert plain.headers["Content-Encoding"] is None and body == original
    assert plain.headers["Vary"] == "Accept-Encoding"
    # two representations, two tags: each revalidates as itself
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again, body = fetch(server, path, {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status == 304 and body == b""
    changed, _ = fetch(server, path, {"If-None-Match": zipped.headers["ETag"]})
    assert changed.status == 200 and changed.headers["Content-Encoding"] is None


def test_archives_are_sent_as_they_are(server: Server, site: Path) -> None:
    wheel = next((site / "wheels").glob("cortexkg-*.whl"))
    response, body = fetch(server, f"/wheels/{wheel.name}", {"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] is None and "Vary" not in response.headers
    assert body == wheel.read_bytes()


def test_the_log_names_the_body_bytes_each_response_sent(server: Server) -> None:
    # build/bench_offline.py adds these up: what a visit transferred
    path = "/cortexkg.js?log-bytes"
    zipped, body = fetch(server, path, {"Accept-Encoding": "gzip"})
    fetch(server, path, {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    connection = http.client.HTTPConnection(server.url.removeprefix("http://").rstrip("/"))
    connection.request("HEAD", path)
    connection.getresponse().read()
    connection.close()
    fetch(server, "/missing.js?log-bytes", {})
    log = server.log.read_text()
    assert f'"GET {path} HTTP/1.1" 200 {len(body)}\n' in log
    assert f'"GET {path} HTTP/1.1" 304 0\n' in log
    assert f'"HEAD {path} HTTP/1.1" 200 0\n' in log
    assert '"GET /missing.js?log-bytes HTTP/1.1" 404 -\n' in log
