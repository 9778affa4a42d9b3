"""splitbrain: a Jepsen-style consistency testing harness.

This module is the public, stable surface (``__all__``). Everything below
``splitbrain.harness``, ``splitbrain.checkers``, ``splitbrain.workloads`` and
``splitbrain.targets`` is internal and may change between releases.

- ``run(TestSpec(...))`` runs a test; its parts are registered names, ``module:attr``
  paths, or the user's own objects. It returns a ``RunResult``.
- ``check(history, model)`` checks a recorded history; it returns a ``CheckResult``.
- The protocols say what a part must have; the capability protocols are optional
  abilities the engine checks with ``isinstance``.
- Every error splitbrain raises on purpose is a ``SplitbrainError``, whose ``exit_code``
  is 254 for the user's input (``HarnessInputError``, ``PluginError``) and 255 for the
  harness or its environment (``HarnessFailure``). A checker that raises is no verdict:
  ``run`` stores the run, then raises ``CheckerFailed`` (a ``HarnessFailure``, 255) with
  the ``RunResult`` as its ``result``; ``unknown`` means only out of time or memory.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from splitbrain.harness.base.errors import (
        CheckerFailed,
        ExitCode,
        HarnessFailure,
        HarnessInputError,
        PluginError,
        SplitbrainError,
    )
    from splitbrain.harness.base.generator import Context, Invocation
    from splitbrain.harness.base.history import Op
    from splitbrain.harness.base.protocols import (
        Checker,
        Client,
        Configurable,
        ContributesResults,
        HasDefaultRate,
        HashesStates,
        HasLogs,
        HasNetworkNodes,
        HasWorkloadRates,
        Killable,
        LimitsNemeses,
        Model,
        Nemesis,
        OwnsNemeses,
        OwnsTime,
        Pausable,
        RefusesWorkloads,
        RunContext,
        RunsOnHosts,
        Runtime,
        Target,
        Workload,
    )
    from splitbrain.harness.base.verdict import Verdict
    from splitbrain.harness.engine.check import CheckResult, check
    from splitbrain.harness.engine.core import RunResult, TestSpec, run
    from splitbrain.harness.nemesis import NemesisKind
    from splitbrain.targets.server import (
        ClientContext,
        ConfigFile,
        ConfigValueError,
        NodeFile,
        ReadyCommand,
        ReadyPort,
        Server,
        ServerNode,
        ServerTarget,
        bare,
        double_quoted,
    )
    from splitbrain.workloads import Workload as WorkloadDefinition
    from splitbrain.workloads import WorkloadSpec

_LAZY: dict[str, tuple[str, str]] = {
    name: (module, name)
    for module, names in {
        "splitbrain.harness.base.errors": (
            "CheckerFailed",
            "ExitCode",
            "HarnessFailure",
            "HarnessInputError",
            "PluginError",
            "SplitbrainError",
        ),
        "splitbrain.harness.base.generator": ("Context", "Invocation"),
        "splitbrain.harness.base.history": ("Op",),
        "splitbrain.harness.base.protocols": (
            "Checker",
            "Client",
            "Configurable",
            "ContributesResults",
            "HasDefaultRate",
            "HashesStates",
            "HasLogs",
            "HasNetworkNodes",
            "HasWorkloadRates",
            "Killable",
            "LimitsNemeses",
            "Model",
            "Nemesis",
            "OwnsNemeses",
            "OwnsTime",
            "Pausable",
            "RefusesWorkloads",
            "RunContext",
            "RunsOnHosts",
            "Runtime",
            "Target",
            "Workload",
        ),
        "splitbrain.harness.base.verdict": ("Verdict",),
        "splitbrain.harness.engine.check": ("CheckResult", "check"),
        "splitbrain.harness.engine.core": ("RunResult", "TestSpec", "run"),
        "splitbrain.harness.nemesis": ("NemesisKind",),
        "splitbrain.targets.server": (
            "ClientContext",
            "ConfigFile",
            "ConfigValueError",
            "NodeFile",
            "ReadyCommand",
            "ReadyPort",
            "Server",
            "ServerNode",
            "ServerTarget",
            "bare",
            "double_quoted",
        ),
        "splitbrain.workloads": ("WorkloadSpec",),
    }.items()
    for name in names
} | {"WorkloadDefinition": ("splitbrain.workloads", "Workload")}
"""Public name -> (module, attribute), imported on first use (PEP 562): ``import splitbrain``
and every submodule import (``splitbrain check`` loads ``splitbrain.harness.front.cli``, which
loads this package first) stay cheap, and a name costs only what its own module costs. The
``TYPE_CHECKING`` imports above say the same to type checkers and editors;
``tests/test_startup.py`` checks the two agree."""


if not TYPE_CHECKING:  # so that type checkers still flag a name that is not public

    def __getattr__(name: str) -> Any:
        try:
            module, attr = _LAZY[name]
        except KeyError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


__version__ = "0.2.0"

__all__ = [
    "CheckResult",
    "Checker",
    "CheckerFailed",
    "Client",
    "Configurable",
    "Context",
    "ContributesResults",
    "ExitCode",
    "HarnessFailure",
    "HarnessInputError",
    "HasDefaultRate",
    "HasLogs",
    "HasNetworkNodes",
    "HasWorkloadRates",
    "HashesStates",
    "Invocation",
    "Killable",
    "LimitsNemeses",
    "Model",
    "Nemesis",
    "NemesisKind",
    "Op",
    "OwnsNemeses",
    "OwnsTime",
    "Pausable",
    "PluginError",
    "RefusesWorkloads",
    "RunContext",
    "RunResult",
    "RunsOnHosts",
    "Runtime",
    "SplitbrainError",
    "Target",
    "TestSpec",
    "Verdict",
    "Workload",
    "WorkloadDefinition",
    "WorkloadSpec",
    "__version__",
    "check",
    "run",
]

# A server process per node: the public base of targets such as etcd, Redis and yours.
__all__ += [
    "ClientContext",
    "ConfigFile",
    "ConfigValueError",
    "NodeFile",
    "ReadyCommand",
    "ReadyPort",
    "Server",
    "ServerNode",
    "ServerTarget",
    "bare",
    "double_quoted",
]
