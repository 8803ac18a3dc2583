"""The base of every pydantic model people write by hand (workflows, policies, scoring rules,
delivery settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A frozen model that refuses unknown fields: what people write is checked, so a
    misspelt key is an error with a path rather than a setting silently left at its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
