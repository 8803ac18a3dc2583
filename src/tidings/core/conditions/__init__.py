"""One condition language: parsed once into a tree, evaluated in memory or (later) in SQL."""

from tidings.core.conditions.ast import Condition, Field, fields_of, to_text
from tidings.core.conditions.evaluate import Facts, evaluate
from tidings.core.conditions.parse import parse_condition, parse_field

__all__ = [
    "Condition",
    "Facts",
    "Field",
    "evaluate",
    "fields_of",
    "parse_condition",
    "parse_field",
    "to_text",
]
