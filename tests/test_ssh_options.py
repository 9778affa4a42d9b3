"""The --nodes/--nodes-file/--ssh-* options and the quoted command lines (no server needed)."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.control.ssh import SshCluster, SshNode, attach
from splitbrain.harness.control.sshopts import (
    SshOptions,
    add_arguments,
    command_args,
    options_from_args,
)

pytestmark = [pytest.mark.ssh]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_nodes_means_local_nodes() -> None:
    assert options_from_args(parse()) is None


def test_the_options_module_does_not_import_paramiko() -> None:
    code = "import sys, splitbrain.harness.control.sshopts; assert 'paramiko' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_nodes_and_ssh_options_round_trip_to_a_replay_command(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    ssh = options_from_args(
        parse(
            "--nodes",
            "10.77.0.201, 10.77.0.202:2222",
            "--ssh-user",
            "deploy",
            "--ssh-known-hosts",
            str(known),
            "--sudo",
        )
    )
    assert ssh is not None
    options = SshOptions.from_dict(ssh)
    assert options.hosts == ["10.77.0.201", "10.77.0.202:2222"]
    assert (options.user, options.sudo, options.known_hosts) == ("deploy", True, str(known))
    replay = options_from_args(parse(*command_args(ssh)))
    assert replay == ssh
    cluster = SshCluster(options)
    assert [(n.host, n.port) for n in cluster.nodes] == [("10.77.0.201", 22), ("10.77.0.202", 2222)]


def test_nodes_file_with_comments(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    nodes.write_text("# the cluster\n10.77.0.201\n\n10.77.0.202  # second\n10.77.0.203:2200\n")
    ssh = options_from_args(parse("--nodes-file", str(nodes)))
    assert ssh is not None and ssh["hosts"] == ["10.77.0.201", "10.77.0.202", "10.77.0.203:2200"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("10.77.0.201\n10.77.0.202 10.77.0.203\n", r"nodes:2: one host per line"),
        ("10.77.0.201:http\n", r"nodes:1: bad port"),
        ("10.77.0.201:70000\n", r"nodes:1: port out of range"),
        ("# nothing\n", r"no hosts in it"),
        ("-oProxyCommand=x\n", r"nodes:1: not a host name"),
    ],
)
def test_bad_nodes_file_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    nodes = tmp_path / "nodes"
    nodes.write_text(content)
    with pytest.raises(HarnessInputError, match=message):
        options_from_args(parse("--nodes-file", str(nodes)))


def test_bad_option_combinations(tmp_path: Path) -> None:
    with pytest.raises(HarnessInputError, match="not both"):
        options_from_args(parse("--nodes", "a", "--nodes-file", "f"))
    with pytest.raises(HarnessInputError, match=r"--ssh-key .*: no such file"):
        options_from_args(parse("--nodes", "10.77.0.201", "--ssh-key", str(tmp_path / "nokey")))
    with pytest.raises(HarnessInputError, match="--nodes-file .*: No such file"):
        options_from_args(parse("--nodes-file", str(tmp_path / "absent")))
    with pytest.raises(HarnessInputError, match="listed twice"):
        SshCluster(SshOptions(hosts=["10.77.0.201", "10.77.0.201"]))


def test_commands_are_quoted_and_prefixed_with_sudo_only_when_not_root() -> None:
    hostile = "a b'c\"$(touch /tmp/x); `id`"
    deploy = SshNode("10.77.0.201", SshOptions(hosts=[], user="deploy", sudo=True))
    line = deploy.command_line(["echo", hostile], timeout=5)
    assert shlex.split(line) == [
        "sudo",
        "-n",
        "--",
        "timeout",
        "--kill-after=2",
        "5.000",
        "echo",
        hostile,
    ]
    root = SshNode("10.77.0.201", SshOptions(hosts=[], user="root", sudo=True))
    assert shlex.split(root.command_line(["echo", hostile])) == ["echo", hostile]


def test_attach_refuses_targets_without_nodes() -> None:
    class InProcess:
        name = "memory"

    with pytest.raises(HarnessInputError, match="'memory' runs no servers on nodes"):
        attach(InProcess(), SshOptions(hosts=["10.77.0.201"]).to_dict())
    assert attach(InProcess(), None).name == "memory"
