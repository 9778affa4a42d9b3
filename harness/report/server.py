"""`splitbrain serve`: the run index at "/", run files below it, nothing outside the store."""

from __future__ import annotations

import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from splitbrain.harness.protocols import HarnessInputError
from splitbrain.harness.report.index import render_index
from splitbrain.harness.report.page import write_report
from splitbrain.harness.report.run import RUN_FILES

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

    def __init__(self, *args, store: Path, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.store = store
        super().__init__(*args, directory=str(store), **kwargs)

    def do_GET(self) -> None:
        if self._route():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._route():
            super().do_HEAD()

    def _route(self) -> bool:
        """Answer the index or an error here; True when the static handler should serve the file."""
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


def _inside(path: Path, store: Path) -> bool:
    try:
        return path.resolve().is_relative_to(store)
    except (OSError, RuntimeError):
        return False


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / n).is_file() for n in RUN_FILES)


def make_server(store: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A bound server (port 0 picks a free one); the caller runs serve_forever()."""
    store = Path(store)
    if not store.is_dir():
        raise HarnessInputError(f"{store}: no such store directory")
    handler = partial(StoreHandler, store=store.resolve())
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise HarnessInputError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
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
