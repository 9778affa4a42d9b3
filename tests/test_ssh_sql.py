"""PostgreSQL and MariaDB on an SSH node (a real sshd in a namespace of this machine):
initialized, run as the database user, killed and restarted there, through the run engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from real_helpers import traversable_store
from ssh_fixtures import SshTestCluster

from splitbrain.harness.engine import core

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=1) as cluster:
        yield cluster


@pytest.fixture
def store() -> Iterator[Path]:
    with traversable_store() as path:
        yield path


@pytest.mark.parametrize("target", ["postgres", "mariadb"])
def test_serializable_list_append_under_kill_over_ssh(
    target: str, sshd: SshTestCluster, store: Path
) -> None:
    spec = core.TestSpec(
        target=target, workload="list-append", nemesis=["kill"], concurrency=6,
        time_limit=5.0, keys=3, seed=3, store=str(store), nemesis_interval=1.5,
        model="serializable", settle=1.0, ssh=sshd.options().to_dict(),
    )  # fmt: skip
    result = core.run(spec)
    assert result.valid is True, result.results
    faults = [(o.f, o.value) for o in result.history if not o.is_client and o.type != "invoke"]
    assert ("kill", [sshd.addresses[0]]) in faults and ("start", [sshd.addresses[0]]) in faults
    ok = [o for o in result.history if o.is_client and o.type == "ok"]
    assert len(ok) >= 50 and {o.node for o in ok} == {sshd.addresses[0]}
    assert not result.teardown_errors and ssh_fixtures.leftovers(sshd) == []
