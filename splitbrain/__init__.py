"""splitbrain: a Jepsen-style consistency testing harness.

This module is the public, stable surface. Everything below ``splitbrain.harness``,
``splitbrain.checkers``, ``splitbrain.workloads`` and ``splitbrain.targets`` is internal
and may change between releases.
"""

from __future__ import annotations

from splitbrain.harness.core import RunResult, TestSpec, run
from splitbrain.harness.history import Op
from splitbrain.harness.protocols import Checker, Client, HarnessInputError, Model, Nemesis, Target
from splitbrain.targets.server import (
    ClientContext,
    ConfigFile,
    ConfigValueError,
    ReadyCommand,
    ReadyPort,
    Server,
    ServerNode,
    ServerTarget,
    bare,
    double_quoted,
)

__version__ = "0.2.0"

__all__ = [
    "Checker",
    "Client",
    "HarnessInputError",
    "Model",
    "Nemesis",
    "Op",
    "RunResult",
    "Target",
    "TestSpec",
    "__version__",
    "run",
]

# A server process per node: the public base of targets such as etcd, Redis and yours.
__all__ += [
    "ClientContext",
    "ConfigFile",
    "ConfigValueError",
    "ReadyCommand",
    "ReadyPort",
    "Server",
    "ServerNode",
    "ServerTarget",
    "bare",
    "double_quoted",
]
