"""Errors nemeses raise before a run starts."""

from __future__ import annotations

from splitbrain.harness.base.protocols import HarnessInputError


class NemesisUnsupported(HarnessInputError):
    """This fault cannot be injected on these nodes or this target; the message says why."""
