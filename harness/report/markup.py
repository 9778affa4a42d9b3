"""Escaping and small HTML builders. Every value from the system under test goes through esc()."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

MAX_ITEMS = 200
MAX_TEXT = 2000


def esc(value: Any) -> str:
    """Text for HTML element content or a quoted attribute."""
    text = value if isinstance(value, str) else to_text(value)
    return html.escape(text, quote=True)


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))


def short(value: Any, limit: int = 80) -> str:
    text = to_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed_json(data: Any) -> str:
    """JSON safe inside <script>: no "<", ">", "&" or line separators survive unescaped."""
    text = json.dumps(data, default=str, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def href(path: str) -> str:
    """A relative link to a file: URL-quoted, then attribute-escaped."""
    return html.escape(quote(path), quote=True)


def verdict_class(valid: Any) -> str:
    if valid is True:
        return "valid"
    if valid is False:
        return "invalid"
    if valid == "unknown":
        return "unknown"
    return "none"


def verdict_text(valid: Any, crashed: bool = False) -> str:
    """The verdict in capitals; ERROR for a checker that raised (no verdict, not unknown)."""
    if crashed:
        return "ERROR"
    return {"valid": "VALID", "invalid": "INVALID", "unknown": "UNKNOWN"}.get(
        verdict_class(valid), "NOT CHECKED"
    )


def badge(valid: Any, crashed: bool = False) -> str:
    return f'<span class="badge {verdict_class(valid)}">{verdict_text(valid, crashed)}</span>'


def value_html(value: Any, depth: int = 0) -> str:
    """A JSON-like value as nested tables; long lists and strings are cut with a count."""
    if isinstance(value, dict):
        if not value:
            return "<code>{}</code>"
        if _is_matrix(value):
            return _matrix_html(value)
        rows = []
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                rows.append(
                    f'<tr><td colspan="2" class="more">… {len(value) - MAX_ITEMS} more</td></tr>'
                )
                break
            rows.append(f"<tr><th>{esc(str(k))}</th><td>{value_html(v, depth + 1)}</td></tr>")
        return f'<table class="kv">{"".join(rows)}</table>'
    if (
        isinstance(value, list)
        and value
        and depth < 6
        and any(isinstance(v, (dict, list)) for v in value)
    ):
        items = [f"<li>{value_html(v, depth + 1)}</li>" for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f'<li class="more">… {len(value) - MAX_ITEMS} more</li>')
        return f'<ol class="list" start="0">{"".join(items)}</ol>'
    text = to_text(value)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"… ({len(text)} characters)"
    cls = "multi" if "\n" in text else ""
    return f'<code class="{cls}">{esc(text)}</code>'


def _is_matrix(value: dict[Any, Any]) -> bool:
    """A dict of dicts of scalars, such as counts by f and type: drawn as one table."""
    if len(value) < 1 or len(value) > MAX_ITEMS:
        return False
    inner = list(value.values())
    if not all(isinstance(v, dict) and v for v in inner):
        return False
    return all(not isinstance(x, (dict, list)) for v in inner for x in v.values())


def _matrix_html(value: dict[Any, dict[Any, Any]]) -> str:
    cols: list[Any] = []
    for row in value.values():
        for c in row:
            if c not in cols:
                cols.append(c)
    head = "".join(f"<th>{esc(str(c))}</th>" for c in cols)
    body = []
    for name, row in value.items():
        cells = "".join(f"<td>{esc(to_text(row[c])) if c in row else ''}</td>" for c in cols)
        body.append(f"<tr><th>{esc(str(name))}</th>{cells}</tr>")
    return f'<table class="grid"><tr><th></th>{head}</tr>{"".join(body)}</table>'
