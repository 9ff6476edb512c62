"""Render the OpenAPI document as one self-contained HTML page: no scripts, no network."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 1.5em 4em;
color:#1d2430}
h1{margin-top:1.2em}h2{border-bottom:2px solid #dde3ea;padding-bottom:.2em;margin-top:2em}
h3{margin:1.6em 0 .3em;font-size:1.05em}code,pre{font-family:ui-monospace,monospace}
.op{border:1px solid #dde3ea;border-radius:6px;padding:.2em 1em 1em;margin:1em 0}
.m{display:inline-block;min-width:4.5em;text-align:center;border-radius:4px;color:#fff;
padding:0 .4em;margin-right:.6em;font-size:.85em;font-weight:600}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}
.delete{background:#c62828}.path{font-weight:600}
table{border-collapse:collapse;width:100%;margin:.4em 0}td,th{text-align:left;
vertical-align:top;border-top:1px solid #e8ecf0;padding:.25em .6em}th{font-size:.85em;
color:#5a6472}.req{color:#c62828}nav ul{columns:2}a{color:#1565c0;text-decoration:none}
.muted{color:#5a6472}
"""
_METHODS = ("get", "put", "post", "delete", "patch")
_CODE = re.compile(r"`([^`]+)`")
_LIMITS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minimum", "≥"),
    ("maximum", "≤"),
    ("pattern", "pattern"),
    ("format", "format"),
    ("default", "default"),
)


def _anchor(method: str, path: str) -> str:
    return "op-" + method + "-" + "".join(c if c.isalnum() else "-" for c in path)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_html(schema: Any) -> str:
    """Summarize a schema in a few words, linking named schemas."""
    if not isinstance(schema, dict):
        return "any"
    limits = [
        f"{label} {schema[key]}"
        for key, label in _LIMITS
        if key in schema and not (key == "default" and schema[key] is None)
    ]
    note = f' <span class="muted">({escape(", ".join(map(str, limits)))})</span>' if limits else ""
    return _kind_html(schema) + note


def _kind_html(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = escape(_ref_name(schema["$ref"]))
        return f'<a href="#schema-{name}">{name}</a>'
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(type_html(option) for option in schema[key])
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(json.dumps(value))}</code>" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_html(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_html(schema['additionalProperties'])}"
    return escape(kind if isinstance(kind, str) else " | ".join(kind))


def _inline(text: str) -> str:
    """Escape text, showing `quoted` parts as code."""
    return _CODE.sub(r"<code>\1</code>", escape(text))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_inline(part)}</p>" for part in text.split("\n\n") if part.strip())


def _parameters(op: dict[str, Any]) -> str:
    rows = "".join(
        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            escape(p["name"]),
            ' <span class="req">*</span>' if p.get("required") else "",
            escape(p["in"]),
            type_html(p.get("schema")),
            _inline(p.get("description", "")),
        )
        for p in op.get("parameters", [])
    )
    if not rows:
        return ""
    head = "<tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>"
    return f"<h4>Parameters</h4><table>{head}{rows}</table>"


def _content_html(content: dict[str, Any]) -> str:
    return "; ".join(
        f"<code>{escape(media)}</code> {type_html(item.get('schema'))}"
        for media, item in content.items()
    )


def _responses(op: dict[str, Any], shared: dict[str, Any]) -> str:
    rows = []
    for status, answer in op.get("responses", {}).items():
        if "$ref" in answer:
            answer = shared.get(_ref_name(answer["$ref"]), {})
        rows.append(
            f"<tr><td><b>{escape(status)}</b></td><td>{escape(answer.get('description', ''))}"
            f"</td><td>{_content_html(answer.get('content', {}))}</td></tr>"
        )
    head = "<tr><th>status</th><th>meaning</th><th>body</th></tr>"
    return f"<h4>Responses</h4><table>{head}{''.join(rows)}</table>"


def _operation(method: str, path: str, op: dict[str, Any], shared: dict[str, Any]) -> str:
    body = ""
    if "requestBody" in op:
        body = f"<h4>Body</h4><p>{_content_html(op['requestBody'].get('content', {}))}</p>"
    auth = "no token" if op.get("security") == [] else "bearer token"
    return (
        f'<div class="op" id="{_anchor(method, path)}"><h3><span class="m {method}">'
        f'{method.upper()}</span><span class="path">{escape(path)}</span></h3>'
        f"<p><b>{escape(op.get('summary', ''))}</b> "
        f'<span class="muted">({auth})</span></p>{_paragraphs(op.get("description", ""))}'
        f"{_parameters(op)}{body}{_responses(op, shared)}</div>"
    )


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    props = schema.get("properties", {})
    rows = "".join(
        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>".format(
            escape(key),
            ' <span class="req">*</span>' if key in required else "",
            type_html(prop),
            _inline(prop.get("description", "")),
        )
        for key, prop in props.items()
    )
    table = ""
    if rows:
        head = "<tr><th>field</th><th>type</th><th>description</th></tr>"
        table = f"<table>{head}{rows}</table>"
    elif "properties" not in schema:
        table = f"<p>{type_html(schema)}</p>"
    return (
        f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>'
        f"{_paragraphs(schema.get('description', ''))}{table}"
    )


def render(document: dict[str, Any]) -> str:
    """Return the whole document as an HTML page: operations by tag, then the schemas."""
    info = document.get("info", {})
    components = document.get("components", {})
    shared = components.get("responses", {})
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((method, path, item[method]))
    tags = [tag["name"] for tag in document.get("tags", []) if tag["name"] in by_tag]
    tags += sorted(set(by_tag) - set(tags))
    nav = "".join(
        f'<li><a href="#{_anchor(m, p)}"><span class="m {m}">{m.upper()}</span>{escape(p)}</a></li>'
        for tag in tags
        for m, p, _ in by_tag[tag]
    )
    sections = "".join(
        f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>'
        + "".join(_operation(m, p, op, shared) for m, p, op in by_tag[tag])
        for tag in tags
    )
    schemas = "".join(
        _schema(name, schema) for name, schema in components.get("schemas", {}).items()
    )
    title = escape(info.get("title", "API"))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{title} <small class="muted">{escape(info.get("version", ""))}</small></h1>'
        f"{_paragraphs(info.get('description', ''))}"
        f'<p>The machine-readable document: <a href="openapi.json">openapi.json</a> '
        f"(OpenAPI {escape(document.get('openapi', ''))}).</p>"
        f'<nav><ul>{nav}</ul></nav>{sections}<h2 id="schemas">Schemas</h2>{schemas}'
        "</body></html>"
    )
