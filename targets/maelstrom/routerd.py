"""The router process's main: ``RouterProcess`` forks it (so it starts in milliseconds,
with nothing to import) and gives it one end of a socket pair and its configuration. Signals from the terminal (Ctrl-C reaches the whole process
group) are the harness's to handle: it tells the router when to shut down, and the router
also shuts down, killing every node, when the harness's end of the socket closes.
"""

from __future__ import annotations

import logging
import os
import signal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from splitbrain.targets.maelstrom.network import Network
from splitbrain.targets.maelstrom.router import ForwardLog, Router, log

REALTIME_PRIORITY = 1
"""The lowest real-time priority: above every normally scheduled process, below the
kernel's own real-time threads."""


def scheduling(realtime: bool) -> str:
    """Put this process under real-time round-robin scheduling if asked and allowed (the
    nodes it starts get normal scheduling back: reset on fork); says what it runs under.
    The router sleeps whenever nothing is due, and the kernel caps real-time tasks at 95 %
    of each CPU, so this cannot starve the machine."""
    if not realtime:
        return "normal"
    try:
        os.sched_setscheduler(
            0, os.SCHED_RR | os.SCHED_RESET_ON_FORK, os.sched_param(REALTIME_PRIORITY)
        )
    except OSError as e:
        return f"normal (real-time refused: {e.strerror})"
    return f"real-time round-robin, priority {REALTIME_PRIORITY}"


def main(fd: int, harness_fd: int, config: dict[str, Any]) -> None:
    """Route over ``fd`` until told to shut down; ``harness_fd`` (the harness's end, which
    a fork inherits) is closed first, so the harness going away is seen as end of file."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    os.close(harness_fd)
    conn = Connection(fd)
    log.addHandler(ForwardLog(conn))
    log.setLevel(logging.INFO)
    log.propagate = False
    router_scheduling = scheduling(config["realtime"])
    log.info("maelstrom router scheduling: %s", router_scheduling)
    network = Network(config["seed"], config["latency_ms"], config["latency_dist"])
    router = Router(
        network, Path(config["journal"]), config["seed"], log_stderr=config["log_stderr"]
    )
    router.scheduling = router_scheduling
    conn.send(("ready",))
    try:
        router.serve(conn)
    except BaseException as e:
        log.exception("the maelstrom router failed")
        try:
            conn.send(("error", f"{type(e).__name__}: {e}"))
        except OSError:
            pass
        raise
