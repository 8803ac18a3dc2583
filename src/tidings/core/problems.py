"""A problem found in user input: where it is, what is wrong, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow or condition, with its path and a fix."""

    path: str
    message: str
    hint: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        text = f"{text} ({self.hint})" if self.hint else text
        return f"warning: {text}" if self.severity == "warning" else text


def suggest(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean X?' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""
