"""A target installs what a remote node lacks, with apt, and removes it again at teardown.

Debian's small ``hello`` package stands in for a server: the namespace nodes share this
machine's packages, so the test runs only where ``hello`` is not installed, and leaves it so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

from splitbrain.harness.control.node import Node, NodeStartError
from splitbrain.harness.control.service import ServiceTarget
from splitbrain.harness.control.ssh import SshCluster

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(600)]


def installed_here(package: str) -> bool:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return out.returncode == 0 and out.stdout.endswith(" installed")


class HelloTarget(ServiceTarget):
    name = "hello"
    packages = {"hello": "hello"}

    def services(self, node: Node) -> list[str]:
        return ["hello"]

    def argv(self, node: Node, service: str) -> list[str]:
        return ["/usr/bin/hello"]


class NoPackageTarget(HelloTarget):
    packages = {}


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=1) as cluster:
        yield cluster


@pytest.fixture
def node(sshd: SshTestCluster) -> Iterator[Node]:
    provider = SshCluster(sshd.options())
    try:
        yield provider.setup()[0]
    finally:
        provider.teardown()


@pytest.mark.skipif(
    installed_here("hello"), reason="hello is installed here, so it cannot be missing"
)
def test_missing_binary_is_installed_and_removed_at_teardown(node: Node, tmp_path: Path) -> None:
    # The namespace nodes have no route out; they share this machine's apt cache, so the
    # package is fetched here first and the node's own `apt-get install` finds it there.
    fetched = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--download-only", "hello"],
        capture_output=True,
        text=True,
    )
    assert fetched.returncode == 0, fetched.stderr
    target = HelloTarget()
    target._nodes = [node]
    try:
        target.ensure_installed(node)
        assert installed_here("hello")
        assert node.run(["/usr/bin/hello"]).stdout.strip() == "Hello, world!"
        assert target.installed == {node.name: ["hello"]}
    finally:
        errors = target.remove_installed()
    assert errors == []
    assert not installed_here("hello")


def test_a_binary_with_no_known_package_is_a_clear_error(node: Node) -> None:
    target = NoPackageTarget()
    target._nodes = [node]
    if installed_here("hello"):
        pytest.skip("hello is installed here")
    with pytest.raises(
        NodeStartError, match=r"/usr/bin/hello is missing and no package is known for hello"
    ):
        target.ensure_installed(node)
    assert target.installed == {}


def test_what_was_there_before_is_left_alone(node: Node) -> None:
    class SshdTarget(HelloTarget):
        packages = {"hello": "openssh-server"}

        def argv(self, node: Node, service: str) -> list[str]:
            return ["/usr/sbin/sshd"]

    target = SshdTarget()
    target._nodes = [node]
    target.ensure_installed(node)
    assert target.installed == {}
    assert target.remove_installed() == []
