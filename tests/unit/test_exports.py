"""The core's public surface is what `__all__` says, and each export is documented."""

from __future__ import annotations

import inspect

import tidings.core as core


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(core) if not name.startswith("_")}
    submodules = {name for name, value in vars(core).items() if inspect.ismodule(value)}
    assert set(core.__all__) == public - submodules


def test_every_export_has_a_docstring() -> None:
    for name in core.__all__:
        value = getattr(core, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), f"tidings.core.{name} has no docstring"
