"""Liquid templates: parsed once, rendered against a contact and the triggering event.

Liquid has no access to Python objects beyond the data it is given, so a marketer's
template cannot reach the file system, the database or the interpreter.

Every render is bounded, because it runs inside ingest (a journey advances, and its sends
render, in the transaction that stores the event) and a number in an event can drive a
loop. The bound is on counted work (loop iterations, nodes rendered, characters produced
by filters, output and local variables) and on time: the core reads no clock, so the shell
passes one in a `TimeLimit`, read every `TIME_CHECK_NODES` nodes where the nodes are
counted. A template that goes over a limit fails to render with a `RenderError` naming
the limit; the step holds that message with the reason and the journey goes on.

The counted budgets other than nodes (sorting or filtering long lists from an event,
copying or comparing long text) stop a render in under 50 ms. A send renders up to four
parts (subject, HTML, text, text derived from the HTML).
`python -m bench.render_worst` on the same machine at a load of 11 (wall time over 5
renders, and the worst CPU time of the rendering thread): without a time limit, the whole
node budget 110-401 ms (CPU 121 ms), 9,000 loop passes of three filters 149-413 ms (CPU
150 ms, within every counted limit), a catalogue of 100 items x 50 details 119-174 ms (CPU
48 ms), a welcome email 0.1 ms. With the shell's default limit (0.1 s of the thread's CPU
time) the first two stop at 100 ms of CPU and the catalogue renders. CPU time, not wall
time, so that a busy machine fails no render that fits: under that load the wall time of a
render was 3-4 times its CPU time, which is why ingest also bounds the wall time of all
its journeys together (`runtime/journeys.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from liquid import Environment, RenderContext
from liquid.ast import Node
from liquid.builtin.expressions.path import Path
from liquid.builtin.expressions.primitive import IntegerLiteral, RangeLiteral
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.include_tag import IncludeNode
from liquid.builtin.tags.render_tag import RenderNode
from liquid.exceptions import LiquidError, ResourceLimitError
from liquid.expression import Expression
from liquid.output import LimitedStringIO
from liquid.template import BoundTemplate

#: Loop iterations per render, counted over the whole render (nested loops multiply,
#: loops one after another add up). A catalogue of 100 items with 50 details each fits.
MAX_LOOP_ITERATIONS = 10_000
#: Nodes (text, output, tags) rendered per render, loop bodies counted on every pass.
MAX_NODES_RENDERED = 25_000
#: Characters of text and members of lists one render may read from variables and build
#: with filters, together: comparing, searching and copying cost in proportion to them.
MAX_READ_AND_BUILT = 1_000_000
#: A list member costs as much as this many characters: sorting or filtering a list of
#: objects takes about a microsecond per member, copying text a nanosecond per character.
ITEM_COST = 10
#: Bytes of output of one rendered part: far above any real email (Gmail clips at 102 kB).
MAX_OUTPUT_BYTES = 512_000
#: Bytes held in variables made by `assign` and `capture` (as sys.getsizeof counts them).
MAX_LOCALS_BYTES = 512_000
#: Nodes rendered between two readings of a `TimeLimit`'s clock: a node takes at most a
#: few microseconds under the counted limits, and a reading can cost two (a system call).
TIME_CHECK_NODES = 32


@dataclass(frozen=True)
class TimeLimit:
    """How long one render may take, by a clock the shell passes in (the core reads none).

    `clock` returns seconds that only grow (the shell's choice: the rendering thread's CPU
    time, so that other threads and processes on a busy machine do not count). Each
    render starts its own limit; it is checked every `TIME_CHECK_NODES` nodes.
    """

    seconds: float
    clock: Callable[[], float]


class TemplateLimitError(ResourceLimitError):
    """A render went over one of the limits above; the message names which."""


class _Budget:
    """What one render has spent so far; shared by the contexts a render creates."""

    __slots__ = ("characters", "deadline", "iterations", "nodes", "time_limit")

    def __init__(self, time_limit: TimeLimit | None = None) -> None:
        self.iterations = 0
        self.nodes = 0
        self.characters = 0
        self.time_limit = time_limit
        self.deadline = time_limit.clock() + time_limit.seconds if time_limit else 0.0

    def spend_iterations(self, count: int) -> None:
        self.iterations += count
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise TemplateLimitError(
                f"the template runs more than {MAX_LOOP_ITERATIONS:,} loop iterations", token=None
            )

    def spend_node(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES_RENDERED:
            raise TemplateLimitError(
                f"the template renders more than {MAX_NODES_RENDERED:,} tags and outputs",
                token=None,
            )
        if self.time_limit is not None and self.nodes % TIME_CHECK_NODES == 0:
            self.check_time(self.time_limit)

    def check_time(self, limit: TimeLimit) -> None:
        if limit.clock() > self.deadline:
            raise TemplateLimitError(
                f"the template takes more than {limit.seconds:g} s to render", token=None
            )

    def spend_characters(self, count: int, *, read: bool = False) -> None:
        self.characters += count
        # A value read may be long (an event's text); one a filter builds may not.
        if count > MAX_OUTPUT_BYTES and not read:
            raise TemplateLimitError(
                f"a filter builds more than {MAX_OUTPUT_BYTES:,} characters "
                f"(or {MAX_OUTPUT_BYTES // ITEM_COST:,} list items)",
                token=None,
            )
        if self.characters > MAX_READ_AND_BUILT:
            raise TemplateLimitError(
                f"the template reads and builds more than {MAX_READ_AND_BUILT:,} characters "
                f"(a list item counts as {ITEM_COST})",
                token=None,
            )


class _NodeMeter(list[str]):
    """Stands in for the context's (empty) list of disabled tags.

    python-liquid asks `if context.disabled_tags:` before rendering every node, which makes
    that truth test the one place to count every node rendered, loop bodies included.
    It stays falsy: no tag is disabled.
    """

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget

    def __bool__(self) -> bool:
        self.budget.spend_node()
        return False


class _LimitedContext(RenderContext):
    """A render context that charges loops, nodes and filters to one budget per render."""

    __slots__ = ("budget",)

    def __init__(
        self, template: BoundTemplate, *, budget: _Budget | None = None, **kwargs: Any
    ) -> None:
        super().__init__(template, **kwargs)
        parent = kwargs.get("parent_context")
        if budget is None:
            budget = parent.budget if isinstance(parent, _LimitedContext) else _Budget()
        self.budget: _Budget = budget
        self.disabled_tags = _NodeMeter(self.budget)

    def raise_for_loop_limit(self, length: int = 1) -> None:
        self.budget.spend_iterations(length)

    def filter(self, name: str, token: Any) -> Callable[..., object]:
        func = super().filter(name, token)
        budget = self.budget

        def charged(left: object, *args: object, **kwargs: object) -> object:
            # What a filter would build, when that is known beforehand, is charged before
            # it runs; what it reads was charged when the variable was read.
            budget.spend_characters(_expected_size(name, left, args))
            result = func(left, *args, **kwargs)
            if isinstance(result, str | list | tuple):
                budget.spend_characters(_size(result))
            return result

        return charged


def _size(value: object) -> int:
    """What handling a value costs: its characters, or its members at `ITEM_COST` each."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Sized) and not isinstance(value, Mapping):
        return len(value) * ITEM_COST
    return 1


def _expected_size(name: str, left: object, args: tuple[object, ...]) -> int:
    """What a filter that can multiply its input will produce, known before it runs:
    `replace` with a long replacement, or `join` with a long separator, can build far
    more text than their inputs hold."""
    if name == "replace" and len(args) >= 2 and isinstance(left, str):
        old, new = str(args[0]), str(args[1])
        return len(left) + left.count(old) * max(len(new) - len(old), 0)
    if name == "join" and isinstance(left, Sized) and not isinstance(left, str):
        separator = str(args[0]) if args else " "
        return len(separator) * max(len(left) - 1, 0)
    return 0


class _ChargedPath(Path):
    """A variable read that charges the length of its value: comparing, searching or
    filtering a long text costs in proportion to its length, and nothing else counts it."""

    __slots__ = ()

    def evaluate(self, context: RenderContext) -> object:
        value = super().evaluate(context)
        if isinstance(context, _LimitedContext):
            context.budget.spend_characters(_size(value), read=True)
        return value


class _BoundedRange(RangeLiteral):
    """A `(start..stop)` range that refuses to be longer than the iteration limit, so
    neither a loop (`reversed` copies it) nor a filter (`join`, `sort`) materialises it."""

    __slots__ = ()

    def _make_range(self, start: Any, stop: Any) -> range:
        made = super()._make_range(start, stop)
        if made.stop - made.start > MAX_LOOP_ITERATIONS:
            raise TemplateLimitError(
                f"the range ({self.start}..{self.stop}) has {made.stop - made.start:,} items, "
                f"more than the {MAX_LOOP_ITERATIONS:,} a template may loop over",
                token=None,
            )
        return made


class _LimitedTemplate(BoundTemplate):
    context_class = _LimitedContext


class _LimitedEnvironment(Environment):
    template_class = _LimitedTemplate
    output_stream_limit = MAX_OUTPUT_BYTES
    local_namespace_limit = MAX_LOCALS_BYTES


_ENV = _LimitedEnvironment(autoescape=False)
_HTML_ENV = _LimitedEnvironment(autoescape=True)


def _json(value: Any) -> str:
    """Shopify's `json` filter: a value as a JSON literal, for webhook bodies that must stay
    valid JSON whatever a contact's name contains."""
    return json.dumps(value, ensure_ascii=False, default=str)


for _env in (_ENV, _HTML_ENV):
    _env.filters["json"] = _json


class RenderError(Exception):
    """A template failed to parse or render; the message says where."""


def _expressions(expression: Expression) -> Iterable[Expression]:
    yield expression
    for child in expression.children():
        yield from _expressions(child)


def _nodes(nodes: Iterable[Node], static: RenderContext) -> Iterable[Node]:
    for node in nodes:
        yield node
        yield from _nodes(node.children(static, include_partials=False), static)


def expressions_of(template: BoundTemplate) -> list[Expression]:
    """Every expression in the template, nested ones included."""
    static = RenderContext(template)
    return [
        expression
        for node in _nodes(template.nodes, static)
        for top in node.expressions()
        for expression in _expressions(top)
    ]


def _bound(template: BoundTemplate) -> BoundTemplate:
    # The parser has no hook to choose the classes of ranges and variables; the bounded
    # subclasses add no state, so each parsed one becomes one in place.
    for found in expressions_of(template):
        if type(found) is RangeLiteral:
            found.__class__ = _BoundedRange
        elif type(found) is Path:
            found.__class__ = _ChargedPath
    return template


@lru_cache(maxsize=2048)
def compile_template(source: str, *, html: bool = False) -> BoundTemplate:
    """Parse a Liquid source once; HTML templates escape what they interpolate.

    Raises:
        RenderError: when the source is not valid Liquid.
    """
    try:
        return _bound((_HTML_ENV if html else _ENV).from_string(source))
    except LiquidError as exc:
        raise RenderError(str(exc).splitlines()[0]) from exc


def render(
    source: str,
    context: Mapping[str, Any],
    *,
    html: bool = False,
    time_limit: TimeLimit | None = None,
) -> str:
    """Render a Liquid source against `context`, within the limits above and `time_limit`.

    Raises:
        RenderError: when the source does not parse, a filter fails at render time, or
            the render goes over a limit (the message names it).
    """
    template = compile_template(source, html=html)
    try:
        if time_limit is None:
            return template.render(**context)
        budget = _Budget(time_limit)
        rendering = _LimitedContext(
            template, globals=template.make_globals(dict(context)), budget=budget
        )
        buffer = LimitedStringIO(limit=MAX_OUTPUT_BYTES)
        template.render_with_context(rendering, buffer)
        # A render shorter than TIME_CHECK_NODES nodes is judged once, at its end.
        budget.check_time(time_limit)
        return buffer.getvalue()
    except TemplateLimitError as exc:
        raise RenderError(str(exc).splitlines()[0]) from exc
    except ResourceLimitError as exc:
        raise RenderError(_limit_message(exc)) from exc
    except LiquidError as exc:
        raise RenderError(str(exc).splitlines()[0]) from exc
    except (ValueError, ArithmeticError) as exc:
        # Arithmetic filters keep Python's numbers: `times` in a loop builds integers of
        # thousands of digits, which Python refuses to write out, and floats overflow.
        raise RenderError(_arithmetic_message(exc)) from exc


def _arithmetic_message(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "integer string conversion" in text:
        # Python's default limit, which Tidings leaves as it is.
        return "the template's arithmetic makes a number of more than 4,300 digits"
    return f"the template's arithmetic failed: {text}"


def _limit_message(exc: ResourceLimitError) -> str:
    """python-liquid's own limits, said in terms of what the template did."""
    text = str(exc).splitlines()[0]
    if "output stream" in text:
        return f"the template writes more than {MAX_OUTPUT_BYTES:,} bytes"
    if "local namespace" in text:
        return f"the template's variables hold more than {MAX_LOCALS_BYTES:,} bytes"
    return text


#: Longest template source accepted at deploy: the node and iteration limits bound work
#: per node, and this bounds the nodes.
MAX_SOURCE_CHARS = 200_000
#: Tags that load other templates: no loader serves partials, so they could never render.
_PARTIAL_TAGS = (IncludeNode, RenderNode)


def limit_problems(source: str) -> list[tuple[str, str]]:
    """What can be known before rendering to break the limits, as (message, fix) pairs:
    a source too long, `include`/`render` tags, loops over literal ranges too long.

    Raises:
        RenderError: when the source is not valid Liquid.
    """
    problems: list[tuple[str, str]] = []
    if len(source) > MAX_SOURCE_CHARS:
        problems.append(
            (
                f"the template has {len(source):,} characters, more than {MAX_SOURCE_CHARS:,}",
                "move long content to a hosted page and link to it",
            )
        )
    template = compile_template(source)
    static = RenderContext(template)
    for node in _nodes(template.nodes, static):
        if isinstance(node, _PARTIAL_TAGS):
            problems.append(
                (
                    f"{{% {node.token.value} %}} loads another template, which Tidings "
                    "does not support",
                    "write the shared part into this template",
                )
            )
    for message in _literal_loop_problems(template.nodes, static, 1):
        hint = f"keep ranges, and loops nested in loops, under {MAX_LOOP_ITERATIONS:,} items"
        problems.append((message, hint))
        break
    return problems


def _literal_length(expression: Expression) -> int | None:
    """How many items `(a..b)` with literal integers has; None for anything else."""
    if not isinstance(expression, RangeLiteral):
        return None
    start, stop = expression.start, expression.stop
    if isinstance(start, IntegerLiteral) and isinstance(stop, IntegerLiteral):
        return max(stop.value - start.value + 1, 0)
    return None


def _literal_loop_problems(
    nodes: Iterable[Node], static: RenderContext, outer: int
) -> Iterable[str]:
    """Ranges, and nested loops over literal ranges, that pass the iteration limit."""
    for node in nodes:
        times = outer
        if isinstance(node, ForNode):
            length = _literal_length(node.expression.iterable)
            times = outer * (length if length is not None else 1)
            if length is not None and length <= MAX_LOOP_ITERATIONS < times:
                yield (
                    f"nested loops over literal ranges run {times:,} times, more than "
                    f"the {MAX_LOOP_ITERATIONS:,} iterations a render may take"
                )
                continue
        for expression in (e for top in node.expressions() for e in _expressions(top)):
            length = _literal_length(expression)
            if length is not None and length > MAX_LOOP_ITERATIONS:
                yield (
                    f"the range {expression} has {length:,} items, more than the "
                    f"{MAX_LOOP_ITERATIONS:,} a template may loop over"
                )
        yield from _literal_loop_problems(
            node.children(static, include_partials=False), static, times
        )


def variables_of(source: str) -> list[tuple[str, ...]]:
    """The global variable paths a template reads, such as ('contact', 'first_name')."""
    analysis = compile_template(source).analyze(include_partials=False)
    return [
        tuple(str(s) for s in var.segments) for uses in analysis.globals.values() for var in uses
    ]


@lru_cache(maxsize=512)
def text_source_from_html(source: str) -> str | None:
    """A plain-text Liquid source derived once from an HTML one, for the text part of an
    email that has no text of its own: rendering it per contact is much cheaper than
    turning each rendered HTML into text. Links show after their words, `[words](url)`.

    None when the derived source is not valid Liquid (a tag split across HTML
    attributes, say); the caller then derives the text from the rendered HTML.
    """
    from inscriptis import get_text  # imported when first needed: it pulls in lxml
    from inscriptis.model.config import ParserConfig

    text: str = get_text(source, ParserConfig(display_links=True)).strip() + "\n"
    try:
        compile_template(text)
    except RenderError:
        return None
    return text
