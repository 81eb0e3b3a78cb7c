#!/usr/bin/env python3
"""Serve the built site (dist/) on 127.0.0.1 with the headers the app needs (stdlib only).

- Cross-origin isolation (COOP same-origin + COEP require-corp), so the page and its
  worker get performance.now() at about 5 us instead of 100 us.
- A Content-Security-Policy without 'unsafe-eval' or 'unsafe-inline': Pyodide needs only
  'wasm-unsafe-eval' to compile WebAssembly.
- Explicit MIME types (application/wasm lets the runtime compile while it downloads).
- Caching: everything under vendor/ has a version in its path, so browsers may keep it
  for a year without asking; everything else is revalidated with ETag/Last-Modified.
- Compression: a client that accepts gzip gets text, JavaScript, JSON and WebAssembly
  gzipped (`Content-Encoding: gzip`, `Vary: Accept-Encoding`; zip files, wheels and
  images are compressed already). Each file is compressed once, on its first request,
  and kept in memory (Pyodide's 9.6 MB wasm becomes about 3 MB).
- Files only: a folder URL serves its index.html or 404, never a listing.
- Its own names only: the Host header must be 127.0.0.1:<port>, localhost:<port> or
  [::1]:<port> (the port may be left out only when it is 80), else 421 Misdirected Request.
  So a page whose site name an attacker rebinds to 127.0.0.1 (DNS rebinding) cannot read
  this one. With --host set to another address, "<that address>:<port>" is accepted too,
  and nothing else: --host 0.0.0.0 accepts 0.0.0.0:<port> but not the machine's LAN
  address; to serve other machines, pass the address they use (--host 192.168.1.5).
- No request bodies: a request with Transfer-Encoding or a Content-Length other than 0 is
  answered 400 and its connection closed, so a body is never read as a request of its own
  (request smuggling behind a proxy that forwards it).
- Bounded connections: a fixed pool of --max-connections threads serves the connections,
  and closes one that waits --idle-timeout seconds for a request or for the client; while
  every thread is busy, new connections wait in a listen backlog of 128.

Usage: serve.py [--host 127.0.0.1] [--port $PORT or 8000] [--root dist] [--idle-timeout 10]
[--max-connections 64]; port 0 picks a free port. The first line on stdout is "Serving
<root> at <url>"; requests are logged on stderr,
each with its status and the body bytes sent.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import os
import posixpath
import queue
import shutil
import sys
import threading
import urllib.parse
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

# Explicit rather than the mimetypes module, whose answers depend on the machine.
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml",
}

# What gains from gzip: everything above but zip archives and images.
COMPRESSIBLE = frozenset(MIME_TYPES) - {".zip", ".whl", ".png"}

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
IDLE_TIMEOUT = 10.0  # seconds
MAX_CONNECTIONS = 64  # a browser opens at most 6 per origin


def own_hosts(host: str, port: int) -> frozenset[str]:
    """The Host header values (lower case) naming a server listening on host and port."""
    names = {*LOOPBACK_NAMES, host.lower()}
    with_port = {f"{name}:{port}" for name in names}
    # HTTP leaves the port out of Host when it is the default one.
    return frozenset(with_port | names) if port == 80 else frozenset(with_port)


class SiteServer(HTTPServer):
    """An HTTPServer whose connections are served by a fixed pool of threads.

    The loop accepting connections waits while every thread is busy, so a flood of
    connections waits in the listen backlog instead of costing a thread each.
    """

    # A full backlog makes the kernel drop a client's SYN, which the client retries only
    # after 1 s, then 3 s: a page's burst of connections must fit.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler, max_connections: int) -> None:
        super().__init__(address, handler)
        self.hosts = own_hosts(address[0], self.server_address[1])
        # Holds one connection: process_request blocks until a thread has taken the last.
        self.connections: queue.Queue = queue.Queue(maxsize=1)
        for _ in range(max_connections):
            threading.Thread(target=self.serve_connections, daemon=True).start()

    def process_request(self, request, client_address) -> None:
        self.connections.put((request, client_address))

    def serve_connections(self) -> None:
        """One thread of the pool: serve connections one after another, forever."""
        while True:
            request, client_address = self.connections.get()
            # What ThreadingMixIn.process_request_thread does, on a thread that lives on.
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)


class GzipCache:
    """Gzipped bodies by (path, size, mtime), made once each; thread-safe."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, int, int], bytes] = {}
        self._lock = threading.Lock()

    def body(self, relative: str, stat: os.stat_result, stream) -> bytes:
        key = (relative, stat.st_size, stat.st_mtime_ns)
        with self._lock:  # one compression per file, even when requests race
            body = self._bodies.get(key)
            if body is None:
                body = gzip.compress(stream.read(), compresslevel=6, mtime=0)
                self._bodies = {k: v for k, v in self._bodies.items() if k[0] != relative}
                self._bodies[key] = body
            return body


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip (named or "*", with q above 0)."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return params.strip() == "" or float(quality) > 0
            except ValueError:
                return False
    return False


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the files under root, with conditional requests (304)."""

    protocol_version = "HTTP/1.1"  # keep-alive: the page loads a dozen files at once
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK of the first, about 40 ms per response on a kept-alive
    # connection.
    disable_nagle_algorithm = True

    def __init__(self, *args, root: Path, idle_timeout: float, gzip_cache: GzipCache, **kwargs):
        self.root = root
        self.gzip_cache = gzip_cache
        # StreamRequestHandler sets it on the socket; a read or write waiting longer raises
        # TimeoutError, on which handle_one_request closes the connection.
        self.timeout = idle_timeout
        super().__init__(*args, **kwargs)

    def version_string(self) -> str:
        return "cortexkg-serve"

    # The body bytes of the response being sent ("-": an error page), logged after the
    # status: build/bench_offline.py adds them up to know what a visit transferred.
    body_bytes: int | str = "-"

    def log_request(self, code="-", size="-") -> None:
        super().log_request(code, self.body_bytes if size == "-" else size)
        self.body_bytes = "-"

    def do_GET(self) -> None:
        self.serve(send_body=True)

    def do_HEAD(self) -> None:
        self.serve(send_body=False)

    def parse_request(self) -> bool:
        """Parse as http.server does, then refuse requests to another name or with a body.

        A refusal closes the connection: send_error says "Connection: close".
        """
        if not super().parse_request():
            return False
        hosts = self.headers.get_all("Host", [])
        if len(hosts) != 1 or hosts[0].lower() not in self.server.hosts:
            expected = ", ".join(sorted(self.server.hosts))
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, explain=(
                f"Host {' and '.join(hosts) or 'missing'}: expected exactly one of {expected}"))
            return False
        body_headers = [
            f"{name}: {value}" for name, value in self.headers.items()
            if name.lower() == "transfer-encoding"
            or (name.lower() == "content-length" and value.strip() != "0")
        ]
        if body_headers:
            self.send_error(HTTPStatus.BAD_REQUEST, explain=(
                f"{'; '.join(body_headers)}: expected no request body"))
            return False
        return True

    def end_headers(self) -> None:
        # Every response, errors and 304s included, carries the same security headers.
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def serve(self, send_body: bool) -> None:
        relative = self.resolve()
        if relative is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        # Open first, then stat the open file: a rebuild replacing it meanwhile cannot
        # make the headers describe a different file than the body.
        with (self.root / relative).open("rb") as stream:
            stat = os.fstat(stream.fileno())
            suffix = Path(relative).suffix
            compressible = suffix in COMPRESSIBLE
            gzipped = compressible and accepts_gzip(self.headers.get("Accept-Encoding"))
            # each encoding is its own representation, with its own tag
            etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}{"-gzip" if gzipped else ""}"'
            cache_control = IMMUTABLE if relative.startswith("vendor/") else REVALIDATE
            negotiated = {"Vary": "Accept-Encoding"} if compressible else {}

            if self.not_modified(etag, stat.st_mtime):
                self.body_bytes = 0
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.send_header("Cache-Control", cache_control)
                for name, value in negotiated.items():
                    self.send_header(name, value)
                self.end_headers()
                return

            body = self.gzip_cache.body(relative, stat, stream) if gzipped else None
            length = stat.st_size if body is None else len(body)
            self.body_bytes = length if send_body else 0
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", MIME_TYPES.get(suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(length))
            if body is not None:
                self.send_header("Content-Encoding", "gzip")
            for name, value in negotiated.items():
                self.send_header(name, value)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            self.send_header("Cache-Control", cache_control)
            self.end_headers()
            if send_body:
                if body is None:
                    shutil.copyfileobj(stream, self.wfile)
                else:
                    self.wfile.write(body)

    def resolve(self) -> str | None:
        """The requested file as a path relative to root, or None when it is not a file.

        A URL ending in "/" means that folder's index.html. Hidden names (.git, .env) and
        anything resolving outside root ("..", symlinks) are refused.
        """
        url_path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if url_path.endswith("/"):
            url_path += "index.html"
        segments = [segment for segment in posixpath.normpath(url_path).split("/") if segment]
        if not segments or any(segment.startswith(".") or "\\" in segment for segment in segments):
            return None
        path = self.root.joinpath(*segments)
        if not path.is_file() or not path.resolve().is_relative_to(self.root.resolve()):
            return None
        return "/".join(segments)

    def not_modified(self, etag: str, mtime: float) -> bool:
        """Whether the client's copy is current; If-None-Match wins over If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in (tag.strip() for tag in if_none_match.split(",")) or if_none_match == "*"
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since


def main(argv: list[str] | None = None) -> int:
    """Command line: serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")),
                        help="port (default $PORT or 8000; 0 picks a free one)")
    parser.add_argument("--root", type=Path, default=ROOT / "dist",
                        help="folder to serve (default dist/)")
    parser.add_argument("--idle-timeout", type=float, default=IDLE_TIMEOUT, metavar="SECONDS",
                        help=f"close a connection idle this long (default {IDLE_TIMEOUT:g})")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
                        help=f"connections served at once (default {MAX_CONNECTIONS})")
    args = parser.parse_args(argv)
    if not args.idle_timeout > 0:  # NaN included
        parser.error(f"--idle-timeout {args.idle_timeout:g}: expected a number of seconds > 0")
    if args.max_connections < 1:
        parser.error(f"--max-connections {args.max_connections}: expected at least 1")

    root = args.root.resolve()
    if not (root / "index.html").is_file():
        print(f"serve: {root}/index.html is missing: run `npm run build` first", file=sys.stderr)
        return 1
    handler = partial(SiteHandler, root=root, idle_timeout=args.idle_timeout,
                      gzip_cache=GzipCache())
    server = SiteServer((args.host, args.port), handler, args.max_connections)
    host, port = server.server_address[:2]
    print(f"Serving {root} at http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
