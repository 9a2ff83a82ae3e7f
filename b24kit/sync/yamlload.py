"""A line-aware YAML reader: plain data plus the line of every key, and ``${ENV}`` substitution."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from b24kit.errors import ConfigError

Path: TypeAlias = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false; ``yes``, ``no``, ``on``, ``off`` stay text (``NO`` is Norway)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_ENV = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Document:
    """A parsed YAML document: ``data`` and the 1-based line of each path in it."""

    source: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None


def parse_yaml(text: str, *, source: str, env: Mapping[str, str]) -> Document:
    """Parse ``text``; raise :class:`ConfigError` naming the line for syntax errors and bad keys.

    Duplicate keys are errors (YAML silently keeps the last one). Every ``${NAME}`` inside a
    string is replaced by ``env[NAME]``; ``$${`` writes a literal ``${``.
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", source=source) from None
    doc = Document(source=source, data=None)
    if node is None:
        return doc
    builder = _Builder(doc, env)
    doc.data = builder.build(node, ())
    return doc


class _Builder:
    def __init__(self, doc: Document, env: Mapping[str, str]) -> None:
        self.doc = doc
        self.env = env
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        value = self.constructor.construct_object(node, deep=True)
        if isinstance(value, str):
            return self._substitute(value, path, node.start_mark.line + 1)
        return value

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        self.constructor.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise ConfigError("a mapping key must be a plain value", source=self.doc.source, line=line)
            text = str(key_node.value)  # keys stay as written: YAML 1.1 would turn `yes:` into True
            if text in result:
                where = ".".join(str(p) for p in (*path, text))
                raise ConfigError(
                    f"duplicate key {text!r} (YAML would silently keep the last one)",
                    source=self.doc.source,
                    line=line,
                    field=where,
                )
            self.doc.lines[(*path, text)] = line
            result[text] = self.build(value_node, (*path, text))
            self.doc.lines[(*path, text)] = line
        return result

    def _substitute(self, text: str, path: Path, line: int) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1):
                return "${" + match.group(2) + "}"
            name = match.group(2)
            where = ".".join(str(p) for p in path)
            if not _ENV_NAME.fullmatch(name):
                raise ConfigError(
                    f"${{{name}}} is not an environment variable reference; only ${{NAME}} is substituted",
                    source=self.doc.source,
                    line=line,
                    field=where,
                )
            if name not in self.env:
                raise ConfigError(
                    f"environment variable {name} is not set",
                    source=self.doc.source,
                    line=line,
                    field=where,
                    suggestion=f"export {name}=... before running",
                )
            return self.env[name]

        return _ENV.sub(replace, text) if "$" in text else text
