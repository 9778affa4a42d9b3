"""leader-sync: a small Raft. Terms and elections, majority-acknowledged log replication,
linearizable reads through the leader (ReadIndex with a quorum check), check-quorum step-down.

Durable (kept across a kill): term, vote, log. Volatile: role, commit index, applied state.
A follower applies committed entries lazily, when its state is looked at or it becomes leader.
Claim: linearizable; without a majority it refuses or leaves requests indeterminate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splitbrain.targets.sim.nodes import MS, Node, Request, StateMachine

ELECTION_MIN = 150 * MS
ELECTION_MAX = 300 * MS
HEARTBEAT = 50 * MS
MAX_BATCH = 64

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"


@dataclass(slots=True)
class Entry:
    term: int
    req: Request | None


@dataclass(slots=True)
class Append:
    term: int
    leader: str
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    commit: int
    seq: int


@dataclass(slots=True)
class AppendReply:
    term: int
    ok: bool
    match: int
    seq: int


@dataclass(slots=True)
class Vote:
    term: int
    candidate: str
    last_index: int
    last_term: int


@dataclass(slots=True)
class VoteReply:
    term: int
    granted: bool


@dataclass(slots=True)
class Forward:
    req: Request


class SafetyViolation(AssertionError):
    """An internal invariant of the replication protocol broke (a bug in the simulator)."""


class RaftNode(Node):
    synchronous = True
    check_quorum = True

    def __init__(self, name: str, cluster: Any) -> None:
        super().__init__(name, cluster)
        self.term = 0
        self.voted_for: str | None = None
        self.log: list[Entry] = [Entry(0, None)]
        self._handlers = {
            Append: self._on_append,
            AppendReply: self._on_append_reply,
            Vote: self._on_vote,
            VoteReply: self._on_vote_reply,
            Forward: self._on_forward,
        }
        self.recover()

    # ------------------------------------------------------------ lifecycle

    def recover(self) -> None:
        self.role = FOLLOWER
        self.leader: str | None = None
        self.commit = 0
        self.applied = 0
        self.sm = StateMachine(self.cluster.kind)
        self.votes: set[str] = set()
        self.pending: dict[int, Request] = {}
        self.reads: list[tuple[int, int, Request]] = []
        self.next_index: dict[str, int] = {}
        self.match_index: dict[str, int] = {}
        self.inflight: dict[str, bool] = {}
        self.acked_seq: dict[str, int] = {}
        self.sent_seq: dict[str, int] = {}
        self.heard: dict[str, int] = {}
        self.seq = 0
        self.noop_index = 0
        self.next_heartbeat = 0
        self._reset_election()

    def crash(self) -> None:
        self.recover()

    def _reset_election(self) -> None:
        """A fresh randomized timeout (per election round, as etcd does), restarted now."""
        spread = ELECTION_MAX - ELECTION_MIN
        self.election_timeout = ELECTION_MIN + int(self.rng.random() * spread)
        self.election_deadline = self.sim.now + self.election_timeout

    def _heard_leader(self) -> None:
        self.election_deadline = self.sim.now + self.election_timeout

    def is_leader(self) -> bool:
        return self.role == LEADER

    def local_state(self) -> dict[Any, Any]:
        self._apply()
        return dict(self.sm.data)

    @property
    def last_index(self) -> int:
        return len(self.log) - 1

    # ------------------------------------------------------------ timers

    def next_wake(self) -> int:
        return self.next_heartbeat if self.role == LEADER else self.election_deadline

    def on_tick(self) -> None:
        now = self.sim.now
        if self.role == LEADER:
            if now >= self.next_heartbeat:
                self._heartbeat()
            return
        if now >= self.election_deadline:
            self._start_election()

    def _heartbeat(self) -> None:
        now = self.sim.now
        self.next_heartbeat = now + HEARTBEAT
        if self.check_quorum:
            recent = sum(1 for p in self.peers if now - self.heard.get(p, 0) <= ELECTION_MAX)
            if recent + 1 < self.majority:
                self._step_down(self.term, None)
                return
        for peer in self.peers:
            self._send_append(peer)

    def _start_election(self) -> None:
        self.term += 1
        self.role = CANDIDATE
        self.voted_for = self.name
        self.leader = None
        self.votes = {self.name}
        self._reset_election()
        if len(self.votes) >= self.majority:
            self._become_leader()
            return
        last = self.last_index
        self.broadcast(Vote(self.term, self.name, last, self.log[last].term))

    # ------------------------------------------------------------ elections

    def _log_ok(self, last_index: int, last_term: int) -> bool:
        mine = self.log[self.last_index].term
        return last_term > mine or (last_term == mine and last_index >= self.last_index)

    def _on_vote(self, src: str, m: Vote) -> None:
        if m.term > self.term:
            self._step_down(m.term, None)
        granted = (
            m.term == self.term
            and self.voted_for in (None, m.candidate)
            and self._log_ok(m.last_index, m.last_term)
        )
        if granted:
            self.voted_for = m.candidate
            self._reset_election()
        self.send(src, VoteReply(self.term, granted))

    def _on_vote_reply(self, src: str, m: VoteReply) -> None:
        if m.term > self.term:
            self._step_down(m.term, None)
            return
        if self.role != CANDIDATE or m.term != self.term or not m.granted:
            return
        self.votes.add(src)
        if len(self.votes) >= self.majority:
            self._become_leader()

    def _become_leader(self) -> None:
        self.role = LEADER
        self.leader = self.name
        self._apply()
        now = self.sim.now
        for peer in self.peers:
            self.next_index[peer] = self.last_index + 1
            self.match_index[peer] = 0
            self.inflight[peer] = False
            self.acked_seq[peer] = 0
            self.heard[peer] = now
        self.log.append(Entry(self.term, None))
        self.noop_index = self.last_index
        self._on_leader_append()
        self._heartbeat()
        self.wake_by(self.next_wake())

    def _step_down(self, term: int, leader: str | None) -> None:
        if term > self.term:
            self.term = term
            self.voted_for = None
        was_leader = self.role == LEADER
        self.role = FOLLOWER
        self.leader = leader
        if was_leader:
            self._reset_election()
            for req in self.pending.values():
                self.reply(req, "info", req.value, "leadership lost")
            for _, _, req in self.reads:
                self.reply(req, "fail", None, "not leader")
            self.pending.clear()
            self.reads.clear()

    # ------------------------------------------------------------ client requests

    def serve(self, req: Request) -> None:
        if self.role == LEADER:
            self._lead(req)
            return
        if self.leader is None or req.hops > 0:
            self.reply(req, "fail", req.value, "no leader" if self.leader is None else "not leader")
            return
        req.hops += 1
        self.send(self.leader, Forward(req))

    def _on_forward(self, src: str, m: Forward) -> None:
        self.serve(m.req)

    def _lead(self, req: Request) -> None:
        if req.f == "read":
            self._read(req)
            return
        self.log.append(Entry(self.term, req))
        self.pending[self.last_index] = req
        self._on_leader_append()

    def _read(self, req: Request) -> None:
        read_index = max(self.commit, self.noop_index)
        self.reads.append((self.seq + 1, read_index, req))
        for peer in self.peers:
            if not self.inflight[peer]:
                self._send_append(peer)
        self._advance_reads()

    def _on_leader_append(self) -> None:
        """New entries at the leader: ship them to followers that have nothing in flight."""
        for peer in self.peers:
            if not self.inflight[peer]:
                self._send_append(peer)
        self._advance_commit()

    # ------------------------------------------------------------ replication

    def _send_append(self, peer: str) -> None:
        nxt = self.next_index[peer]
        prev = nxt - 1
        entries = tuple(self.log[nxt : nxt + MAX_BATCH])
        self.seq = seq = self.seq + 1
        self.sent_seq[peer] = seq
        self.inflight[peer] = True
        msg = Append(self.term, self.name, prev, self.log[prev].term, entries, self.commit, seq)
        self.net.send(self.name, peer, msg)

    def _on_append(self, src: str, m: Append) -> None:
        log = self.log
        if m.term < self.term:
            self.send(src, AppendReply(self.term, False, 0, m.seq))
            return
        if m.term > self.term or self.role != FOLLOWER or self.leader != m.leader:
            self._step_down(m.term, m.leader)
            self._reset_election()
        else:
            self._heard_leader()
        last = len(log) - 1
        if m.prev_index > last or log[m.prev_index].term != m.prev_term:
            self.send(src, AppendReply(self.term, False, min(last, m.prev_index - 1), m.seq))
            return
        index = m.prev_index
        if index == last:
            log.extend(m.entries)
        else:
            for entry in m.entries:
                index += 1
                if index < len(log):
                    if log[index].term == entry.term:
                        continue
                    self._truncate(index)
                log.append(entry)
        match = m.prev_index + len(m.entries)
        commit = min(m.commit, match)
        if commit > self.commit:
            self.commit = commit
        self.net.send(self.name, src, AppendReply(self.term, True, match, m.seq))

    def _truncate(self, index: int) -> None:
        if index <= self.commit:
            raise SafetyViolation(
                f"{self.name}: leader term {self.term} overwrites committed entry {index}"
            )
        del self.log[index:]

    def _on_append_reply(self, src: str, m: AppendReply) -> None:
        if m.term > self.term:
            self._step_down(m.term, None)
            return
        if self.role != LEADER or m.term != self.term:
            return
        self.heard[src] = self.sim.now
        if m.seq > self.acked_seq[src]:
            self.acked_seq[src] = m.seq
        if m.ok:
            if self.next_index[src] <= m.match:
                self.next_index[src] = m.match + 1
            if m.match > self.match_index[src]:
                self.match_index[src] = m.match
                self._advance_commit()
        else:
            self.next_index[src] = max(
                self.match_index[src] + 1, min(self.next_index[src] - 1, m.match + 1)
            )
        if m.seq == self.sent_seq[src]:
            self.inflight[src] = False
            self._after_reply(src)
        else:
            self._advance_reads()

    def _after_reply(self, src: str) -> None:
        if self.role == LEADER:
            self._advance_reads()
            if self.next_index[src] < len(self.log) or self._reads_need(src):
                self._send_append(src)

    def _reads_need(self, peer: str) -> bool:
        return bool(self.reads) and self.acked_seq[peer] < self.reads[-1][0]

    def _advance_commit(self) -> None:
        if self.role != LEADER:
            return
        matches = sorted((*self.match_index.values(), len(self.log) - 1), reverse=True)
        n = matches[self.majority - 1]
        if n > self.commit and self.log[n].term == self.term:
            self.commit = n
            self._apply()
            self._advance_reads()

    def _apply(self) -> None:
        log, sm = self.log, self.sm
        while self.applied < self.commit:
            self.applied += 1
            req = log[self.applied].req
            if req is None:
                continue
            typ, value, error = sm.apply(req)
            waiting = self.pending.pop(self.applied, None)
            if waiting is not None:
                self.reply(waiting, typ, value, error)

    def _advance_reads(self) -> None:
        """Answer the reads a quorum confirmed and the state reached; both bounds grow along
        ``reads`` (within a term), so the answerable ones are a prefix."""
        reads = self.reads
        if not reads or reads[0][1] > self.applied:
            return
        if self.majority > 1:
            acked = sorted(self.acked_seq.values(), reverse=True)
            confirmed = acked[self.majority - 2]
        else:
            confirmed = self.seq + 1
        done = 0
        for min_seq, read_index, req in reads:
            if min_seq > confirmed or read_index > self.applied:
                break
            self.reply(req, "ok", self.sm.read(req.key), None)
            done += 1
        del reads[:done]

    def handle(self, src: str, msg: Any) -> None:
        self._handlers[msg.__class__](src, msg)
