"""JQL text to a syntax tree: clauses joined by AND/OR/NOT and parentheses, then ORDER BY.

The errors carry Jira's wording ("Error in the JQL Query: ... (line 1, character N)").
What the fields and values mean is decided by ``search.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import JiraError, bad_request

OPERATORS = ("=", "!=", ">=", "<=", ">", "<", "~", "!~")
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<open_string>["'])
  | (?P<op>!=|>=|<=|!~|=|>|<|~)
  | (?P<punct>[(),])
  | (?P<word>[^\s=!<>~(),"'{}*%^$#@\[\]]+(?:\[\d+\])?)
  | (?P<bad>\S)
)""",
    re.VERBOSE,
)
_VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | punct | word | end
    text: str
    pos: int

    def keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Value:
    text: str
    function: bool = False  # ``currentUser()``, ``now()``
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # = != > >= < <= ~ !~ in | not in | is | is not
    values: tuple[Value, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or | not
    parts: tuple[Node, ...]


Node = Clause | BoolOp


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def syntax_error(text: str, token: Token | None = None) -> JiraError:
    where = f" (line 1, character {token.pos + 1})" if token is not None else ""
    return bad_request(f"Error in the JQL Query: {text}{where}")


def tokenize(jql: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(jql):
        match = _TOKEN.match(jql, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup or "bad"
        text = match.group(kind)
        start = match.start(kind)
        if kind == "open_string":
            raise syntax_error(
                f"The quoted string '{jql[start + 1 :]}' has not been completed.", Token(kind, text, start)
            )
        if kind == "bad":
            escape = f"\\u{ord(text):04x}"
            raise syntax_error(
                f"The character '{text}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '{escape}' instead.",
                Token(kind, text, start),
            )
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, start))
    tokens.append(Token("end", "", len(jql)))
    return tokens


def parse(jql: str) -> Query:
    return _Parser(tokenize(jql)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def query(self) -> Query:
        where = None if self.tok.keyword("order") or self.tok.kind == "end" else self.disjunction()
        order: list[tuple[str, bool]] = []
        if self.tok.keyword("order"):
            self.take()
            if not self.tok.keyword("by"):
                raise syntax_error(f"Expecting 'by' but got '{self.tok.text}'.", self.tok)
            self.take()
            order.append(self.sort_key())
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.take()
                order.append(self.sort_key())
        if self.tok.kind != "end":
            raise syntax_error(f"Expecting either 'OR' or 'AND' but got '{self.tok.text}'.", self.tok)
        return Query(where, tuple(order))

    def sort_key(self) -> tuple[str, bool]:
        if self.tok.kind not in ("word", "string") or self.tok.text.lower() in _KEYWORDS:
            raise syntax_error(f"Expecting a field name but got '{self.tok.text}'.", self.tok)
        field = self.take().text
        descending = False
        if self.tok.keyword("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        return field, descending

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.tok.keyword("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.tok.keyword("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def negation(self) -> Node:
        if self.tok.keyword("not"):
            self.take()
            return BoolOp("not", (self.negation(),))
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            inner = self.disjunction()
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                raise syntax_error(f"Expecting ')' but got '{self.tok.text}'.", self.tok)
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        if self.tok.kind not in ("word", "string") or self.tok.text.lower() in _KEYWORDS:
            raise syntax_error(
                f"Expecting a field name but got '{self.tok.text or 'the end of the query'}'.", self.tok
            )
        field = self.take().text
        op = self.operator()
        if op in ("is", "is not"):
            if not self.tok.keyword("empty", "null"):
                raise syntax_error(f"Expecting 'EMPTY' or 'NULL' but got '{self.tok.text}'.", self.tok)
            self.take()
            return Clause(field, op, ())
        if op in ("in", "not in"):
            return Clause(field, op, self.value_list())
        return Clause(field, op, (self.value(),))

    def operator(self) -> str:
        tok = self.tok
        if tok.kind == "op":
            return self.take().text
        if tok.keyword("in"):
            self.take()
            return "in"
        if tok.keyword("is"):
            self.take()
            if self.tok.keyword("not"):
                self.take()
                return "is not"
            return "is"
        if tok.keyword("not") and self.tokens[self.i + 1].keyword("in"):
            self.i += 2
            return "not in"
        raise syntax_error(f"Expecting operator but got '{tok.text}'. {_VALID_OPERATORS}", tok)

    def value_list(self) -> tuple[Value, ...]:
        if not (self.tok.kind == "punct" and self.tok.text == "("):
            return (self.value(),)
        self.take()
        values = [self.value()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.take()
            values.append(self.value())
        if not (self.tok.kind == "punct" and self.tok.text == ")"):
            raise syntax_error(f"Expecting ')' but got '{self.tok.text}'.", self.tok)
        self.take()
        return tuple(values)

    def value(self) -> Value:
        tok = self.tok
        if tok.kind == "string":
            return Value(self.take().text)
        if tok.kind != "word" or tok.text.lower() in _KEYWORDS - {"empty", "null"}:
            if tok.kind == "end":
                raise syntax_error("Expecting either a value, list or function before the end of the query.")
            raise syntax_error(
                f"Expecting either a value, list or function but got '{tok.text}'. "
                f"You must surround '{tok.text}' in quotation marks to use it as a value.",
                tok,
            )
        self.take()
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            args = []
            while not (self.tok.kind == "punct" and self.tok.text == ")"):
                if self.tok.kind == "end":
                    raise syntax_error("Expecting ')' before the end of the query.")
                arg = self.take()
                if arg.kind != "punct":
                    args.append(arg.text)
            self.take()
            return Value(tok.text, function=True, args=tuple(args))
        return Value(tok.text)
