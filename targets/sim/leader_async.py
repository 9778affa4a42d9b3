"""leader-async: one leader acknowledges writes as soon as it has applied them, and ships its
log to followers in batches every tick (10 ms). Followers elect a new leader when the old
one goes quiet (no check-quorum: an isolated leader keeps serving). A node that rejoins
adopts the new leader's log and rolls its state back, dropping writes it had acknowledged.

Claim: not linearizable; loses acknowledged writes on failover; converges after heal.
"""

from __future__ import annotations

from splitbrain.targets.sim.leader_sync import LEADER, Entry, RaftNode, Vote
from splitbrain.targets.sim.nodes import TICK, Request, StateMachine


class AsyncLeaderNode(RaftNode):
    synchronous = False
    check_quorum = False

    def _on_vote(self, src: str, m: Vote) -> None:
        """A leader ignores elections: it keeps leading until it hears from a newer leader."""
        if self.role == LEADER:
            return
        super()._on_vote(src, m)

    def next_wake(self) -> int:
        return self.sim.now + TICK if self.role == LEADER else self.election_deadline

    def on_tick(self) -> None:
        if self.role == LEADER:
            for peer in self.peers:
                if not self.inflight[peer] and self.next_index[peer] <= self.last_index:
                    self._send_append(peer)
        super().on_tick()

    def _lead(self, req: Request) -> None:
        if req.f == "read":
            self.reply(req, "ok", self.sm.read(req.key), None)
            return
        self.log.append(Entry(self.term, req))
        self.pending[self.last_index] = req
        self._advance_commit()

    def _on_leader_append(self) -> None:
        self._advance_commit()

    def _advance_commit(self) -> None:
        if self.role == LEADER and self.commit < self.last_index:
            self.commit = self.last_index
            self._apply()

    def _after_reply(self, src: str) -> None:
        """Nothing more now: the next tick ships whatever accumulated."""

    def _truncate(self, index: int) -> None:
        """Drop a divergent suffix, even applied entries: roll the state back and replay."""
        del self.log[index:]
        if self.applied >= index:
            self.sm = StateMachine(self.cluster.kind)
            self.applied = 0
        self.commit = min(self.commit, index - 1)
        self._apply()
