"""YAML read safely: plain data only, within stated limits, refused in one line naming file and line.

On top of PyYAML's safe loader this refuses anchors and aliases (so no alias bomb can
expand), duplicate mapping keys (no silent last-wins), merge keys, non-scalar keys,
non-finite numbers (``.nan``, ``.inf``, ``1.0e+999``), integers longer than
``MAX_NUMBER_TEXT`` digits, nesting deeper than ``MAX_DEPTH``, files larger than
``MAX_BYTES`` and anything that is not a regular file (a FIFO would block forever).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from splitbrain.harness.base import bounds
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.values import MAX_NUMBER_TEXT

MAX_BYTES = 256 << 10
"""256 KiB: far above any claims file (the shipped ones are under 4 KiB), parsed in well under
a second."""
MAX_DEPTH = 32
"""Nested mappings and lists, at most."""
_MERGE = "tag:yaml.org,2002:merge"
_PROBLEM_CHARS = 120


class _Refused(yaml.MarkedYAMLError):
    def __init__(self, mark: Any, problem: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)


_CPARSER: Any = getattr(yaml, "cyaml", None) and getattr(yaml.cyaml, "CParser", None)
"""libyaml's event parser when PyYAML was built with it (several times faster), else None."""
_PARSER: tuple[type, ...] = (_CPARSER,) if _CPARSER else (Reader, Scanner, Parser)


class _Loader(Composer, *_PARSER, SafeConstructor, Resolver):  # type: ignore[misc]
    """The safe loader, with the composer in Python (so it can refuse what it meets) over the
    fastest event parser there is."""

    def __init__(self, stream: str) -> None:
        if _CPARSER:
            _CPARSER.__init__(self, stream)
        else:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "YAML anchors and aliases (&x, *x) are not allowed")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: set[tuple[str, str]] = set()
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE:
                raise _Refused(key.start_mark, "mapping keys must be plain names (no merge keys)")
            if (key.tag, key.value) in seen:
                raise _Refused(key.start_mark, f"duplicate key {brief(key.value)}")
            seen.add((key.tag, key.value))
        return node

    def construct_finite_float(self, node: yaml.ScalarNode) -> float:
        value = self.construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Refused(node.start_mark, f"not a finite number: {brief(node.value)}")
        return value

    def construct_short_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_NUMBER_TEXT:
            raise _Refused(node.start_mark, f"integer longer than {MAX_NUMBER_TEXT} characters")
        return self.construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_finite_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_short_int)


def read_text(path: Path, what: str) -> str:
    """A regular UTF-8 file of at most MAX_BYTES, read without blocking on a FIFO."""
    try:
        data = bounds.read_regular(path, MAX_BYTES)
    except (bounds.NotARegularFile, IsADirectoryError):
        raise HarnessInputError(f"{path}: cannot read {what}: not a regular file") from None
    except bounds.TooLarge:
        raise HarnessInputError(f"{path}: {what} larger than {MAX_BYTES // 1024} KiB") from None
    except OSError as e:
        raise HarnessInputError(f"{path}: cannot read {what}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HarnessInputError(f"{path}: not a UTF-8 text file (byte {e.start})") from None


def load(path: Path, what: str) -> tuple[Any, yaml.Node | None]:
    """The data in a YAML file, and its node tree (for pointing at lines in messages)."""
    text = read_text(path, what)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if not isinstance(e, _Refused):
            problem = f"malformed YAML: {problem}"
        raise HarnessInputError(f"{where}: {problem[:_PROBLEM_CHARS]}") from None
    finally:
        loader.dispose()
    return data, root
