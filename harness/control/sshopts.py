"""The options that say which remote nodes to use and how to reach them over SSH.

Kept apart from ``harness.control.ssh`` so the command line can offer them without
importing paramiko; ``harness.control.ssh.attach`` turns them into nodes.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from splitbrain.harness.base.protocols import HarnessInputError

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


@dataclass
class SshOptions:
    """How to reach the nodes; JSON-able, so a run's test.json can replay it."""

    hosts: list[str]
    user: str = "root"
    port: int = 22
    key: str | None = None
    known_hosts: str | None = None
    """None means ~/.ssh/known_hosts."""
    no_host_key_check: bool = False
    sudo: bool = False
    connect_timeout: float = 10.0
    connect_attempts: int = 3

    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SshOptions:
        return cls(**data)


def parse_host(spec: str, where: str, default_port: int) -> tuple[str, int]:
    """``host`` or ``host:port``; raises HarnessInputError naming ``where``."""
    host, sep, port_text = spec.strip().rpartition(":")
    if not sep:
        host, port_text = spec.strip(), str(default_port)
    if not host or any(c.isspace() for c in host) or host.startswith("-"):
        raise HarnessInputError(f"{where}: not a host name or address: {spec!r}")
    try:
        port = int(port_text)
    except ValueError:
        raise HarnessInputError(f"{where}: bad port in {spec!r}") from None
    if not 0 < port < 65536:
        raise HarnessInputError(f"{where}: port out of range in {spec!r}")
    return host, port


def read_nodes_file(path: Path) -> list[str]:
    """One host (or host:port) a line; blank lines and ``#`` comments are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise HarnessInputError(f"--nodes-file {path}: {e.strerror or e}") from None
    hosts = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if len(entry.split()) != 1:
            raise HarnessInputError(f"{path}:{number}: one host per line, got {entry!r}")
        parse_host(entry, f"{path}:{number}", 22)
        hosts.append(entry)
    if not hosts:
        raise HarnessInputError(f"--nodes-file {path}: no hosts in it")
    return hosts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The --nodes/--nodes-file/--ssh-*/--sudo options of `splitbrain test`."""
    g = parser.add_argument_group("remote nodes over SSH")
    g.add_argument("--nodes", default=None, help="comma-separated hosts (host or host:port)")
    g.add_argument("--nodes-file", default=None, help="file of hosts, one a line (# comments)")
    g.add_argument("--ssh-user", default="root", help="login user (default: root)")
    g.add_argument("--ssh-key", default=None, help="private key file (default: agent, ~/.ssh)")
    g.add_argument("--ssh-port", type=int, default=22, help="default port (default: 22)")
    g.add_argument(
        "--ssh-known-hosts",
        default=None,
        help="known_hosts pinning the host keys (default: ~/.ssh/known_hosts)",
    )
    g.add_argument(
        "--ssh-no-host-key-check",
        action="store_true",
        help="INSECURE: accept any host key (logged loudly)",
    )
    g.add_argument(
        "--sudo", action="store_true", help="prefix commands with `sudo -n` when not root"
    )


def options_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    """The JSON-able SSH options for TestSpec, or None when no nodes were given."""
    if args.nodes and args.nodes_file:
        raise HarnessInputError("give --nodes or --nodes-file, not both")
    if args.nodes:
        hosts = [h.strip() for h in args.nodes.split(",") if h.strip()]
        for h in hosts:
            parse_host(h, "--nodes", args.ssh_port)
    elif args.nodes_file:
        hosts = read_nodes_file(Path(args.nodes_file))
    else:
        return None
    if not 0 < args.ssh_port < 65536:
        raise HarnessInputError(f"--ssh-port {args.ssh_port}: out of range")
    if args.ssh_key and not Path(args.ssh_key).expanduser().is_file():
        raise HarnessInputError(f"--ssh-key {args.ssh_key}: no such file")
    if args.ssh_known_hosts and not Path(args.ssh_known_hosts).expanduser().is_file():
        raise HarnessInputError(f"--ssh-known-hosts {args.ssh_known_hosts}: no such file")
    options = SshOptions(
        hosts=hosts,
        user=args.ssh_user,
        port=args.ssh_port,
        key=args.ssh_key,
        known_hosts=args.ssh_known_hosts,
        no_host_key_check=args.ssh_no_host_key_check,
        sudo=args.sudo,
    )
    return options.to_dict()


def command_args(ssh: dict[str, Any] | None) -> list[str]:
    """The command-line words that replay ``ssh`` (for TestSpec.command())."""
    if not ssh:
        return []
    o = SshOptions.from_dict(ssh)
    words = ["--nodes", ",".join(o.hosts), "--ssh-user", o.user, "--ssh-port", str(o.port)]
    if o.key:
        words += ["--ssh-key", o.key]
    if o.known_hosts:
        words += ["--ssh-known-hosts", o.known_hosts]
    if o.no_host_key_check:
        words.append("--ssh-no-host-key-check")
    if o.sudo:
        words.append("--sudo")
    return words
