"""`splitbrain serve`: the run index at "/", run files below it, nothing outside the store.

Only requests whose ``Host`` names the bound address or localhost are answered (a page on
another site cannot reach the store through DNS rebinding); a connection idle for
``IDLE_TIMEOUT_S`` is closed; a report that fails to build is a 500 with one line.
"""

from __future__ import annotations

import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.report.index import render_index
from splitbrain.harness.report.page import write_report
from splitbrain.harness.report.run import RUN_FILES

IDLE_TIMEOUT_S = 15.0
LISTEN_BACKLOG = 128
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

TEXT_TYPES = {
    ".jsonl": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".edn": "text/plain; charset=utf-8",
}


class StoreHandler(SimpleHTTPRequestHandler):
    """Static files of one store; refuses ".." and symlinks that lead outside it."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        **TEXT_TYPES,
        ".json": "application/json",
    }

    timeout = IDLE_TIMEOUT_S

    def __init__(self, *args, store: Path, hosts: frozenset[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        self.hosts = hosts
        super().__init__(*args, directory=str(store), **kwargs)

    def do_GET(self) -> None:
        if self._route():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._route():
            super().do_HEAD()

    def _route(self) -> bool:
        """Answer the index or an error here; True when the static handler should serve the file."""
        if not _host_allowed(self.headers.get("Host"), self.hosts):
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "unknown Host: serving only localhost")
            return False
        try:
            return self._route_path()
        except Exception as e:  # one line to the browser, not a dropped connection
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, _one_line(f"{type(e).__name__}: {e}"))
            return False

    def _route_path(self) -> bool:
        raw = unquote(urlsplit(self.path).path)
        if ".." in raw.split("/") or "\\" in raw or "\0" in raw:
            self.send_error(HTTPStatus.FORBIDDEN, "path traversal refused")
            return False
        if raw in ("/", "/index.html"):
            self._send_index()
            return False
        target = Path(self.translate_path(self.path))
        if not _inside(target, self.store):
            self.send_error(HTTPStatus.FORBIDDEN, "outside the store")
            return False
        if target.name == "report.html" and not target.exists() and _is_run(target.parent):
            write_report(target.parent)
        return True

    def _send_index(self) -> None:
        body = render_index(self.store, self.store, live=True).encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write(f"serve: {self.address_string()} {format % args}\n")


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _host_allowed(header: str | None, hosts: frozenset[str]) -> bool:
    """Whether a ``Host`` header names one of ``hosts`` (any port); no header is HTTP/1.0."""
    if header is None:
        return True
    name = header.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":")[0]
    return name in hosts


def _inside(path: Path, store: Path) -> bool:
    try:
        return path.resolve().is_relative_to(store)
    except (OSError, RuntimeError):
        return False


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / n).is_file() for n in RUN_FILES)


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG


def make_server(store: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A bound server (port 0 picks a free one); the caller runs serve_forever()."""
    store = Path(store)
    if not store.is_dir():
        raise HarnessInputError(f"{store}: no such store directory")
    if not 0 <= port <= 65535:
        raise HarnessInputError(f"--port must be between 0 and 65535, got {port}")
    handler = partial(StoreHandler, store=store.resolve(), hosts=LOCAL_NAMES | {host.lower()})
    try:
        server = _Server((host, port), handler)
    except (OSError, OverflowError) as e:
        raise HarnessInputError(
            f"cannot listen on {host}:{port}: {getattr(e, 'strerror', None) or e}"
        ) from None
    server.daemon_threads = True
    return server


def serve(store: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the store until Ctrl-C."""
    server = make_server(store, host, port)
    bound_host, bound_port = server.server_address[:2]
    print(f"serving {store} at http://{bound_host}:{bound_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
