"""The public base for targets that run one server process per node.

A user describes their server once (``Server``): the command that starts one node, with
placeholders such as ``{name}``, ``{address}``, ``{port}``, ``{peers}`` and ``{data_dir}``;
how to tell it is ready (a TCP port that accepts, or a command that exits 0); optional
configuration files; files of this machine the node needs (the server's own script or
binary, copied to every node, remote ones too); and a client class. ``ServerTarget`` then runs it on network-namespace
nodes or SSH nodes, with every fault splitbrain has: partitions and packet faults (on the
nodes' network), kill and restart on the same data directory, pause and resume.

Placeholders are substituted inside single argv elements, never through a shell, so a
value can never become a second argument. Values substituted into a configuration file go
through the file's ``quote`` function, which quotes them or refuses them.

The etcd and Redis targets are built on this base, as a user's own target would be.
"""

from __future__ import annotations

import re
import socket
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from splitbrain.harness.base.protocols import Client, HarnessInputError
from splitbrain.harness.control.node import Node
from splitbrain.harness.control.service import NodeProvider, ServiceTarget

READY_TIMEOUT = 1.0
"""Seconds one readiness probe (a TCP connect or a command) may take."""

BUILTIN_PLACEHOLDERS = ("name", "address", "port", "peers", "data_dir", "dir", "run_id")
"""Every command and config template may use these; ``-o`` option keys are placeholders too."""

_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=-]+")


class ConfigValueError(HarnessInputError):
    """A value cannot be written safely into a server's configuration file."""


def bare(value: str) -> str:
    """A config value written as is: only characters no config syntax gives a meaning."""
    if not _BARE.fullmatch(value):
        raise ConfigValueError(f"{value!r} may hold only letters, digits and _./:@%+,=-")
    return value


def double_quoted(value: str) -> str:
    """A config value as one double-quoted argument with backslash escapes (Redis's syntax,
    and C's): a quote or backslash is escaped, and every byte outside printable ASCII (a
    newline, say) becomes ``\\xHH``, so no value can end the line or start a directive."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isascii() and c.isprintable():
            out.append(c)
        else:
            out.extend(f"\\x{b:02x}" for b in c.encode())
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class ReadyPort:
    """Ready when this TCP port of the node accepts a connection (None: the server's port)."""

    port: int | None = None


@dataclass(frozen=True)
class ReadyCommand:
    """Ready when this command, run on the node with placeholders substituted, exits 0."""

    argv: tuple[str, ...]


Ready = ReadyPort | ReadyCommand


@dataclass(frozen=True)
class ConfigFile:
    """A file written into the node's directory (``{dir}``) before the server first starts."""

    name: str
    template: str
    quote: Callable[[str], str] = bare
    """Applied to every substituted value: returns it quoted, or raises ConfigValueError."""


@dataclass(frozen=True)
class NodeFile:
    """A file of this machine copied into the node's directory (``{dir}/NAME``) before the
    server first starts, on namespace and SSH nodes alike, with its permission bits: the
    server's own script or binary, so a remote node needs only what runs it."""

    name: str
    source: str
    """Its path on this machine."""


@dataclass(frozen=True)
class Server:
    """One server process per node: how to start it, and when it serves."""

    name: str
    """Names the process in logs (``logs/NODE/NAME.log``) and errors."""
    command: tuple[str, ...]
    """argv template; each element is substituted on its own."""
    port: int
    """The port clients (and ``{peers}``) use."""
    ready: Ready = ReadyPort()
    config: tuple[ConfigFile, ...] = ()
    files: tuple[NodeFile, ...] = ()
    package: str | None = None
    """Debian package holding ``command[0]``, installed on a remote node that lacks it."""


@dataclass(frozen=True)
class ServerNode:
    """One node as a client (and a placeholder) sees it."""

    name: str
    address: str
    port: int
    """The port of the node's first server: the one clients talk to."""
    index: int
    data_dir: str
    dir: str


@dataclass(frozen=True)
class ClientContext:
    """Everything a client class is built from: its node, the cluster, the run's settings."""

    process: int
    worker: int
    """Clients are bound to nodes by worker, so a retired process's successor keeps its node."""
    node: ServerNode
    nodes: tuple[ServerNode, ...]
    options: Mapping[str, str]
    operations: frozenset[str]
    """The operations the run's workload issues (``RunContext.operations``)."""
    op_timeout: float


ClientFactory = Callable[[ClientContext], Client]


def substitute(template: str, values: Mapping[str, str], where: str) -> str:
    """``template`` with each ``{placeholder}`` replaced; ``{{`` and ``}}`` are literal braces.

    Only plain names are accepted: no attribute access, indexing, conversion or format spec.
    """
    return render(template, values, where, lambda v: v)


def render(
    template: str, values: Mapping[str, str], where: str, quote: Callable[[str], str]
) -> str:
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise HarnessInputError(f"{where}: bad template {template!r}: {e}") from None
    for literal, field_name, spec, conversion in parsed:
        out.append(literal)
        if field_name is None:
            continue
        if spec or conversion or field_name not in values:
            known = ", ".join("{" + k + "}" for k in sorted(values))
            raise HarnessInputError(
                f"{where}: unknown placeholder {{{field_name}}} in {template!r}; known: {known}"
            )
        try:
            out.append(quote(values[field_name]))
        except ConfigValueError as e:
            raise ConfigValueError(f"{where}: {{{field_name}}} = {e}") from None
    return "".join(out)


@dataclass(frozen=True)
class Rendered:
    """A server's templates with every placeholder of one node substituted."""

    argv: list[str]
    config: dict[str, str]
    ready_argv: list[str] | None


def _check_node_file(file: NodeFile, where: str) -> None:
    if not file.name or "/" in file.name or file.name in (".", ".."):
        raise HarnessInputError(f"{where}: file name {file.name!r} must be one path component")
    if not Path(file.source).is_file():
        raise HarnessInputError(f"{where}: file {file.name!r}: no file {file.source}")


class ServerTarget(ServiceTarget):
    """A target whose nodes each run ``server`` (or the ``servers`` a node needs).

    Define one by subclassing (set ``name``, ``options``, ``server``, ``client_class``) or by
    constructing it: ``ServerTarget(name="kv", server=Server(...), client_class=KvClient)``.
    Hooks a subclass may override: ``servers`` (different servers on different nodes),
    ``placeholders`` (values of its own), ``new_client`` and ``after_start``.
    """

    name = "server"
    options: dict[str, str] = {"nodes": "3"}
    server: Server | None = None
    client_class: ClientFactory | None = None
    operations: frozenset[str] = frozenset()
    """The operations the client implements; by default the ``client_class``'s own
    ``operations``."""

    def __init__(
        self,
        provider: NodeProvider | None = None,
        *,
        name: str | None = None,
        server: Server | None = None,
        client_class: ClientFactory | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        if name is not None:
            self.name = name
        if server is not None:
            self.server = server
        if client_class is not None:
            self.client_class = client_class
        if options is not None:
            self.options = {"nodes": "3", **options}
        if not self.operations:
            self.operations = frozenset(getattr(self.client_class, "operations", ()))
        super().__init__(provider)
        self.settings: dict[str, str] = dict(self.options)
        """This run's ``-o`` options, defaults filled in; each is a placeholder too."""

    # Hooks.

    def servers(self, node: ServerNode) -> list[Server]:
        """The servers ``node`` runs, in start order (by default just ``server``)."""
        if self.server is None:
            raise HarnessInputError(
                f"target {self.name!r} sets no server and overrides no servers()"
            )
        return [self.server]

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        """Values of the target's own placeholders for ``server`` on ``node``."""
        return {}

    def new_client(self, ctx: ClientContext) -> Client:
        if self.client_class is None:
            raise HarnessInputError(f"target {self.name!r} sets no client_class")
        return self.client_class(ctx)

    # The cluster as hooks and clients see it.

    def cluster(self) -> tuple[ServerNode, ...]:
        return self._views([(n.name, n.address) for n in self._nodes])

    def _views(self, nodes: Sequence[tuple[str, str]]) -> tuple[ServerNode, ...]:
        views = []
        for index, (name, address) in enumerate(nodes):
            node_dir = self.base / name
            bare_view = ServerNode(name, address, 0, index, str(node_dir / "data"), str(node_dir))
            port = self.servers(bare_view)[0].port
            views.append(ServerNode(name, address, port, index, bare_view.data_dir, bare_view.dir))
        return tuple(views)

    def values(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        """Every placeholder's value for ``server`` on ``node``."""
        builtin = {
            "name": node.name,
            "address": node.address,
            "port": str(server.port),
            "peers": ",".join(f"{n.address}:{server.port}" for n in cluster if n != node),
            "data_dir": node.data_dir,
            "dir": node.dir,
            "run_id": self.ctx.run_id if self.ctx is not None else "",
        }
        return self.settings | builtin | self.placeholders(node, server, cluster)

    def render(self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]) -> Rendered:
        """Raises HarnessInputError for an unknown placeholder or a value config files refuse."""
        values = self.values(node, server, cluster)
        where = f"{self.name}: {node.name}: {server.name}"
        ready = server.ready
        return Rendered(
            [substitute(part, values, f"{where} command") for part in server.command],
            {
                f.name: render(f.template, values, f"{where} {f.name}", f.quote)
                for f in server.config
            },
            [substitute(p, values, f"{where} ready command") for p in ready.argv]
            if isinstance(ready, ReadyCommand)
            else None,
        )

    # ServiceTarget's hooks, answered from the Server descriptions.

    def configure(self, options: dict[str, str]) -> None:
        super().configure(options)
        shadowed = sorted(set(self.options) & set(BUILTIN_PLACEHOLDERS))
        if shadowed:
            raise HarnessInputError(
                f"target {self.name!r}: option {shadowed[0]!r} shadows a built-in placeholder"
            )
        self.settings = self.options | options

    def check(self) -> None:
        """Render every template: an unknown placeholder, or a value a config file refuses, is
        refused before anything starts (against stand-in nodes before the real ones exist)."""
        if self.client_class is None and type(self).new_client is ServerTarget.new_client:
            raise HarnessInputError(f"target {self.name!r} sets no client_class")
        cluster = self.cluster()
        if not cluster:
            cluster = self._views([(f"n{i + 1}", f"10.0.0.{i + 1}") for i in range(self.count)])
        for node in cluster:
            for server in self.servers(node):
                self.render(node, server, cluster)
                for file in server.files:
                    _check_node_file(file, f"{self.name}: {server.name}")

    def _view_of(self, node: Node) -> tuple[ServerNode, tuple[ServerNode, ...]]:
        cluster = self.cluster()
        return next(v for v in cluster if v.name == node.name), cluster

    def _rendered(self, node: Node, service: str) -> tuple[Server, Rendered]:
        view, cluster = self._view_of(node)
        server = next(s for s in self.servers(view) if s.name == service)
        return server, self.render(view, server, cluster)

    def services(self, node: Node) -> list[str]:
        return [s.name for s in self.servers(self._view_of(node)[0])]

    def package_of(self, node: Node, service: str) -> str | None:
        return self._rendered(node, service)[0].package

    def ensure_installed(self, node: Node) -> None:
        """Copy each server's files to the node, then check (and install) its binaries."""
        for server in self.servers(self._view_of(node)[0]):
            for file in server.files:
                source, dest = Path(file.source), self.node_dir(node) / file.name
                node.upload(source, dest)
                mode = f"{source.stat().st_mode & 0o777:o}"
                node.run(["chmod", mode, "--", str(dest)], timeout=30).check()
        super().ensure_installed(node)

    def argv(self, node: Node, service: str) -> list[str]:
        return self._rendered(node, service)[1].argv

    def prepare(self, node: Node, service: str) -> None:
        """Write the server's config files into the node's directory."""
        node.mkdir(self.data_dir(node))
        texts = self._rendered(node, service)[1].config
        local_dir = self.node_dir(node)
        if node.kind != "netns":
            assert self.ctx is not None
            local_dir = self.ctx.run_dir / "conf" / node.name
        for name, text in texts.items():
            local = local_dir / name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_text(text)
            if node.kind != "netns":
                node.upload(local, self.node_dir(node) / name)

    def ready(self, node: Node, service: str) -> bool:
        server, rendered = self._rendered(node, service)
        if rendered.ready_argv is not None:
            return node.run(rendered.ready_argv, timeout=READY_TIMEOUT * 5).ok
        assert isinstance(server.ready, ReadyPort)
        port = server.ready.port or server.port
        with socket.create_connection((node.address, port), timeout=READY_TIMEOUT):
            return True

    def client(self, process: int) -> Client:
        cluster = self.cluster()
        worker = self.worker_of(process)
        ctx = ClientContext(
            process=process,
            worker=worker,
            node=cluster[worker % len(cluster)],
            nodes=cluster,
            options=dict(self.settings),
            operations=self.ctx.operations if self.ctx is not None else frozenset(),
            op_timeout=self.ctx.op_timeout if self.ctx is not None else 5.0,
        )
        return self.new_client(ctx)
