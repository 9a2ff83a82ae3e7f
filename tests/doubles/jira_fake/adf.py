"""Atlassian Document Format (Cloud's rich text) to and from plain/wiki text, for the shapes a sync meets."""

from __future__ import annotations

from typing import Any

from .errors import field_errors

Doc = dict[str, Any]

_MARKS = {"strong": "*{}*", "em": "_{}_", "code": "{{{{{}}}}}", "strike": "-{}-", "underline": "+{}+"}


def from_text(text: str) -> Doc:
    """Plain text as ADF: blank lines split paragraphs, single newlines become hard breaks.

    Wiki markup is kept as literal text (Cloud would parse it; the fake does not).
    """
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b]
    content = []
    for block in blocks:
        nodes: list[Doc] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def to_text(doc: Doc) -> str:
    """ADF as wiki markup, as Cloud's v2 API renders it (the common nodes and marks)."""
    return "\n\n".join(_block(node) for node in doc.get("content", []))


def _block(node: Doc) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "heading":
        return f"h{node.get('attrs', {}).get('level', 1)}. " + _inline(children)
    if kind in ("bulletList", "orderedList"):
        bullet = "*" if kind == "bulletList" else "#"
        return "\n".join(
            f"{bullet} " + " ".join(_block(c) for c in item.get("content", [])) for item in children
        )
    if kind == "codeBlock":
        return "{code}" + _inline(children) + "{code}"
    if kind in ("paragraph", "text", "hardBreak"):
        return _inline(children if kind == "paragraph" else [node])
    return "\n\n".join(_block(c) for c in children)


def _inline(nodes: list[Doc]) -> str:
    out = []
    for node in nodes:
        if node.get("type") == "hardBreak":
            out.append("\n")
            continue
        text = str(node.get("text", ""))
        for mark in node.get("marks", []):
            if mark.get("type") == "link":
                text = f"[{text}|{mark.get('attrs', {}).get('href', '')}]"
            elif mark.get("type") in _MARKS:
                text = _MARKS[mark["type"]].format(text)
        out.append(text)
    return "".join(out)


def require_doc(value: Any, field: str) -> Doc:
    """The v3 API takes rich text only as an ADF document; anything else is Cloud's 400."""
    if (
        not isinstance(value, dict)
        or value.get("type") != "doc"
        or value.get("version") != 1
        or not isinstance(value.get("content"), list)
    ):
        raise field_errors(
            {field: "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}
        )
    return value


def is_empty(doc: Doc) -> bool:
    return not to_text(doc).strip()
