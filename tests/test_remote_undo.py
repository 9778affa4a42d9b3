"""The journal of changes on remote nodes that ``splitbrain cleanup`` undoes after a SIGKILL."""

from __future__ import annotations

from pathlib import Path

from splitbrain.harness.control.journal import read_entries, stale_journals
from splitbrain.harness.control.remote_undo import UndoJournal, leftovers, ssh_journal_dir
from splitbrain.harness.control.ssh import undo_remote


def test_nothing_is_written_until_a_change_is_journaled(tmp_path: Path) -> None:
    journal = UndoJournal({"hosts": ["h"]}, tmp_path)
    assert journal.path is None
    journal.close()
    assert not ssh_journal_dir(tmp_path).exists()


def test_steps_are_journaled_before_and_marked_when_undone(tmp_path: Path) -> None:
    journal = UndoJournal({"hosts": ["10.77.0.201"]}, tmp_path)
    a = journal.later("10.77.0.201", 22, "directory /x/y/z", [["rm", "-rf", "--", "/x/y/z"]])
    b = journal.later("10.77.0.201", 2222, "daemon etcd", [["kill", "1"], ["true"]])
    path = journal.path
    assert path is not None and path.parent == ssh_journal_dir(tmp_path)
    journal.done(a)
    journal.done(a)
    found = leftovers(path)
    assert found.options == {"hosts": ["10.77.0.201"]}
    assert [(s.id, s.port, s.what, s.commands) for s in found.steps] == [
        (b, 2222, "daemon etcd", [["kill", "1"], ["true"]])
    ]
    assert [e["kind"] for e in read_entries(path)].count("done") == 1
    journal.close()
    assert path.exists(), "a step is still to undo: the journal stays for cleanup"
    assert stale_journals(ssh_journal_dir(tmp_path)) == [], "its owner (this process) lives"


def test_a_journal_with_everything_undone_is_removed(tmp_path: Path) -> None:
    journal = UndoJournal({"hosts": ["h"]}, tmp_path)
    journal.done(journal.later("h", 22, "x", [["true"]]))
    path = journal.path
    journal.close()
    assert path is not None and not path.exists()


def test_cleanup_of_a_journal_with_nothing_pending_only_removes_it(tmp_path: Path) -> None:
    journal = UndoJournal({"hosts": ["h"]}, tmp_path)
    journal.done(journal.later("h", 22, "x", [["true"]]))
    path = journal.path
    assert path is not None
    assert undo_remote(path) == ([], [])
    assert not path.exists()
