"""A small recursive-descent parser for conditions. It never evaluates code.

Grammar (lowest precedence first):

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" condition ")" | behaviour | comparison
    comparison := operand [ op operand | "is" ["not"] "null" | ["not"] ("in"|"contains") operand ]
    operand    := field | string | number | true | false | null | "[" literal, ... "]"
    field      := ("contact" | "event" | "trigger" | "consent" | "steps") ("." name)+

    behaviour  := "performed" events [where] [count] [within]
                | "last" events [where] ("more than" duration "ago" | within)
                | ("total" | "average" | "min" | "max") field "of" events [where] [within] op number
                | "count" "of" events [where] [within] op number
    events     := "any" ["event"] | name | string
    where      := "where" not          (parenthesise a where that joins with and/or)
    count      := ("at least" | "at most" | "exactly" | "more than" | "fewer than") number "times"
    within     := "within" duration    (30m, 7d, 2w, 1d12h)

`last X more than 60d ago` means X happened, and not within the last 60 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from tidings.core.conditions.ast import (
    ROOTS,
    Aggregate,
    And,
    Behaviour,
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
from tidings.core.duration import parse_duration
from tidings.core.errors import ConditionSyntaxError
from tidings.core.values import bad_character_at, number_problem, scrubbed, text_problem

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<duration>(?:\d+[smhdw])+(?![\w.]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
  | (?P<op>==|!=|<=|>=|<|>|=)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][\w]*(?:\.[A-Za-z_$][\w$-]*)*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "contains", "is", "null", "true", "false"}
_OPS = {"==": Op.EQ, "=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
_AGGREGATES = {
    "total": Aggregate.TOTAL,
    "sum": Aggregate.TOTAL,
    "average": Aggregate.AVERAGE,
    "avg": Aggregate.AVERAGE,
    "min": Aggregate.MIN,
    "max": Aggregate.MAX,
    "count": Aggregate.COUNT,
}
_COUNTS = {
    ("at", "least"): Op.GE,
    ("at", "most"): Op.LE,
    ("more", "than"): Op.GT,
    ("fewer", "than"): Op.LT,
    ("less", "than"): Op.LT,
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
#: Deepest nesting of parentheses, `not` and `where`; deeper text is refused, not recursed.
MAX_DEPTH = 64


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    if (pos := bad_character_at(text)) is not None:
        # Shown replaced in the message: the character itself cannot be encoded.
        raise ConditionSyntaxError(
            scrubbed(text), pos, f"the character {text[pos]!r} cannot be stored or compared"
        )
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
        self.depth = 0

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
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels; simplify the condition")
        self.depth += 1
        try:
            return self.parse_unary()
        finally:
            self.depth -= 1

    def parse_unary(self) -> Condition:
        if self.at_keyword("not"):
            self.take()
            return Not(self.parse_not())
        if self.token.kind == "punct" and self.token.text == "(":
            self.take()
            cond = self.parse_or()
            self.expect_punct(")")
            return cond
        if self.at_word("performed", "last", *_AGGREGATES):
            return self.parse_behaviour()
        return self.parse_comparison()

    # -- behaviour rules

    def at_word(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() in words

    def expect_word(self, word: str, why: str) -> None:
        if not self.at_word(word):
            raise self.fail(f"expected {word!r} {why}")
        self.take()

    def parse_behaviour(self) -> Condition:
        word = self.take().text.lower()
        if word == "performed":
            return self.parse_performed()
        if word == "last":
            return self.parse_last()
        aggregate = _AGGREGATES[word]
        prop: tuple[str, ...] = ()
        if aggregate is not Aggregate.COUNT:
            token = self.token
            is_field = token.kind == "word" and "." in token.text
            operand = self.parse_operand() if is_field else None
            if not (isinstance(operand, Field) and operand.root == "event"):
                raise self.fail(f"name the event property to add up, like {word} event.revenue")
            prop = operand.path
        self.expect_word("of", f"after {word}: {word} ... of EVENT")
        event = self.parse_event_name()
        where = self.parse_where()
        within = self.parse_within()
        token = self.token
        if token.kind != "op":
            raise self.fail(f"compare the {word} with a number, like > 500")
        self.take()
        value = self.parse_number("a number to compare with")
        return Behaviour(event, _OPS[token.text], value, where, within, aggregate, prop)

    def parse_performed(self) -> Behaviour:
        event = self.parse_event_name()
        where = self.parse_where()
        op, count = Op.GE, 1
        words = self.next_words()
        if words in _COUNTS or self.at_word("exactly"):
            op = _COUNTS.get(words, Op.EQ)
            self.index += 1 if op is Op.EQ else 2
            count_token = self.token
            times = self.parse_number("how many times")
            if not isinstance(times, int) or times < 0:
                raise self.fail("a number of times is a whole number, 0 or more", count_token)
            count = times
            if not self.at_word("time", "times"):
                raise self.fail("expected 'times' after the count")
            self.take()
        within = self.parse_within()
        return Behaviour(event, op, count, where, within)

    def parse_last(self) -> Condition:
        event = self.parse_event_name()
        where = self.parse_where()
        if self.at_word("within"):
            return Behaviour(event, Op.GE, 1, where, self.parse_within())
        if self.next_words() != ("more", "than"):
            raise self.fail("expected 'more than 60d ago' or 'within 60d' after last EVENT")
        self.index += 2
        age = self.parse_duration_token()
        self.expect_word("ago", "after the age: more than 60d ago")
        ever = Behaviour(event, Op.GE, 1, where)
        return And((ever, Not(Behaviour(event, Op.GE, 1, where, age))))

    def next_words(self) -> tuple[str, str]:
        # The end token is last, so past it there is nothing: pad rather than unpack short.
        ahead = [t.text.lower() for t in self.tokens[self.index : self.index + 2]]
        ahead += ["", ""]
        return ahead[0], ahead[1]

    def parse_event_name(self) -> str | None:
        token = self.token
        if token.kind == "word" and token.text.lower() == "any":
            self.take()
            if self.at_word("event"):
                self.take()
            return None
        if token.kind == "string":
            self.take()
            name = self.unquote(token)
        elif token.kind == "word" and "." not in token.text:
            self.take()
            name = token.text
        else:
            raise self.fail("expected an event name (or 'any event')")
        if not name:
            raise self.fail("an event name cannot be empty", token)
        return name

    def parse_where(self) -> Condition | None:
        if not self.at_word("where"):
            return None
        self.take()
        return self.parse_not()

    def parse_within(self) -> timedelta | None:
        if not self.at_word("within"):
            return None
        self.take()
        return self.parse_duration_token()

    def parse_duration_token(self) -> timedelta:
        token = self.token
        if token.kind != "duration":
            raise self.fail("expected a duration such as 30m, 7d or 2w")
        self.take()
        try:
            return parse_duration(token.text)
        except ValueError:
            raise self.fail(
                f"the window {token.text} is zero; give it a length, like 3d", token
            ) from None
        except OverflowError:
            raise self.fail(f"{token.text} is longer than any calendar holds", token) from None

    def parse_number(self, what: str) -> int | float:
        token = self.token
        if token.kind != "number":
            raise self.fail(f"expected {what}")
        return self.number(self.take())

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
            return Literal(self.unquote(token))
        if token.kind == "number":
            return Literal(self.number(self.take()))
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
                    "fields start with contact., event., trigger., consent. or steps.",
                    token,
                )
            if not rest:
                raise self.fail(f"name a field of {root}, like {root}.email", token)
            return Field(root, tuple(rest.split(".")))
        if token.kind == "end":
            raise self.fail("the condition ends too early; a value is missing")
        raise self.fail(f"expected a field or a value, found {token.text!r}")

    def unquote(self, token: _Token) -> str:
        """A string literal's value; text no database can store or compare is refused."""
        value = _unquote(token.text)
        if (why := text_problem(value)) is not None:
            raise self.fail(f"the string {why}", token)
        return value

    def number(self, token: _Token) -> int | float:
        """A number literal's value; one no database holds exactly is refused."""
        try:
            value = float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
        except ValueError:
            # Python refuses to read integers of thousands of digits.
            raise self.fail(f"the number {token.text[:20]}... is too long", token) from None
        if (why := number_problem(value)) is not None:
            raise self.fail(f"{token.text}: {why}", token)
        return value

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
