"""Systems under test. Adding one is a new module plus one line in ``TARGETS``."""

from __future__ import annotations

import importlib
from typing import Any

from splitbrain.harness.protocols import HarnessInputError

TARGETS: dict[str, str] = {
    "memory": "splitbrain.targets.memory:MemoryTarget",
    "sim": "splitbrain.targets.sim:SimTarget",
    "etcd": "splitbrain.targets.etcd:EtcdTarget",
    "redis": "splitbrain.targets.redis:RedisTarget",
}


EXTRAS = {"redis": "redis", "requests": "etcd", "paramiko": "ssh"}
"""Server drivers, and the extra of ``pip install 'splitbrain[EXTRA]'`` that installs each."""


def load(name: str) -> Any:
    """A new, not yet set up, target by name; raises KeyError for an unknown one, and
    HarnessInputError when the target's server driver is not installed."""
    module_name, _, attr = TARGETS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        missing = (e.name or "").split(".")[0]
        if missing not in EXTRAS:
            raise
        raise HarnessInputError(
            f"target {name!r} needs the {missing} package: pip install 'splitbrain[{EXTRAS[missing]}]'"
        ) from None
    return getattr(module, attr)()
