"""A replicated key-value server (``kvexample.server``) and its splitbrain target."""

from kvexample.target import KvClient, KvTarget

__all__ = ["KvClient", "KvTarget"]
