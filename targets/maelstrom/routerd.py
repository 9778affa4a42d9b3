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
    network = Network(config["seed"], config["latency_ms"], config["latency_dist"])
    router = Router(
        network, Path(config["journal"]), config["seed"], log_stderr=config["log_stderr"]
    )
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
