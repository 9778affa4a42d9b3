"""A generated corpus of malformed inputs for every reader: JSONL, EDN and Jepsen-log
histories, ``--init``, the claims loader, special files, and checker-level shapes.

``cases(directory)`` writes the files and returns one ``Case`` each: the command line, the
exit code it must give, and a piece of text the one line must hold (naming file and line).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

DEEP = 100_000
BIG_INT = "9" * 5000


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    code: int | None = 254
    """None: any verdict (0, 1, 2) or 254, but nothing else."""
    where: str = ""
    """Text the single output line must contain (the file, and the line where known)."""


def _op(**fields: object) -> dict[str, object]:
    return {
        "index": 0,
        "time": 0,
        "process": 0,
        "type": "invoke",
        "f": "read",
        "value": None,
    } | fields


def _raw_op(**fields: str) -> str:
    """A JSONL line with some fields given as raw JSON text (Infinity, 5,000 digits...)."""
    base = {k: json.dumps(v) for k, v in _op().items()}
    return "{" + ", ".join(f'"{k}": {v}' for k, v in (base | fields).items()) + "}"


def _jsonl_cases() -> dict[str, str]:
    """name -> JSONL text whose second line is the bad one."""
    good = json.dumps(_op()) + "\n"
    raw = {
        "time-infinity": _raw_op(time="Infinity"),
        "time-nan": _raw_op(time="NaN"),
        "time-1e400": _raw_op(time="1e400"),
        "index-1e400": _raw_op(index="1e400"),
        "index-neg-infinity": _raw_op(index="-Infinity"),
        "index-5000-digits": _raw_op(index=BIG_INT),
        "time-5000-digits": _raw_op(time=BIG_INT),
        "value-5000-digits": _raw_op(value=BIG_INT),
        "process-5000-digits": _raw_op(process=BIG_INT),
        "value-nan": _raw_op(value="NaN"),
        "value-huge-float": _raw_op(value="1" + "0" * 400 + ".5"),
        "value-deep-list": _raw_op(value="[" * DEEP + "]" * DEEP),
        "value-deep-map": _raw_op(value='{"a": ' * DEEP + "1" + "}" * DEEP),
        "value-deep-list-under-limit-python": _raw_op(value="[" * 900 + "]" * 900),
        "process-list": _raw_op(process="[1, 2]"),
        "process-dict": _raw_op(process='{"a": 1}'),
        "process-float": _raw_op(process="1.5"),
        "key-list": _raw_op(key="[1]"),
        "key-dict": _raw_op(key='{"k": 1}'),
        "index-string": _raw_op(index='"seven"'),
        "index-list": _raw_op(index="[7]"),
        "index-dict": _raw_op(index='{"i": 7}'),
        "index-bool": _raw_op(index="true"),
        "time-string": _raw_op(time='"noon"'),
        "time-fraction": _raw_op(time="1.5"),
        "type-missing": json.dumps({"process": 0, "f": "read"}),
        "type-unknown": _raw_op(type='"maybe"'),
        "type-list": _raw_op(type='["ok"]'),
        "f-missing": json.dumps({"process": 0, "type": "invoke"}),
        "f-dict": _raw_op(f='{"x": 1}'),
        "node-list": _raw_op(node="[1]"),
        "process-missing": json.dumps({"type": "invoke", "f": "read"}),
        "not-an-object": "[1, 2, 3]",
        "a-number": "42",
        "garbage": "this is not json",
        "torn-middle-line": '{"index": 1, "time": ',
    }
    return {name: good + line + "\n" + good for name, line in raw.items()}


def _edn_cases() -> dict[str, str]:
    """name -> EDN text whose bad form is on line 2."""
    good = "{:process 0, :type :invoke, :f :read, :value nil}\n"
    forms = {
        "deep-vector": "[" * DEEP + "]" * DEEP,
        "deep-map": "{:a " * DEEP + "1" + "}" * DEEP,
        "deep-set": "#{" * DEEP + "}" * DEEP,
        "deep-discard": "#_ " * DEEP + "1",
        "deep-tags": "#t " * DEEP + "1",
        "bad-unicode-escape": '{:process 0, :type :invoke, :f :read, :value "\\uZZZZ"}',
        "short-unicode-escape": '{:process 0, :type :invoke, :f :read, :value "\\u12"}',
        "bad-escape": '{:process 0, :type :invoke, :f :read, :value "\\q"}',
        "ratio-1-0": "{:process 0, :type :invoke, :f :read, :value 1/0}",
        "float-1e400": "{:process 0, :type :invoke, :f :read, :value 1e400}",
        "float-5000-digits": "{:process 0, :type :invoke, :f :read, :value " + BIG_INT + ".0}",
        "int-5000-digits": "{:process 0, :type :invoke, :f :read, :value " + BIG_INT + "}",
        "index-5000-digits": "{:process 0, :type :invoke, :f :read, :index " + BIG_INT + "}",
        "time-1e400": "{:process 0, :type :invoke, :f :read, :time 1e400}",
        "process-vector": "{:process [1 2], :type :invoke, :f :read}",
        "process-map": "{:process {:a 1}, :type :invoke, :f :read}",
        "process-set": "{:process #{1}, :type :invoke, :f :read}",
        "index-keyword": "{:process 0, :type :invoke, :f :read, :index :seven}",
        "key-map": "{:process 0, :type :invoke, :f :read, :key {:a 1}}",
        "unclosed-map": "{:process 0, :type :invoke",
        "odd-map": "{:process 0, :type}",
        "stray-close": "]",
        "mismatched-close": "[1 2}",
        "not-a-map": "42",
        "type-unknown": "{:process 0, :type :maybe, :f :read}",
        "hash-hash-inf": "{:process 0, :type :invoke, :f :read, :value ##Inf}",
        "unterminated-string": '{:process 0, :type :invoke, :f :read, :value "abc',
    }
    return {name: good + form + "\n" for name, form in forms.items()}


def _log_cases() -> dict[str, str]:
    """name -> Jepsen log text whose bad line is line 2."""
    good = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
    lines = {
        "process-5000-digits": f"INFO  jepsen.util - {BIG_INT}\t:invoke\t:read\tnil",
        "value-deep": "INFO  jepsen.util - 1\t:invoke\t:write\t" + "[" * DEEP + "]" * DEEP,
        "value-bad-unicode": 'INFO  jepsen.util - 1\t:invoke\t:write\t"\\uZZZZ"',
        "value-ratio-1-0": "INFO  jepsen.util - 1\t:invoke\t:write\t1/0",
        "value-1e400": "INFO  jepsen.util - 1\t:invoke\t:write\t1e400",
        "value-unclosed": "INFO  jepsen.util - 1\t:invoke\t:write\t[1 2",
        "not-an-op": "INFO  jepsen.util - something else entirely",
    }
    return {name: good + line + "\n" for name, line in lines.items()}


def _model_cases() -> dict[str, tuple[str, list[dict[str, object]], int]]:
    """name -> (model, ops, the line of the bad op): shapes only a checker can refuse."""

    def pair(f: str, invoked: object, done: object, p: int = 0) -> list[dict[str, object]]:
        return [
            {"process": p, "type": "invoke", "f": f, "value": invoked},
            {"process": p, "type": "ok", "f": f, "value": done},
        ]

    return {
        "list-append-short-mop": (
            "list-append",
            pair("txn", [["append", "x"]], [["append", "x"]]),
            2,
        ),
        "list-append-bad-f": (
            "list-append",
            pair("txn", [["write", "x", 1]], [["write", "x", 1]]),
            2,
        ),
        "list-append-not-list": ("list-append", pair("txn", 5, 5), 2),
        "list-append-read-dict": (
            "list-append",
            pair("txn", [["r", "x", None]], [["r", "x", {"a": 1}]]),
            2,
        ),
        "list-append-mop-dict": (
            "list-append",
            pair("txn", [{"f": "append"}], [{"f": "append"}]),
            2,
        ),
        "counter-add-string": ("counter", pair("add", "x", "x"), 2),
        "counter-add-dict": ("counter", pair("add", {"n": 1}, {"n": 1}), 2),
        "counter-add-list": ("counter", pair("add", [1], [1]), 2),
        "set-full-add-dict": ("set-full", pair("add", {"a": 1}, {"a": 1}), 1),
        "set-full-read-dict-element": ("set-full", pair("read", None, [{"a": 1}]), 2),
        "set-full-read-not-collection": ("set-full", pair("read", None, "nope"), 2),
        "set-full-add-nested-list": ("set-full", pair("add", [[1]], [[1]]), 1),
        "total-queue-enqueue-dict": ("total-queue", pair("enqueue", {"m": 1}, {"m": 1}), 1),
        "total-queue-dequeue-dict": ("total-queue", pair("dequeue", None, {"m": 1}), 2),
        "total-queue-drain-number": ("total-queue", pair("drain", None, 5), 2),
        "total-queue-drain-dict-message": ("total-queue", pair("drain", None, [{"m": 1}]), 2),
        "cas-register-ok-without-invoke": (
            "cas-register",
            [
                {"process": 1, "type": "invoke", "f": "read", "value": None},
                {"process": 0, "type": "ok", "f": "write", "value": 5},
                {"process": 1, "type": "ok", "f": "read", "value": 5},
            ],
            2,
        ),
        "register-info-without-invoke": (
            "register",
            [
                {"process": 1, "type": "invoke", "f": "read", "value": None},
                {"process": 1, "type": "ok", "f": "read", "value": 5},
                {"process": 0, "type": "info", "f": "write", "value": 5},
            ],
            3,
        ),
    }


def _txn_cases() -> dict[str, tuple[list[str], str, int]]:
    """name -> (selection flags, history text, the line of the bad op): rw-register, bank
    and kafka histories in JSONL and EDN whose completion (or invoke) is malformed."""
    rw_invoke = json.dumps(_op(f="txn", value=[["r", 1, None]]))
    rw_bad = {
        "mop-short": [["r"]],
        "mop-unknown-f": [["x", 1, 2]],
        "mop-long": [["w", 1, 2, 3]],
        "mop-null": [None],
        "mop-dict": [{"f": "w"}],
        "f-number": [[1, 1, 2]],
        "write-nil": [["w", 1, None]],
        "value-number": 5,
    }
    out: dict[str, tuple[list[str], str, int]] = {}
    for name, value in rw_bad.items():
        done = json.dumps(_op(f="txn", type="ok", index=1, value=value))
        out[f"rw-{name}.jsonl"] = (["--data-type", "rw-register"], f"{rw_invoke}\n{done}\n", 2)
    rw_edn = {"mop-short": "[[:r]]", "unknown-f": "[[:x 1 2]]", "inf": "[[:w 1 ##Inf]]"}
    rw_edn |= {"ratio": "[[:w 1 1/0]]", "nil-mop": "[nil]", "number": "5"}
    invoke = "{:index 0, :time 0, :process 0, :type :invoke, :f :txn, :value [[:r 1 nil]]}"
    for name, value in rw_edn.items():
        done = "{:index 1, :time 1, :process 0, :type :ok, :f :txn, :value " + value + "}"
        out[f"rw-{name}.edn"] = (["--data-type", "rw-register"], f"{invoke}\n{done}\n", 2)
    bank = {
        "read-list": ("read", None, [1, 2], 2),
        "read-string": ("read", None, "x", 2),
        "balance-string": ("read", None, {"0": "lots"}, 2),
        "balance-list": ("read", None, {"0": [100]}, 2),
        "balance-bool": ("read", None, {"0": True}, 2),
        "transfer-list": ("transfer", [1, 2, 3], None, 1),
        "transfer-no-amount": ("transfer", {"from": 1, "to": 2}, None, 1),
        "transfer-amount-string": ("transfer", {"from": 1, "to": 2, "amount": "x"}, None, 1),
        "unknown-f": ("withdraw", {"from": 1}, None, 1),
    }
    for name, (f, invoked, done, line) in bank.items():
        text = json.dumps(_op(f=f, value=invoked)) + "\n"
        text += json.dumps(_op(f=f, type="ok", index=1, value=done)) + "\n"
        out[f"bank-{name}.jsonl"] = (["--checker", "bank"], text, line)
    bank_edn = {"balance-keyword": "{0 :lots}", "balance-inf": "{0 ##Inf}", "vector": "[1 2]"}
    for name, value in bank_edn.items():
        text = "{:index 0, :time 0, :process 0, :type :invoke, :f :read, :value nil}\n"
        text += "{:index 1, :time 1, :process 0, :type :ok, :f :read, :value " + value + "}\n"
        out[f"bank-{name}.edn"] = (["--checker", "bank"], text, 2)
    for name, value in {"send-pair": ["k", 5], "poll-list": [1], "send-number": 5}.items():
        f = "poll" if name.startswith("poll") else "send"
        text = json.dumps(_op(f=f, value=None)) + "\n"
        text += json.dumps(_op(f=f, type="ok", index=1, value=value)) + "\n"
        out[f"kafka-{name}.jsonl"] = (["--checker", "kafka"], text, 2)
    return out


SELECTIONS = {
    "consistency-bogus": (["--consistency", "bogus"], "'bogus'"),
    "consistency-control": (["--consistency", "serial\x1bizable"], "control characters"),
    "consistency-empty": (["--consistency", ""], "no empty name"),
    "consistency-commas": (["--consistency", ",,"], "no empty name"),
    "assume-bogus": (["--assume", "bogus"], "--assume"),
    "assume-on-register": (["--assume", "wfr-keys", "--data-type", "register"], "--assume"),
    "checker-bogus": (["--checker", "bogus"], "'bogus'"),
    "checker-no-module": (["--checker", "nosuchmodule:x"], "nosuchmodule"),
    "checker-with-consistency": (["--checker", "bank", "--consistency", "serializable"], "bank"),
    "causal-on-rw-register": (["--consistency", "causal"], "causal"),
    "timeout-nan": (["--timeout", "nan"], "--timeout"),
}
"""name -> (flags, text the line must hold): selections refused for a good rw-register history."""

HERE = Path(__file__).resolve().parent
MAELSTROM = str(HERE / "maelstrom_nodes" / "echo.py")
MAELSTROM_FLAGS = {
    "latency-nan": (["--latency", "nan"], "latency"),
    "latency-inf": (["--latency", "inf"], "latency"),
    "latency-1e308": (["--latency", "1e308"], "latency"),
    "latency-dist-bogus": (["--latency-dist", "bogus"], "latency-dist"),
    "node-count-0": (["--node-count", "0"], "--node-count"),
    "node-count-100000": (["--node-count", "100000"], "--node-count"),
    "concurrency-0n": (["--concurrency", "0n"], "--concurrency"),
    "concurrency-1.5n": (["--concurrency", "1.5n"], "--concurrency"),
    "concurrency-nann": (["--concurrency", "nann"], "--concurrency"),
    "concurrency-2nn": (["--concurrency", "2nn"], "--concurrency"),
    "concurrency-1e9n": (["--concurrency", "1000000000n"], "concurrency"),
    "topology-bogus": (["--topology", "bogus"], "topology"),
    "key-count-0": (["--key-count", "0"], "keys"),
    "rate-nan": (["--rate", "nan"], "rate"),
    "time-limit-inf": (["--time-limit", "inf"], "time_limit"),
    "nemesis-interval-0": (["--nemesis", "partition", "--nemesis-interval", "0"], "interval"),
    "init-timeout-nan": (["--init-timeout", "nan"], "init-timeout"),
    "msgs-per-op-nan": (["--msgs-per-op", "nan"], "msgs-per-op"),
    "availability-1.5": (["--availability", "1.5"], "availability"),
    "stable-latency-p42": (["--stable-latency", "p42:100"], "stable-latency"),
    "stable-latency-nan": (["--stable-latency", "median:nan"], "stable-latency"),
    "consistency-models-bogus": (["--consistency-models", "bogus"], "consistency-models"),
    "bin-missing": (["--bin", "no/such/node"], "bin"),
    "bin-not-executable": (["--bin", str(HERE / "malformed_corpus.py")], "bin"),
}
"""name -> (flags, text the line must hold): ``maelstrom test`` refused before anything runs."""

TARGET_OPTIONS = {
    "args-unclosed-quote": ["-o", "args='unclosed"],
    "latency-nan": ["-o", "latency=nan"],
    "node-count-0": ["-o", "node-count=0"],
    "node-count-2000": ["-o", "node-count=2000"],
    "msgs-per-op-inf": ["-o", "msgs-per-op=inf"],
    "router-realtime-maybe": ["-o", "router-realtime=maybe"],
    "w-unknown": ["-w", "bogus=1"],
    "w-twice": ["-w", "recovery-time=1", "-w", "recovery-time=2"],
    "w-availability-nan": ["-w", "availability=nan"],
}
"""name -> flags: ``test --target maelstrom`` refused before anything runs."""

CLAIM_LIMITS = {
    "availability-nan": "availability: .nan",
    "availability-2": "availability: 2",
    "availability-word": "availability: most",
    "availability-during-bogus": "availability: {during: bogus, min_ok: 0.5}",
    "availability-min-ok-nan": "availability: {during: partition, min_ok: .nan}",
    "availability-ops-number": "availability: {during: partition, min_ok: 0.5, ops: 5}",
    "availability-extra-key": "availability: {during: partition, min_ok: 0.5, foo: 1}",
    "availability-no-min-ok": "availability: {during: partition}",
    "availability-ops-unknown": "availability: {during: run, min_ok: 0.5, ops: [frobnicate]}",
    "msgs-per-op-nan": "msgs_per_op: .nan",
    "msgs-per-op-negative": "msgs_per_op: -1",
    "msgs-per-op-list": "msgs_per_op: [1]",
    "msgs-per-op-bool": "msgs_per_op: true",
    "stable-latency-word": "stable_latency: fast",
    "stable-latency-p42": "stable_latency: {p42: 1}",
    "stable-latency-nan": "stable_latency: {median: .nan}",
    "stable-latency-nested": "stable_latency: {median: {a: 1}}",
    "assume-bogus": "assume: [bogus]",
    "consistency-bogus": "consistency: [bogus]",
    "workload-options-unknown": "workload_options: {bogus: 1}",
    "workload-options-list": "workload_options: [1]",
}
"""name -> a claim's line: limits and selections a claim refuses, in one line, before it runs."""


INITS = {
    "deep": "[" * DEEP + "]" * DEEP,
    "nan": "NaN",
    "infinity": "[Infinity]",
    "1e400": "1e400",
    "5000-digits": BIG_INT,
    "not-json": "{oops",
    "deep-under-python-limit": "[" * 900 + "]" * 900,
}

CLAIMS = {
    "not-yaml": "claims: [unclosed\n",
    "a-list": "- 1\n- 2\n",
    "no-claims": "defaults: {}\n",
    "claim-without-name": "claims:\n  - target: memory\n",
    "empty-claims": "claims: []\n",
}


def cases(directory: Path) -> list[Case]:
    """Write the corpus into ``directory``; one Case per input."""
    directory.mkdir(parents=True, exist_ok=True)
    out: list[Case] = []

    def check(
        name: str, text: str | bytes, model: str = "cas-register", line: int | None = 2
    ) -> None:
        path = directory / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        where = f"{path}:{line}:" if line is not None else str(path)
        out.append(Case(name, ["check", str(path), *_select(model)], where=where))

    for name, text in _jsonl_cases().items():
        check(f"{name}.jsonl", text)
    for name, text in _edn_cases().items():
        check(f"{name}.edn", text)
    for name, text in _log_cases().items():
        check(f"{name}.log", text)
    for name, (model, ops, line) in _model_cases().items():
        check(f"{name}.jsonl", "".join(json.dumps(op) + "\n" for op in ops), model, line)
    check(
        "not-utf8.jsonl",
        b'{"process": 0, "type": "invoke", "f": "read", "value": "\xff\xfe"}\n',
        line=None,
    )
    check("nul-bytes.jsonl", b"\0" * 4096, line=1)
    check("empty.jsonl", "", line=None)
    check("blank.jsonl", "\n\n   \n", line=None)
    check("unknown-format", "@@@ what is this\n", line=None)

    fifo = directory / "a-fifo.jsonl"
    os.mkfifo(fifo)
    out.append(Case("fifo", ["check", str(fifo), "--model", "register"], where=str(fifo)))
    out.append(Case("dev-zero", ["check", "/dev/zero", "--model", "register"], where="/dev/zero"))
    out.append(Case("dev-null", ["check", "/dev/null", "--model", "register"], where="/dev/null"))
    out.append(
        Case("directory", ["check", str(directory), "--model", "register"], where=str(directory))
    )
    missing = directory / "no-such-file.jsonl"
    out.append(Case("missing", ["check", str(missing), "--model", "register"], where=str(missing)))

    good = directory / "good.jsonl"
    good.write_text(json.dumps(_op()) + "\n" + json.dumps(_op(type="ok", index=1, time=1)) + "\n")
    for name, text in INITS.items():
        argv = ["check", str(good), "--model", "register", "--init", text]
        out.append(Case(f"init-{name}", argv, where="--init"))

    for name, text in CLAIMS.items():
        path = directory / f"claims-{name}.yaml"
        path.write_text(text)
        out.append(Case(f"claims-{name}", ["gate", str(path)], where=str(path)))
    for name, (flags, text, line) in _txn_cases().items():
        path = directory / name
        path.write_text(text)
        out.append(Case(name, ["check", str(path), *flags], where=f"{path}:{line}:"))
    rw = directory / "good-rw-register.jsonl"
    rw.write_text(
        json.dumps(_op(f="txn", value=[["w", 1, 2]]))
        + "\n"
        + json.dumps(_op(f="txn", type="ok", index=1, time=1, value=[["w", 1, 2]]))
        + "\n"
    )
    for name, (flags, where) in SELECTIONS.items():
        out.append(Case(f"select-{name}", ["check", str(rw), *flags], where=where))
    store = str(directory / "store")
    for name, (flags, where) in MAELSTROM_FLAGS.items():
        argv = ["maelstrom", "test", "-w", "echo", "--bin", MAELSTROM, "--store", store]
        out.append(Case(f"maelstrom-{name}", [*argv, "--node-count", "1", *flags], where=where))
    for name, flags in TARGET_OPTIONS.items():
        argv = ["test", "--target", "maelstrom", "--workload", "echo", "--store", store]
        argv += ["-o", f"bin={MAELSTROM}", "-o", "node-count=1", *flags]
        out.append(Case(f"maelstrom-target-{name}", argv, where=flags[-1].split("=")[0]))
    for name, text in CLAIM_LIMITS.items():
        path = directory / f"claim-{name}.yaml"
        workload = {"assume": "rw-register", "consistency": "rw-register"}.get(
            name.split("-")[0], "bank" if name.startswith("workload") else "register"
        )
        path.write_text(
            f"claims:\n  - name: c\n    workload: {workload}\n    time_limit: 0.5\n    {text}\n"
        )
        out.append(Case(f"claim-{name}", ["gate", str(path), "--store", store], where=str(path)))
    return out


CHECKERS = ("set-full", "counter", "total-queue")
CONSISTENCY = ("serializable",)


def _select(name: str) -> list[str]:
    """The flag that names ``name`` without a deprecation notice."""
    if name in CHECKERS:
        return ["--checker", name]
    if name in CONSISTENCY:
        return ["--consistency", name]
    return ["--model", name]


MODELS = ["register", "cas-register", "kv", "set", "queue", "mutex", "multi-register"]
MODELS += ["list-append", "serializable", "set-full", "counter", "total-queue"]
JUNK = ["[", "]", "{", "}", '"', "\\", ":", ",", "1e999", "NaN", "#_", "#{", "(", ")", "nil"]
JUNK += [":ok", ":invoke", "\n", "9" * 30, "1/0", "\\u", "##Inf", "null", '{"a": 1}', "[1, [2]]"]
JUNK += ['"process"', ":process", ":value", ":type", ":index", "-1", "0.5"]


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(text) + 1)
        roll = rng.random()
        if roll < 0.4:
            text = text[:pos] + rng.choice(JUNK) + text[pos:]
        elif roll < 0.7:
            text = text[:pos] + text[pos + rng.randint(1, 5) :]
        else:
            start = rng.randrange(len(text) + 1)
            text = text[:pos] + text[start : start + 30] + text[pos:]
    return text


def mutants(directory: Path, sources: list[Path], count: int, seed: int) -> list[Case]:
    """``count`` seeded random mutations of ``sources`` (real histories), each checked
    against a random model: a verdict or 254 in one line, never a crash."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = [
        (p.suffix or ".txt", p.read_text(encoding="utf-8", errors="replace")[:20_000])
        for p in sources
    ]
    out = []
    for i in range(count):
        suffix, text = rng.choice(texts)
        path = directory / f"mutant-{i}{suffix}"
        path.write_text(_mutate(text, rng))
        argv = ["check", str(path), *_select(rng.choice(MODELS)), "--timeout", "5"]
        out.append(Case(path.name, argv, code=None, where=str(path)))
    return out
