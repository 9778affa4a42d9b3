"""Reports and the index in a real headless Chromium: no console messages, content present, screenshots.

Screenshots go to artifacts/ (gitignored) as test artefacts. Chromium writes every console
message (errors, CSP violations, uncaught exceptions) to stderr as ":CONSOLE" lines; the
pages log nothing, so any such line fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_fixtures import EVIL, RunSpec, make_run

from splitbrain.harness.report import make_server, write_index, write_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1400,2600",
]


@dataclass
class Load:
    dom: str
    console: list[str]


def chromium(url: str, *extra: str) -> Load:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return Load(proc.stdout, console)


def dump(url: str) -> Load:
    load = chromium(url, "--dump-dom")
    assert "<body" in load.dom, "chromium printed no DOM"
    return load


def screenshot(url: str, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    out.unlink(missing_ok=True)
    load = chromium(url, f"--screenshot={out}")
    assert load.console == []
    assert out.is_file() and out.stat().st_size > 10_000
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser") / "store"
    make_run(root, RunSpec(name="register-memory", stamp="20240101T120000.000"))
    make_run(
        root,
        RunSpec(
            name="stale-reads",
            stamp="20240102T120000.000",
            valid=False,
            key=EVIL,
            counterexample=True,
            anomalies=True,
        ),
    )
    return root


def report_url(store: Path, name: str) -> str:
    run_dir = next((store / name).iterdir())
    return write_report(run_dir).as_uri()


def test_valid_report_loads_cleanly(store: Path) -> None:
    url = report_url(store, "register-memory")
    load = dump(url)
    assert load.console == []
    assert 'id="verdict">VALID<' in load.dom
    assert 'data-timeline="ready"' in load.dom
    assert 'data-drawn="' in load.dom and 'data-drawn="0"' not in load.dom
    screenshot(url, "report-valid.png")


def test_invalid_report_shows_counterexample_and_escapes_values(store: Path) -> None:
    url = report_url(store, "stale-reads")
    load = dump(url)
    assert load.console == []
    assert 'id="verdict">INVALID<' in load.dom
    assert "cannot follow state 2" in load.dom
    assert 'class="cx-bad"' in load.dom
    assert '<svg class="cycle"' in load.dom
    # Elle's own si-without-g-single.edn, checked for real: both rw edges drawn, T1 and T2
    assert load.dom.count('class="edge edge-rw" data-from="T1" data-to="T2"') == 2
    assert load.dom.count('class="edge edge-rw" data-from="T2" data-to="T1"') == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in load.dom
    assert load.dom.count("<script") == 2
    assert 'data-timeline="ready"' in load.dom
    screenshot(url, "report-invalid.png")


def test_static_index_loads_cleanly(store: Path) -> None:
    url = write_index(store).as_uri()
    load = dump(url)
    assert load.console == []
    assert load.dom.index("stale-reads") < load.dom.index("register-memory")
    assert 'class="verdict">INVALID<' in load.dom and 'class="verdict">VALID<' in load.dom
    screenshot(url, "index.png")


@pytest.fixture()
def server_url(store: Path) -> Iterator[str]:
    server = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_served_index_and_report_load_cleanly(server_url: str) -> None:
    index = dump(server_url)
    assert index.console == []
    assert "stale-reads" in index.dom
    report = dump(server_url + "stale-reads/20240102T120000.000/report.html")
    assert report.console == []
    assert 'id="verdict">INVALID<' in report.dom
    screenshot(server_url, "index-served.png")


def test_console_errors_are_detected(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>x</p><script>noSuchFunction();</script></body></html>"
    )
    load = dump(page.as_uri())
    assert any("noSuchFunction" in line for line in load.console)


def test_large_history_timeline_draws_only_the_chosen_window(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "store", RunSpec(ops=100_000, concurrency=10))
    url = write_report(run_dir).as_uri()
    whole = dump(url)
    assert whole.console == []
    drawn_all = int(whole.dom.split('data-drawn="', 1)[1].split('"', 1)[0])
    assert drawn_all >= 50_000
    window = dump(url + "#from=1&to=1.5")
    assert window.console == []
    drawn = int(window.dom.split('data-drawn="', 1)[1].split('"', 1)[0])
    assert 0 < drawn < drawn_all / 5
    assert 'value="1"' in window.dom or "window 1 s to 1.5 s" in window.dom
    screenshot(url + "#from=1&to=1.5", "report-100k-window.png")


def test_report_of_a_real_run(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.run(
        [
            "splitbrain",
            "test",
            "--time-limit",
            "1",
            "--store",
            str(store),
            "-o",
            "fault=stale-reads",
            "-o",
            "fault-rate=0.3",
            "--rate",
            "300",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = store / "latest" / "report.html"
    assert report.is_file()
    load = dump(report.as_uri())
    assert load.console == []
    verdict = "INVALID" if proc.returncode == 1 else "VALID"
    assert f'id="verdict">{verdict}<' in load.dom
    if proc.returncode == 1:
        assert "cannot be linearized" in load.dom
    results = json.loads((store / "latest" / "results.json").read_text())
    checked = [  # the models the spectrum checked itself say why they fail, in prose
        m
        for m, e in results["spectrum"]["models"].items()
        if e["verdict"] == "fails" and isinstance(e.get("result"), dict)
    ]
    for model in checked:
        assert re.search(rf'<h4>{re.escape(model)} fails</h4><pre class="cx-text why">\S', load.dom)
    index = dump(write_index(store).as_uri())
    assert index.console == [] and f'class="verdict">{verdict}<' in index.dom
    screenshot(report.as_uri(), "report-real-run.png")


def test_a_failing_checker_without_a_drawing_says_why_in_the_report(tmp_path: Path) -> None:
    """bank, set-full, counter, total-queue, ...: the explanation the command line prints."""
    store = tmp_path / "store"
    argv = ["splitbrain", "test", "--workload", "bank", "-o", "fault=torn-transfers"]
    argv += ["--time-limit", "2", "--seed", "3", "--store", str(store)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    load = dump((store / "latest" / "report.html").as_uri())
    assert load.console == []
    assert re.search(r'<pre class="cx-text why">\d+ of \d+ reads? (is|are) bad: each', load.dom)
