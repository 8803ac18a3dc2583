"""Reading workflow files: whatever the file holds, a document or problems, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.files import read_document


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_file_nested_past_the_readers_is_a_problem(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    document, _, problems = read_document(path)
    assert document is None
    assert [p.message for p in problems] == ["the document is nested too deeply to read"]
