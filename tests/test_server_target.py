"""The public server-per-node base: placeholders substituted inside argv elements, config
values quoted or refused, bad templates refused before anything is set up, and a target
built by construction (no subclass) serving, killed, restarted, paused and resumed, and a
server that exits while starting: the server's or the environment's failure, 255 in one
line (a command that is not there is the target's input, 254: tests/test_real_cli.py)."""

from __future__ import annotations

import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest
from real_helpers import leftovers, namespaces_of_runs_in, new_ctx

from conftest import eventually, run_cli
from splitbrain import (
    ClientContext,
    ConfigFile,
    ConfigValueError,
    HarnessInputError,
    NodeFile,
    ReadyCommand,
    Server,
    ServerTarget,
    bare,
    double_quoted,
)
from splitbrain.targets.redis import REDIS_CONF
from splitbrain.targets.server import render, substitute

VALUES = {"name": "n1", "address": "10.0.0.1", "port": "80", "data_dir": "/d i r"}


def test_placeholders_fill_single_argv_elements() -> None:
    assert substitute("http://{address}:{port}", VALUES, "here") == "http://10.0.0.1:80"
    assert substitute("{data_dir}", VALUES, "here") == "/d i r"
    assert substitute("{{literal}}", VALUES, "here") == "{literal}"


@pytest.mark.parametrize("template", ["{nmae}", "{name!r}", "{name:>9}", "{name.upper}", "{"])
def test_a_bad_placeholder_is_refused_naming_where(template: str) -> None:
    with pytest.raises(HarnessInputError, match=r"^kv command: .*"):
        substitute(template, VALUES, "kv command")


def test_config_values_are_quoted_or_refused() -> None:
    assert double_quoted('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert double_quoted("x\nsave 1 1") == '"x\\x0asave 1 1"'
    assert bare("10.0.0.1:80") == "10.0.0.1:80"
    with pytest.raises(ConfigValueError):
        bare("a b")
    with pytest.raises(ConfigValueError, match=r"^kv.conf: \{data_dir\} = '/d i r' may hold"):
        render("dir {data_dir}\n", VALUES, "kv.conf", bare)


def test_a_store_path_cannot_add_a_directive_to_redis_conf() -> None:
    values = {"address": "10.0.0.1", "port": "6379", "data_dir": '/s "t"\nlogfile x.log'}
    text = render(REDIS_CONF, values, "redis.conf", double_quoted)
    assert 'dir "/s \\"t\\"\\x0alogfile x.log"\n' in text
    assert not any(line.startswith("logfile") for line in text.splitlines())


def test_an_unknown_placeholder_is_refused_before_any_node(tmp_path: Path) -> None:
    target = ServerTarget(
        name="typo", server=Server("s", ("true", "{adress}"), 9), client_class=object
    )
    ctx = new_ctx(tmp_path)
    with pytest.raises(HarnessInputError, match=r"typo: n1: s command: unknown .*\{adress\}"):
        target.setup(ctx)
    assert leftovers(ctx.run_id) == []


PORT = 8765


def http_server(script: Path) -> Server:
    """The node runs ``script``, a file of this machine that the target ships to each node."""
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m http.server --bind "$@"\n')
    script.chmod(0o750)
    return Server(
        name="http",
        command=("{dir}/serve", "{address}", "{port}", "--directory", "{dir}"),
        port=PORT,
        ready=ReadyCommand((sys.executable, "-c", "import socket, sys; "
                            "socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)",
                            "{address}", "{port}")),
        config=(ConfigFile("index.html", "{name} of {greeting}\n", double_quoted),),
        files=(NodeFile("serve", str(script)),),
    )  # fmt: skip


def serves(address: str) -> bool:
    try:
        with socket.create_connection((address, PORT), timeout=1) as s:
            s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            s.settimeout(1)
            return b"of" in s.recv(4096) + s.recv(4096)
    except OSError:
        return False


@pytest.mark.real
@pytest.mark.timeout(120)
def test_a_constructed_target_serves_and_takes_kill_restart_and_pause(tmp_path: Path) -> None:
    target = ServerTarget(
        name="web",
        server=http_server(tmp_path / "serve.sh"),
        client_class=lambda c: c,
        options={"greeting": "hello world"},
    )
    target.configure({"greeting": "hi there"})
    ctx = new_ctx(tmp_path / "a dir", greeting="hi there")
    target.setup(ctx)
    try:
        ctx_of_2: ClientContext = target.client(1)  # type: ignore[assignment]
        assert (ctx_of_2.node.name, ctx_of_2.node.port) == ("n2", PORT)
        assert [n.name for n in ctx_of_2.nodes] == ["n1", "n2", "n3"]
        assert ctx_of_2.options["greeting"] == "hi there"
        index = Path(ctx_of_2.node.dir) / "index.html"
        assert index.read_text() == '"n2" of "hi there"\n'
        shipped = Path(ctx_of_2.node.dir) / "serve"
        assert shipped.read_text() == (tmp_path / "serve.sh").read_text()
        assert shipped.stat().st_mode & 0o777 == 0o750
        address = ctx_of_2.node.address
        assert serves(address)
        target.kill("n2")
        assert not serves(address)
        target.start("n2")
        assert eventually(lambda: serves(address))
        target.pause("n2")
        time.sleep(0.2)
        assert not serves(address)
        target.resume("n2")
        assert serves(address)
    finally:
        target.teardown()
    assert leftovers(ctx.run_id, str(ctx.run_dir)) == []


def test_a_target_without_a_client_is_refused_before_any_node(tmp_path: Path) -> None:
    target = ServerTarget(name="mute", server=Server("s", ("true",), 9))
    ctx = new_ctx(tmp_path)
    with pytest.raises(HarnessInputError, match=r"^target 'mute' sets no client_class$"):
        target.setup(ctx)
    assert leftovers(ctx.run_id) == []


TARGETS = textwrap.dedent("""
    import sys
    from splitbrain import Server, ServerTarget

    class Client:
        operations = frozenset({"read", "write", "cas"})

        def __init__(self, ctx): ...
        def invoke(self, op): return op.completion("fail", op.value)
        def close(self): ...

    class Crashes(ServerTarget):
        name = "crashes"
        server = Server("kvd", (sys.executable, "-c", "import sys; sys.exit('kvd: cannot bind')"), 9)
        client_class = Client
""")


@pytest.mark.real
@pytest.mark.timeout(120)
def test_a_server_that_exits_while_starting_is_one_line_exit_255(
    tmp_path: Path,
) -> None:
    (tmp_path / "mytargets.py").write_text(TARGETS)

    run = ["--target", "mytargets:Crashes", "--time-limit", "1", "--store", str(tmp_path / "runs")]
    done = run_cli("test", *run, cwd=tmp_path)
    assert done.returncode == 255, done.stderr
    lines = [x for x in done.stderr.splitlines() if not x.startswith("run directory:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    (crashed,) = lines
    assert crashed.startswith("splitbrain: n1: kvd exited while starting (kvd: cannot bind)")
    assert crashed.endswith("logs/n1/kvd.log")
    (tmp_path / "claims.yaml").write_text(
        "claims:\n  - {name: crashes, target: 'mytargets:Crashes', time_limit: 1}\n"
    )
    gate = run_cli("gate", "claims.yaml", "--store", str(tmp_path / "gate"), cwd=tmp_path)
    assert gate.returncode == 255 and "Traceback" not in gate.stderr, gate.stderr
    assert "claim 'crashes': n1: kvd exited while starting" in gate.stderr
    assert namespaces_of_runs_in(tmp_path) == []
