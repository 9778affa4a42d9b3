"""The history record, the writer, and the three readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splitbrain.harness.base import edn
from splitbrain.harness.base.history import (
    _BATCH,
    HistoryError,
    HistoryWriter,
    Op,
    pairs,
    parse_edn,
    parse_jepsen_log,
    parse_jsonl,
    read_history,
)


def test_writer_flushes_each_line_before_close(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    writer = HistoryWriter(path)
    writer.append(Op(type="invoke", f="write", process=0, value=1, key="k"))
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {
        "index": 0,
        "process": 0,
        "type": "invoke",
        "f": "write",
        "key": "k",
        "value": 1,
    }
    writer.append(Op(type="ok", f="write", process=0, value=1, key="k"), clock=lambda: 42)
    assert json.loads(path.read_text().splitlines()[1])["time"] == 42
    writer.close()


def test_jsonl_round_trip_keeps_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    op = Op(
        type="info",
        f="cas",
        process=3,
        value=[1, 4],
        key="k7",
        time=10,
        node="n2",
        error="timeout",
        extra={"x": 1},
    )
    with HistoryWriter(path) as w:
        w.append(op)
    [back] = read_history(path).ops
    assert back == op


def test_truncated_last_line_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"index": 0, "process": 0, "type": "invoke", "f": "read", "value": null}\n{"index": 1, "proc'
    )
    loaded = read_history(path)
    assert len(loaded.ops) == 1
    assert loaded.warnings and "truncated" in loaded.warnings[0] and ":2:" in loaded.warnings[0]


def test_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"index": 0, "process": 0, "type": "invoke", "f": "read"}\nnot json\n{"index": 1}\n'
    )
    with pytest.raises(HistoryError) as e:
        read_history(path)
    assert str(e.value).startswith(f"{path}:2: not JSON")


def test_bad_op_type_names_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"index": 0, "process": 0, "type": "done", "f": "read"}\n')
    with pytest.raises(HistoryError, match=r":1: 'type' must be one of"):
        read_history(path)


def test_jepsen_log_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text(
        "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\n"
        "INFO  jepsen.core - some other log line\n"
        "INFO  jepsen.util - 3\t:fail\t:cas\t[1 4]\n"
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
        "INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n"
    )
    ops = read_history(path).ops
    assert [(o.process, o.type, o.f, o.value) for o in ops] == [
        (3, "invoke", "cas", [1, 4]),
        (3, "fail", "cas", [1, 4]),
        ("nemesis", "info", "start", None),
        (1, "fail", "read", "timed-out"),
    ]
    assert [o.index for o in ops] == [0, 1, 2, 3]


def test_edn_vector_and_per_line_forms(tmp_path: Path) -> None:
    vec = tmp_path / "a.edn"
    vec.write_text(
        "; comment\n[{:process 0, :type :invoke, :f :cas, :value [1 2]}\n {:process 0 :type :ok :f :cas :value [1 2]}]\n"
    )
    lines = tmp_path / "b.txt"
    lines.write_text('{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}\n')
    assert [o.type for o in read_history(vec).ops] == ["invoke", "ok"]
    [op] = read_history(lines).ops
    assert (op.f, op.key, op.value) == ("append", "0", "x 0 0 y")


def test_malformed_edn_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.edn"
    path.write_text("[{:process 0, :type :invoke, :f :read}\n {:process 1 :type :ok :f :read]\n")
    with pytest.raises(HistoryError, match=r"bad.edn:2: not EDN: expected '}' but found ']'"):
        read_history(path)


def test_edn_values() -> None:
    assert edn.loads('{:a [1 -2 3.5 "s\\"q" nil true :k/w #{1}] :b (1 2)}') == {
        "a": [1, -2, 3.5, 's"q', None, True, "k/w", frozenset({1})],
        "b": [1, 2],
    }
    assert edn.loads("#jepsen.history.Op{:f :read}") == {"f": "read"}
    assert edn.loads("[1 #_ 2 3]") == [1, 3]


def test_every_shared_history_reads(histories_dir: Path) -> None:
    verdicts = json.loads((histories_dir / "verdicts.json").read_text())
    for case in verdicts["cases"]:
        loaded = read_history(histories_dir / case["file"])
        if case["file"].endswith("etcd_095.log"):
            assert loaded.ops == []
        else:
            assert loaded.ops, case["file"]


def test_pairs_match_completions_and_mark_missing() -> None:
    h = [
        Op("invoke", "write", 0, 1),
        Op("invoke", "read", 1),
        Op("ok", "read", 1, 1),
        Op("invoke", "read", "nemesis"),
    ]
    got = [(p.invoke.process, p.outcome) for p in pairs(h)]
    assert got == [(0, "info"), (1, "ok")]


_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["invoke", "ok", "fail", "info", "read", "nemesis", "n1", ""]),
    st.lists(st.one_of(st.none(), st.integers(0, 3), st.floats(width=16), st.text(max_size=2))),
    st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2),
)
_FIELDS = ["index", "time", "process", "type", "f", "key", "value", "node", "error", "extra"]


_PLAIN_OP = {"index": 0, "process": 1, "type": "ok", "f": "read", "key": 2, "value": 3}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from(_FIELDS), _FIELD_VALUES, max_size=2),
            st.sets(st.sampled_from(list(_PLAIN_OP)), max_size=1),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_jsonl_reader_builds_what_from_dict_builds(changes: list[Any]) -> None:
    """The reader's direct path for plain fields and the checked path agree on every line,
    and refuse the same lines: each line is a plain op with a field or two changed or gone."""
    dicts = []
    for changed, gone in changes:
        d = {**_PLAIN_OP, **changed}
        for field in gone:
            d.pop(field, None)
        dicts.append(d)
    text = "".join(json.dumps(d) + "\n" for d in dicts)
    expected: list[Op] = []
    refused = None
    for i, d in enumerate(dicts):
        try:
            expected.append(Op.from_dict(json.loads(json.dumps(d)), len(expected)))
        except ValueError:
            refused = i + 1
            break
    try:
        got = parse_jsonl(text, "h.jsonl").ops
    except HistoryError as e:
        assert e.line == refused
    else:
        assert refused is None
        assert got == expected


@pytest.mark.parametrize(
    "text",
    ["nil", "0", "4", "007", "123456789012345678", "1234567890123456789", "[1 4]", "[01 4]"]
    + ["[1  4]", "[1 4 5]", "[-1 4]", "[nil 3]", ":timed-out", "-3", "\u0663"],
)
def test_jepsen_log_values_read_as_edn_reads_them(text: str) -> None:
    line = f"INFO  jepsen.util - 0\t:ok\t:read\t{text}\n"
    op = parse_jepsen_log(line).ops[0]
    assert op.value == edn.loads(text)
    assert type(op.value) is type(edn.loads(text))


@pytest.mark.parametrize("where", [0, 1, _BATCH - 1, _BATCH, _BATCH + 7])
def test_jsonl_batches_read_as_line_by_line(where: int) -> None:
    """A line that is not plain (extra field, blank, float, torn last line) anywhere in a
    file of several batches: every op, its line number and the warning as line by line."""
    dicts = [{**_PLAIN_OP, "index": i, "value": i} for i in range(2 * _BATCH + 10)]
    lines = [json.dumps(d) for d in dicts]
    lines[where] = json.dumps({**dicts[where], "extra": "x", "value": 1.5})
    lines.insert(where + 3, "")
    text = "\n".join(lines) + '\n{"index": 9'
    got = parse_jsonl(text, "h.jsonl")
    expected = [Op.from_dict(json.loads(line)) for line in lines if line]
    assert got.ops == expected
    assert got.lines == [i + 1 for i, line in enumerate(lines) if line]
    assert got.warnings == [
        f"h.jsonl:{len(lines) + 1}: last line is truncated (the run was killed?); ignored"
    ]
    lines[where + 10] = json.dumps({**dicts[where + 9], "type": "done"})
    with pytest.raises(HistoryError) as e:
        parse_jsonl("\n".join(lines), "h.jsonl")
    assert e.value.line == where + 11


_EDN_PLAIN_ATOMS = ["nil", "true", "false", "0", "7", "-12", "123456789012345678", "1.5"]
_EDN_PLAIN_ATOMS += [":ok", ":a/b", ":a:b", ":nil", ":", '"s"', '"a, [,b ]"', "-2e3", "()"]
_EDN_TRICKY_ATOMS = ["null", "-0", "007", "+5", "5N", "1e999", "1/2", "1234567890123456789"]
_EDN_TRICKY_ATOMS += ["sym", "\\a", "#{1 2}", "#_ 3", "{1 2}", "{:x nil}", '"x\\ny"', '"\\u0041"']
_EDN_TRICKY_ATOMS += ['"tab\there"', '"\x01"', "; c\n", "##Inf", '#inst "2020"', "'q", "1M", ".5"]
_EDN_TRICKY_ATOMS += ["[" * 70 + "]" * 70]
_EDN_ATOMS = st.one_of(
    st.sampled_from(_EDN_PLAIN_ATOMS),
    st.sampled_from(_EDN_PLAIN_ATOMS),
    st.sampled_from(_EDN_TRICKY_ATOMS),
)
_EDN_FORMS = st.recursive(
    _EDN_ATOMS,
    lambda inner: st.tuples(
        st.sampled_from(["[", "("]), st.lists(inner, max_size=4), st.sampled_from(["", " ", ","])
    ).map(lambda t: t[0] + t[2].join(t[1]) + {"[": "]", "(": ")"}[t[0]]),
    max_leaves=8,
)


def _typed(v: Any) -> Any:
    """``v`` with each scalar's type beside it: 1, 1.0 and True are not one value here."""
    if isinstance(v, dict):
        return {_typed(k): _typed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_typed(x) for x in v]
    return (type(v).__name__, repr(v))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_EDN_FORMS, _EDN_FORMS), max_size=5), st.sampled_from([" ", ", ", ""]))
def test_edn_plain_map_reads_as_the_reader_reads(pairs: list[Any], sep: str) -> None:
    """A line ``plain_map`` takes is read to the very value (and types) ``edn.loads`` gives."""
    line = "{" + sep.join(f"{k} {v}" for k, v in pairs) + "}"
    got = edn.plain_map(line)
    if got is not None:
        assert _typed(got) == _typed(edn.loads(line))


@pytest.mark.parametrize("atom", _EDN_PLAIN_ATOMS + _EDN_TRICKY_ATOMS)
def test_edn_plain_map_reads_each_token_as_the_reader_does(atom: str) -> None:
    for text in (atom, f"[{atom} :x]", f"{atom} {atom}"):
        try:
            value = _typed(edn.loads(text))
        except edn.EdnError:
            assert edn.plain_value(text) is edn.NOT_PLAIN
        else:
            got = edn.plain_value(text)
            assert got is edn.NOT_PLAIN or _typed(got) == value
    for line in (f"{{:k {atom}}}", f"{{:k [1 {atom}], :j ({atom} nil)}}", f"{{{atom} 1}}"):
        try:
            expected = _typed(edn.loads(line))
        except edn.EdnError:
            assert edn.plain_map(line) is None
            continue
        got = edn.plain_map(line)
        assert got is None or _typed(got) == expected
        if atom in _EDN_PLAIN_ATOMS and not line.startswith(f"{{{atom}"):
            assert got is not None, line


def test_edn_history_fast_and_read_lines_agree_with_the_reader(tmp_path: Path) -> None:
    """Plain op lines, a line that is not plain, plain ones again, then a form over two lines
    (the reader takes over there): the same ops and line numbers as the reader alone gives,
    and a bad line named by its own number."""
    lines = [
        "{:type :invoke, :f :write, :value [1 5], :process 0, :time 10, :index 0}",
        '{:type :ok, :f :write, :value [1 5], :process 0, :index 1, :node "n1"}',
        "",
        "{:type :info, :f :start, :value #{:n1}, :process :nemesis}",
        "{:type :invoke, :f :read, :value nil, :process 1, :time 12}",
        "{:type :ok, :f :read, :value 5, :process 1, :extra-field [1 2]}",
        "{:type :invoke, :f :write, :value 6,",
        " :process 2}",
        "{:type :ok, :f :write, :value 6, :process 2}",
    ]
    text = "\n".join(lines) + "\n"
    got = parse_edn(text, "h.edn")
    forms = [(n, r) for n, r in enumerate(lines, 1) if r and not r.startswith(" ")]
    forms[-2] = (forms[-2][0], forms[-2][1] + lines[-2])
    expected = [
        (line, Op.from_dict({str(k): v for k, v in edn.loads(raw).items()}, i))
        for i, (line, raw) in enumerate(forms)
    ]
    assert got.lines == [line for line, _ in expected]
    assert [o.index for o in got.ops] == list(range(7))
    assert [(o.type, o.f, o.process, o.value, o.key, o.node, o.extra) for o in got.ops] == [
        (op.type, op.f, op.process, op.value, op.key, op.node, op.extra) for _, op in expected
    ]
    with pytest.raises(HistoryError) as e:
        parse_edn(text + "{:type :ok, :f :read, :process 1 :value [}\n", "h.edn")
    assert e.value.line == len(lines) + 1
