"""Issue 15, item 5: what a crash leaves at the end of a corpus manifest never breaks the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _manifest_with_torn_tail(root: Path, tail: str) -> Path:
    path = root / "manifest.jsonl"
    path.write_text(json.dumps({"id": "a", "n": 1}) + "\n" + tail)
    return path


@pytest.mark.parametrize(("tail", "expected"), [
    ('{"id": "b", "n"', ["a", "c"]),
    ('{"id": "b", "x": {"y": 1}', ["a", "c"]),
    ('{"id": "b", "n": 2}', ["a", "b", "c"]),
], ids=["fragment", "fragment-with-whole-inner-table", "lost-newline-only"])
def test_a_torn_manifest_line_is_recovered_on_the_next_append(tail, expected, tmp_path, caplog):
    """Item 5: what a crash leaves at the end of manifest.jsonl is ended (or cut off) before the next line,
    so every later `prepare` reads the corpus, and the log says what happened."""
    from ventriloquist.training.corpus.manifest import append_manifest, read_manifest_lines

    _manifest_with_torn_tail(tmp_path, tail)
    append_manifest(tmp_path, {"id": "c", "n": 3})
    append_manifest(tmp_path, {"id": "d", "n": 4})
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == [*expected, "d"]
    assert any("interrupted write" in r.getMessage() for r in caplog.records)


def test_a_whole_manifest_appends_without_a_note(tmp_path, caplog):
    from ventriloquist.training.corpus.manifest import append_manifest, read_manifest_lines

    append_manifest(tmp_path, {"id": "a"})
    append_manifest(tmp_path, {"id": "b"})
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == ["a", "b"] and not caplog.records


def test_a_manifest_damaged_by_the_old_append_is_read_again(tmp_path, caplog):
    """Item 5: corpora where a good line was already appended straight after a torn one stay usable."""
    from ventriloquist.training.corpus.manifest import read_manifest_lines

    (tmp_path / "manifest.jsonl").write_text(
        json.dumps({"id": "a"}) + "\n" + '{"id": "b", "au' + json.dumps({"id": "c", "x": {"y": 1}}) + "\n")
    assert [row["id"] for row in read_manifest_lines(tmp_path)] == ["a", "c"]
    assert any("torn entry" in r.getMessage() for r in caplog.records)
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"id": "a"}) + "\nnot json at all\n" + json.dumps({"id": "c"}))
    with pytest.raises(Exception, match="line 2 is not JSON"):
        read_manifest_lines(tmp_path)
