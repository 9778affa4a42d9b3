"""The HTML report, the run index and the `serve` server (no browser; see test_report_browser.py)."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from report_fixtures import EVIL, RunSpec, make_run

from splitbrain.harness.base.history import Op, read_history
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.report import make_server, write_index, write_report
from splitbrain.harness.report.run import fault_windows

ESCAPED_EVIL = "&lt;script&gt;alert(1)&lt;/script&gt;"


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


def parse(page: str) -> TagCounter:
    counter = TagCounter()
    counter.feed(page)
    return counter


def nem(typ: str, f: str, t: int, value: object = None) -> Op:
    return Op(type=typ, f=f, process="nemesis", value=value, time=t)


# ---------------------------------------------------------------- fault windows


def test_fault_windows_pair_start_stop_kill_pause_and_leave_unpaired_open() -> None:
    ops = [
        nem("invoke", "start-partition", 10, "halves"),
        nem("info", "start-partition", 12, {"grudge": {}}),
        nem("invoke", "kill", 20, ["n1"]),
        nem("info", "kill", 21),
        nem("invoke", "stop-partition", 30),
        nem("info", "stop-partition", 33),
        nem("invoke", "start", 40, ["n1"]),
        nem("info", "start", 41),
        nem("invoke", "pause", 50),
        nem("info", "pause", 52),
    ]
    windows = fault_windows(ops, end_time=100)
    got = [(w.name.split(" ")[0], w.start, w.end, w.open_ended) for w in windows]
    assert got == [("partition", 12, 33, False), ("kill", 21, 41, False), ("pause", 52, 100, True)]


def test_failed_start_is_no_fault_and_bare_start_stop_pair() -> None:
    ops = [
        nem("invoke", "start-packet", 1),
        nem("fail", "start-packet", 2),
        nem("invoke", "start", 5),
        nem("info", "start", 6),
        nem("invoke", "stop", 9),
        nem("info", "stop", 10),
        nem("invoke", "bump-clock", 11),
        nem("info", "bump-clock", 12),
        nem("invoke", "reset-clock", 13),
        nem("info", "reset-clock", 14),
    ]
    got = [(w.name, w.start, w.end) for w in fault_windows(ops, end_time=50)]
    assert got == [("start", 6, 10), ("bump-clock", 12, 14)]


# ---------------------------------------------------------------- report page


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def test_valid_report_has_header_checkers_timeline_charts_and_links(store: Path) -> None:
    run_dir = make_run(store, RunSpec())
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    page = path.read_text()
    tags = parse(page)
    assert {"verdict", "timeline", "tl-main", "timeline-data", "replay"} <= tags.ids
    assert re.search(r'id="verdict">VALID<', page)
    assert "splitbrain test --target memory --workload register --seed 7" in page
    for link in ('href="history.jsonl"', 'href="results.json"', 'href="logs/n1/server.log"'):
        assert link in page
    assert tags.tags.get("svg", 0) >= 3
    assert "Latency: every op a point" in page and "Throughput" in page
    assert 'class="fault"' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_timeline_data_holds_every_client_op(store: Path) -> None:
    run_dir = make_run(store, RunSpec(ops=400))
    page = write_report(run_dir).read_text()
    raw = re.search(
        r'<script type="application/json" id="timeline-data">(.*?)</script>', page, re.S
    )
    assert raw is not None
    data = json.loads(raw.group(1))
    assert sum(len(lane["t"]) for lane in data["ops"]) == 200
    assert all(
        len(set(map(len, (c["t"], c["d"], c["o"], c["i"], c["k"], c["x"])))) == 1
        for c in data["ops"]
    )
    assert [f[2].split(" ")[0] for f in data["faults"]] == ["partition", "kill"]
    assert len(data["nemesis"]) == 3


def test_invalid_report_draws_counterexample_and_cycle(store: Path) -> None:
    run_dir = make_run(store, RunSpec(valid=False, counterexample=True, anomalies=True))
    page = write_report(run_dir).read_text()
    assert re.search(r'id="verdict">INVALID<', page)
    assert "read of 4 by p3 on key k1 cannot follow state 2" in page
    assert 'class="cx-bad"' in page and page.count('class="cx-lin"') == 2
    assert 'class="cx-state">2<' in page
    assert page.count('<svg class="cycle"') == 2
    # real Elle output: its edges name history indices (2, 3 and 31, 41), drawn as T1 <-> T2
    assert page.count('class="edge edge-rw" data-from="T1" data-to="T2"') == 2
    assert page.count('class="edge edge-rw" data-from="T2" data-to="T1"') == 2
    assert "G2-item" in page and "rw 6" in page and "rw 9" in page
    assert ">T0<" not in page and "T1 = process 7 txn [r 6 null, r 8 null, append 9 5]" in page
    assert re.search(r"<details open><summary>details</summary>", page)


def test_values_from_the_system_are_escaped(store: Path) -> None:
    run_dir = make_run(store, RunSpec(valid=False, key=EVIL, counterexample=True, anomalies=True))
    page = write_report(run_dir).read_text()
    assert EVIL not in page
    assert ESCAPED_EVIL in page
    assert parse(page).tags["script"] == 2
    data = page.split('id="timeline-data">', 1)[1].split("</script>", 1)[0]
    assert "</" not in data and "<" not in data
    assert "\\u003cscript\\u003e" in data


def test_json_embedding_cannot_close_the_script_tag(store: Path) -> None:
    spec = RunSpec(key="</script><script>alert(2)</script><!--")
    page = write_report(make_run(store, spec)).read_text()
    assert parse(page).tags["script"] == 2
    assert "alert(2)</script>" not in page


def test_generic_checker_rendered_and_expanded_when_failed(store: Path) -> None:
    extra = {
        "custom": {"valid": "unknown", "reason": "timed out after 5 s", "nested": {"a": [1, 2, 3]}}
    }
    page = write_report(make_run(store, RunSpec(extra_checkers=extra))).read_text()
    section = page.split('id="checker-custom"', 1)[1].split("</section>", 1)[0]
    assert "UNKNOWN" in section and "timed out after 5 s" in section
    assert "<details open>" in section
    stats = page.split('id="checker-stats"', 1)[1].split("</section>", 1)[0]
    assert '<table class="grid">' in stats and "<details>" in stats


def test_run_without_results_is_not_checked_and_says_why(store: Path) -> None:
    run_dir = make_run(store, RunSpec())
    (run_dir / "results.json").unlink()
    with open(run_dir / "history.jsonl", "a") as f:
        f.write('{"index": 99999, "type": "ok"')
    page = write_report(run_dir).read_text()
    assert re.search(r'id="verdict">NOT CHECKED<', page)
    assert "results.json is missing" in page
    assert "last line is truncated" in page


def test_not_a_run_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(HarnessInputError, match="no such directory"):
        write_report(tmp_path / "nope")
    with pytest.raises(HarnessInputError, match="not a run directory"):
        write_report(tmp_path)


def test_empty_history_renders(store: Path) -> None:
    run_dir = make_run(store, RunSpec())
    (run_dir / "history.jsonl").write_text("")
    page = write_report(run_dir).read_text()
    assert "No client operations." in page and "No operations." in page


# ---------------------------------------------------------------- index


def test_index_lists_runs_newest_first_with_verdicts_and_links(store: Path, tmp_path: Path) -> None:
    make_run(store, RunSpec(name="old", stamp="20240101T100000.000"))
    evil_name = "<img src=x onerror=alert(1)>"
    bad = make_run(store, RunSpec(name=evil_name, stamp="20240301T100000.000", valid=False))
    write_report(bad)
    dest = tmp_path / "ci" / "index.html"
    assert write_index(store, dest) == dest
    page = dest.read_text()
    assert evil_name not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert parse(page).tags.get("img") is None
    rows = re.findall(r'<tr class="(\w+)">', page)
    assert rows == ["invalid", "valid"]
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs, "index has no links"
    for h in hrefs:
        assert (dest.parent / unquote(h)).resolve().is_file(), h
    assert any(h.endswith("report.html") for h in hrefs)


def test_index_default_destination_and_missing_store(store: Path, tmp_path: Path) -> None:
    make_run(store, RunSpec())
    assert write_index(store) == store / "index.html"
    assert "register-memory" in (store / "index.html").read_text()
    with pytest.raises(HarnessInputError, match="no such store"):
        write_index(tmp_path / "missing")


# ---------------------------------------------------------------- server


@pytest.fixture()
def served(store: Path, tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    run_dir = make_run(store, RunSpec(valid=False, counterexample=True))
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (store / "escape").symlink_to(secret)
    server = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1], run_dir
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_serve_answers_index_and_builds_missing_report(served: tuple[str, int, Path]) -> None:
    host, port, run_dir = served
    status, body = get(host, port, "/")
    assert status == 200 and b"register-memory" in body and b"INVALID" in body
    assert not (run_dir / "report.html").exists()
    rel = f"{run_dir.parent.name}/{run_dir.name}/report.html"
    assert f'href="{rel}"'.encode() in body
    status, body = get(host, port, "/" + rel)
    assert status == 200 and b'id="verdict">INVALID<' in body
    status, body = get(host, port, f"/{run_dir.parent.name}/{run_dir.name}/history.jsonl")
    assert status == 200 and b'"process": "nemesis"' in body
    status, body = get(host, port, "/latest/results.json")
    assert status == 200 and json.loads(body)["valid"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/register-memory/..%2f..%2f..%2fetc/passwd",
        "/escape",
    ],
)
def test_serve_refuses_paths_outside_the_store(served: tuple[str, int, Path], path: str) -> None:
    host, port, _ = served
    status, body = get(host, port, path)
    assert status == 403
    assert b"root:" not in body and b"top secret" not in body


def test_serve_missing_file_is_404(served: tuple[str, int, Path]) -> None:
    host, port, _ = served
    assert get(host, port, "/no/such/file.json")[0] == 404


def test_serve_function_blocks_and_prints_its_address(store: Path) -> None:
    make_run(store, RunSpec())
    code = "import sys; from pathlib import Path; from harness.report import serve; serve(Path(sys.argv[1]), '127.0.0.1', 0)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        status, body = get("127.0.0.1", int(m.group(1)), "/")
        assert status == 200 and b"register-memory" in body
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_on_a_missing_store_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(HarnessInputError, match="no such store"):
        make_server(tmp_path / "missing", "127.0.0.1", 0)


def test_report_from_ops_in_memory_matches_report_from_file(store: Path) -> None:
    run_dir = make_run(store, RunSpec(valid=False, counterexample=True))
    from_file = write_report(run_dir).read_text()
    ops = read_history(run_dir / "history.jsonl").ops
    assert write_report(run_dir, ops=ops).read_text() == from_file


def test_internal_anomaly_is_explained_not_an_empty_box() -> None:
    from splitbrain.checkers import elle
    from splitbrain.harness.report.results import checker_html

    ops = [
        Op("invoke", "txn", 0, [["append", "x", 1], ["r", "x", None]], index=0),
        Op("ok", "txn", 0, [["append", "x", 1], ["r", "x", []]], index=1),
    ]
    result = elle.check(ops)
    assert "internal" in result["anomalies"]
    html = checker_html("elle", result)
    box = html.split("<h5>internal (1)</h5>", 1)[1].split("</pre>", 1)[0]
    assert "process 0 txn [append &quot;x&quot; 1, r &quot;x&quot; []] (history 1)" in box
    assert "its read r &quot;x&quot; [] contradicts its own earlier micro-ops" in box
    assert "should end with 1" in box


def test_a_fault_that_changed_nothing_has_no_window(tmp_path: Path) -> None:
    # A real sim run: the teardown's final `start` (and `resume`) act on no node, as the
    # last kill and pause were already healed; they must not show as faults to the end.
    r = subprocess.run(
        [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "sim"]
        + ["--time-limit", "10", "--nemesis", "kill,pause", "--nemesis-interval", "2"]
        + ["--seed", "4", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode in (0, 1), r.stderr
    ops = read_history(tmp_path / "latest" / "history.jsonl").ops
    nemesis = [op for op in ops if not op.is_client]
    assert [op.f for op in nemesis[-4:]] == ["start", "start", "resume", "resume"]
    assert nemesis[-1].value == [] and nemesis[-3].value == []
    end = max(op.time for op in ops)
    windows = fault_windows(nemesis, end_time=end)
    assert windows and not any(w.open_ended for w in windows)
    assert all(w.start < nemesis[-4].time for w in windows)
    page = write_report(tmp_path / "latest").read_text()
    faults = page.split('<table class="grid faults">', 1)[1].split("</table>", 1)[0]
    assert "(to the end)" not in faults and "[&quot;" not in faults
    assert re.search(r"<td>kill</td><td>[\d.]+</td><td>[\d.]+</td><td>n\d(, n\d)*</td>", faults)
    test_section = page.split("<h2>Test</h2>", 1)[-1]
    assert ">null<" not in test_section


def test_counterexample_drawing_keeps_labels_in_their_column_over_a_history_axis(
    tmp_path: Path,
) -> None:
    from splitbrain.checkers import linearizable
    from splitbrain.harness.report.results import counterexample_svg

    # a real counterexample: a read of 1 after a write of 2 completed
    ops = [
        Op("invoke", "write", 0, 1, index=0),
        Op("ok", "write", 0, 1, index=1),
        Op("invoke", "write", 1, 2, index=2),
        Op("ok", "write", 1, 2, index=3),
        Op("invoke", "read", 2, None, index=4),
        Op("ok", "read", 2, 1, index=5),
    ]
    cx = linearizable.check(ops, "register")["counterexample"]
    svg = counterexample_svg(cx["op"], cx["linearized"], cx["concurrent"])
    assert ">✗: p2 read -&gt; 1<" in svg and "read null" not in svg
    label_end = int(re.search(r'<text x="(\d+)" y="\d+" text-anchor="end">', svg).group(1))
    bars = [int(x) for x in re.findall(r'<rect x="(\d+)"', svg)]
    assert bars and min(bars) > label_end
    assert [t for t in re.findall(r'text-anchor="middle">(\d+)<', svg)] == [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert "history index (invoke to completion)" in svg
