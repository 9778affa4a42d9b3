"""`splitbrain serve` against what a hostile page or a careless user sends it: a Host that is
not localhost (DNS rebinding), a report that cannot be built, idle connections, ports out of
range; and a listen backlog larger than 5."""

from __future__ import annotations

import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_fixtures import RunSpec, make_run

from conftest import run_cli
from splitbrain.harness.report import make_server
from splitbrain.harness.report.server import LISTEN_BACKLOG, StoreHandler


@pytest.fixture()
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path]]:
    store = tmp_path / "store"
    store.mkdir()
    run_dir = make_run(store, RunSpec())
    monkeypatch.setattr(StoreHandler, "timeout", 0.5)
    srv = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1], run_dir
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def request(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "10.0.0.1", "[::2]:80"])
def test_foreign_host_header_is_refused(server: tuple[int, Path], host: str) -> None:
    port, _ = server
    status, body = request(port, "/", host)
    assert status == 421 and b"register-memory" not in body


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}"]
)
def test_local_host_header_is_served(server: tuple[int, Path], host: str) -> None:
    port, _ = server
    status, body = request(port, "/", host.format(port=port))
    assert status == 200 and b"register-memory" in body


def test_a_report_that_fails_to_build_is_a_500(server: tuple[int, Path]) -> None:
    """The run directory is made immutable (chattr +i): writing report.html really fails."""
    port, run_dir = server
    (run_dir / "report.html").unlink(missing_ok=True)
    if subprocess.run(["chattr", "+i", str(run_dir)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable flag")
    try:
        status, body = request(port, f"/{run_dir.parent.name}/{run_dir.name}/report.html")
    finally:
        subprocess.run(["chattr", "-i", str(run_dir)], check=True)
    assert status == 500
    assert b"PermissionError" in body and b"Traceback" not in body


def test_idle_connection_is_closed(server: tuple[int, Path]) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        started = time.monotonic()
        assert s.recv(1) == b""
        assert time.monotonic() - started < 5


def test_listen_backlog_is_larger_than_five(server: tuple[int, Path]) -> None:
    port, _ = server
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
    (line,) = out.stdout.splitlines()
    assert int(line.split()[2]) == LISTEN_BACKLOG > 5


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_port_out_of_range_is_one_line(tmp_path: Path, port: str) -> None:
    r = run_cli("serve", "--store", str(tmp_path), "--port", port)
    assert r.returncode == 254
    assert r.stderr.strip().splitlines() == [
        f"splitbrain: --port must be between 0 and 65535, got {port}"
    ]
