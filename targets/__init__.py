"""Systems under test. Adding one is a new module plus one line in ``TARGETS``."""

from __future__ import annotations

import importlib
from typing import Any

TARGETS: dict[str, str] = {
    "memory": "splitbrain.targets.memory:MemoryTarget",
    "sim": "splitbrain.targets.sim:SimTarget",
    "etcd": "splitbrain.targets.etcd:EtcdTarget",
    "redis": "splitbrain.targets.redis:RedisTarget",
    "maelstrom": "splitbrain.targets.maelstrom:MaelstromTarget",
}


def load(name: str) -> Any:
    """A new, not yet set up, target by name; raises KeyError for an unknown one."""
    module_name, _, attr = TARGETS[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)()
