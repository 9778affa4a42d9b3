"""Jepsen ``independent`` histories (``:value [k v]``) are checked key by key."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

# As jepsen.independent writes them: a write of 1 to key 1, of 5 to key 2, a read of key 1.
LINEARIZABLE = """\
{:process 0, :type :invoke, :f :write, :value [1 1]}
{:process 0, :type :ok, :f :write, :value [1 1]}
{:process 1, :type :invoke, :f :write, :value [2 5]}
{:process 1, :type :ok, :f :write, :value [2 5]}
{:process 0, :type :invoke, :f :read, :value [1 nil]}
{:process 0, :type :ok, :f :read, :value [1 1]}
"""

# Key 2 is fine; key 1 reads a value after a CAS swapped it away.
STALE_ON_KEY_1 = """\
INFO jepsen.util - 0 :invoke :write [1 1]
INFO jepsen.util - 0 :ok :write [1 1]
INFO jepsen.util - 1 :invoke :cas [1 [1 2]]
INFO jepsen.util - 1 :ok :cas [1 [1 2]]
INFO jepsen.util - 2 :invoke :write [2 5]
INFO jepsen.util - 2 :ok :write [2 5]
INFO jepsen.util - 0 :invoke :read [1 nil]
INFO jepsen.util - 0 :ok :read [1 1]
INFO jepsen.util - 2 :invoke :read [2 nil]
INFO jepsen.util - 2 :ok :read [2 5]
"""


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_independent_values_are_detected_and_read_as_keys(tmp_path: Path) -> None:
    path = _file(tmp_path, "independent.edn", LINEARIZABLE)
    r = run_cli("check", path, "--model", "register")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Jepsen independent [key value] tuples; checked key by key" in r.stderr
    plain = run_cli("check", path, "--model", "register", "--independent", "no")
    assert plain.returncode == 1
    assert "the state is [2, 5]" in plain.stdout


def test_an_invalid_key_is_named(tmp_path: Path) -> None:
    path = _file(tmp_path, "jepsen.log", STALE_ON_KEY_1)
    r = run_cli("check", path, "--model", "cas-register")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "key 1: process 0 read -> 1 (history 6..7) cannot be linearized." in r.stdout
    assert "key 2" not in r.stdout


def test_pairs_read_without_a_keyed_read_are_left_as_values(tmp_path: Path) -> None:
    # A register that stores pairs: reads invoke with nil, so nothing says these are keys.
    text = LINEARIZABLE.replace(":value [1 nil]", ":value nil")
    r = run_cli("check", _file(tmp_path, "pairs.edn", text), "--model", "register")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "independent" not in r.stderr
    forced = run_cli(
        "check", _file(tmp_path, "pairs2.edn", text), "--model", "register", "--independent", "yes"
    )
    assert forced.returncode == 0, forced.stdout + forced.stderr
