"""Big runs keep a compressed history that every reader takes as it takes the plain one."""

from __future__ import annotations

import gzip
from pathlib import Path

from conftest import run_cli
from splitbrain.harness.base import store
from splitbrain.harness.base.history import read_history
from splitbrain.harness.engine import core
from splitbrain.harness.report import write_report
from splitbrain.targets.sim import SimTarget


def _run(tmp_path: Path) -> Path:
    r = run_cli("test", "--time-limit", "1", "--rate", "200", "--store", str(tmp_path))
    assert r.returncode == 0, r.stderr
    return (tmp_path / "latest").resolve()


def test_a_compressed_history_is_read_checked_and_reported_like_the_plain_one(
    tmp_path: Path,
) -> None:
    run_dir = _run(tmp_path)
    plain = read_history(run_dir / store.HISTORY).ops
    assert store.compress_history(run_dir, above=10**9) == run_dir / store.HISTORY
    packed = store.compress_history(run_dir, above=0)
    assert packed == run_dir / store.HISTORY_GZ and not (run_dir / store.HISTORY).exists()
    assert gzip.decompress(packed.read_bytes()).count(b"\n") == len(plain)
    assert [op.to_dict() for op in read_history(packed).ops] == [op.to_dict() for op in plain]
    r = run_cli("check", str(packed), "--model", "cas-register")
    assert r.returncode == 0 and f"{len(plain)}" in r.stdout, r.stdout + r.stderr
    page = write_report(run_dir).read_text()
    assert 'id="verdict">VALID<' in page and 'href="history.jsonl.gz"' in page
    assert "history.jsonl is missing" not in page


def test_a_damaged_gzip_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "history.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"index": 0}\n' * 100)[:40])
    r = run_cli("check", str(bad), "--model", "register")
    assert r.returncode == 254
    assert str(bad) in r.stdout + r.stderr and "damaged gzip" in r.stdout + r.stderr


def test_a_default_sim_set_run_is_small_and_reads_thin_out(tmp_path: Path) -> None:
    """Whole-set reads grow with the square of the ops: at full speed a 10 s sim set run was
    40 MB (a 60 s one 1.5 GB). The sim's set rate and thinned reads keep it well under a MB."""
    r = run_cli("test", "--target", "sim", "--workload", "set", "--store", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "--rate 200 " in r.stdout, r.stdout
    history = (tmp_path / "latest" / store.HISTORY).resolve()
    assert history.stat().st_size < 1_000_000, history.stat().st_size
    ops = read_history(history).ops
    reads = [o for o in ops if o.f == "read" and o.type == "ok"]
    adds = [o for o in ops if o.f == "add" and o.type == "ok"]
    assert len(adds) > 1000 and 0 < len(reads) < 0.2 * len(adds), (len(reads), len(adds))
    assert max(len(o.value) for o in reads) == len(adds)  # the final reads see every add
    assert core.default_rate(SimTarget(), "register") == 0.0
