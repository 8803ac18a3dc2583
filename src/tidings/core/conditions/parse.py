"""A small recursive-descent parser for conditions. It never evaluates code.

Grammar (lowest precedence first):

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" condition ")" | comparison
    comparison := operand [ op operand | "is" ["not"] "null" | ["not"] ("in"|"contains") operand ]
    operand    := field | string | number | true | false | null | "[" literal, ... "]"
    field      := ("contact" | "event" | "trigger" | "consent") ("." name)+
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tidings.core.conditions.ast import (
    ROOTS,
    And,
    Compare,
    Condition,
    Field,
    IsNull,
    Literal,
    Not,
    Op,
    Operand,
    Or,
    Scalar,
    Truthy,
)
from tidings.errors import ConditionSyntaxError

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
  | (?P<op>==|!=|<=|>=|<|>|=)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][\w]*(?:\.[A-Za-z_$][\w$-]*)*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "contains", "is", "null", "true", "false"}
_OPS = {"==": Op.EQ, "=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ConditionSyntaxError(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            word = match.group()
            if kind == "word" and word.lower() in _KEYWORDS:
                kind, word = "keyword", word.lower()
            tokens.append(_Token(kind, word, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(text: str) -> str:
    """The string a quoted literal means: JSON escapes (\\n, \\u001f), plus \\' in single quotes."""

    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u") and len(code) == 5:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(unescape, text[1:-1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, message: str, token: _Token | None = None) -> ConditionSyntaxError:
        return ConditionSyntaxError(self.text, (token or self.token).pos, message)

    def take(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.text in words

    def expect_punct(self, char: str) -> None:
        if self.token.kind != "punct" or self.token.text != char:
            raise self.fail(f"expected {char!r}")
        self.take()

    def parse(self) -> Condition:
        if self.token.kind == "end":
            raise self.fail("the condition is empty")
        cond = self.parse_or()
        if self.token.kind != "end":
            raise self.fail(f"unexpected {self.token.text!r}; join conditions with 'and' or 'or'")
        return cond

    def parse_or(self) -> Condition:
        items = [self.parse_and()]
        while self.at_keyword("or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Condition:
        items = [self.parse_not()]
        while self.at_keyword("and"):
            self.take()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Condition:
        if self.at_keyword("not"):
            self.take()
            return Not(self.parse_not())
        if self.token.kind == "punct" and self.token.text == "(":
            self.take()
            cond = self.parse_or()
            self.expect_punct(")")
            return cond
        return self.parse_comparison()

    def parse_comparison(self) -> Condition:
        start = self.token
        left = self.parse_operand()
        token = self.token
        if token.kind == "op":
            self.take()
            return Compare(_OPS[token.text], left, self.parse_operand())
        if self.at_keyword("is"):
            self.take()
            negated = self.at_keyword("not")
            if negated:
                self.take()
            if not self.at_keyword("null"):
                raise self.fail("expected 'null' after 'is'; compare values with ==")
            self.take()
            return IsNull(left, negated)
        negated = False
        if self.at_keyword("not") and self.tokens[self.index + 1].text in ("in", "contains"):
            self.take()
            negated = True
        if self.at_keyword("in", "contains"):
            word = self.take().text
            right_token = self.token
            right = self.parse_operand()
            if word == "in":
                op = Op.NOT_IN if negated else Op.IN
                if isinstance(right, Literal) and not isinstance(right.value, tuple):
                    raise self.fail('\'in\' needs a list such as ["a", "b"]', right_token)
            else:
                op = Op.NOT_CONTAINS if negated else Op.CONTAINS
            return Compare(op, left, right)
        if isinstance(left, Literal):
            raise self.fail("a constant alone is not a condition; compare it with a field", start)
        return Truthy(left)

    def parse_operand(self) -> Operand:
        token = self.token
        if token.kind == "string":
            self.take()
            return Literal(_unquote(token.text))
        if token.kind == "number":
            self.take()
            is_float = any(c in token.text for c in ".eE")
            return Literal(float(token.text) if is_float else int(token.text))
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            self.take()
            return Literal({"true": True, "false": False, "null": None}[token.text])
        if token.kind == "punct" and token.text == "[":
            return Literal(self.parse_list())
        if token.kind == "word":
            self.take()
            root, _, rest = token.text.partition(".")
            if root not in ROOTS:
                raise self.fail(
                    f"unknown name {token.text!r}; "
                    "fields start with contact., event., trigger. or consent.",
                    token,
                )
            if not rest:
                raise self.fail(f"name a field of {root}, like {root}.email", token)
            return Field(root, tuple(rest.split(".")))
        if token.kind == "end":
            raise self.fail("the condition ends too early; a value is missing")
        raise self.fail(f"expected a field or a value, found {token.text!r}")

    def parse_list(self) -> tuple[Scalar, ...]:
        self.expect_punct("[")
        values: list[Scalar] = []
        while not (self.token.kind == "punct" and self.token.text == "]"):
            item = self.parse_operand()
            if not isinstance(item, Literal) or isinstance(item.value, tuple):
                raise self.fail("a list holds constants only")
            values.append(item.value)
            if self.token.kind == "punct" and self.token.text == ",":
                self.take()
            elif not (self.token.kind == "punct" and self.token.text == "]"):
                raise self.fail("expected ',' or ']' in the list")
        self.take()
        return tuple(values)


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """Parse condition text into its tree.

    Raises:
        ConditionSyntaxError: with the column of the mistake and what was expected.
    """
    return _Parser(text).parse()


@lru_cache(maxsize=1024)
def parse_field(text: str) -> Field:
    """Parse a lone field path such as `event.cart_id`.

    Raises:
        ConditionSyntaxError: when the text is not exactly one field path.
    """
    parser = _Parser(text)
    operand = parser.parse_operand()
    if not isinstance(operand, Field) or parser.token.kind != "end":
        raise ConditionSyntaxError(text, 0, "expected one field path, like event.cart_id")
    return operand
