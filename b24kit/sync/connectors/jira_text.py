"""Jira rich text: plain text to and from the Atlassian Document Format (Cloud's REST v3 bodies)."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]

_LIST_BULLETS = {"bulletList": "- ", "orderedList": "1. "}


def to_adf(text: str | None) -> Doc | None:
    """Plain text as an ADF document: blank lines split paragraphs, single newlines are hard breaks.

    An empty text is ``None`` (Jira clears the field); the round trip ``from_adf(to_adf(t))`` gives
    ``t`` back for any text without trailing blank lines.
    """
    if text is None or not text.strip():
        return None
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    content = []
    for block in blocks:
        nodes: list[Doc] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def from_adf(value: Any) -> str | None:
    """An ADF document as plain text (marks dropped, links as ``text (href)``); text stays text."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return str(value)
    text = "\n\n".join(t for t in (_block(node) for node in value.get("content") or []) if t)
    return text or None


def _block(node: Doc) -> str:
    kind = node.get("type")
    children = node.get("content") or []
    if kind in _LIST_BULLETS:
        bullet = _LIST_BULLETS[kind]
        lines = []
        for item in children:
            inner = "\n".join(_block(c) for c in item.get("content") or [])
            lines.append(bullet + inner)
        return "\n".join(lines)
    if kind in ("paragraph", "heading", "codeBlock"):
        return _inline(children)
    if kind in ("text", "hardBreak", "mention", "emoji", "inlineCard"):
        return _inline([node])
    return "\n\n".join(t for t in (_block(c) for c in children) if t)


def _inline(nodes: list[Doc]) -> str:
    out: list[str] = []
    for node in nodes:
        kind = node.get("type")
        attrs = node.get("attrs") or {}
        if kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            out.append(str(attrs.get("text") or ""))
        elif kind == "emoji":
            out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        elif kind == "inlineCard":
            out.append(str(attrs.get("url") or ""))
        else:
            text = str(node.get("text", ""))
            href = next(
                (m.get("attrs", {}).get("href") for m in node.get("marks") or [] if m.get("type") == "link"),
                None,
            )
            out.append(f"{text} ({href})" if href and href != text else text)
    return "".join(out)
