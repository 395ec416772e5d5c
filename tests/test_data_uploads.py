"""The Data page's uploads: two files of the same name both imported, temporary files removed,
one bad file never hides the others, data in Markdown escaped."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pytest

from lib.store import Store
from lib.ui.markup import md
from lib.ui.uploads import saved_uploads
from tests.conftest import app_test, login

HEAD = "timestamp,request_id,model,input_tokens,output_tokens\n"
FIRST = (
    HEAD + "2025-01-01T00:00:00Z,a1,gpt-4o,10,1\n2025-01-01T01:00:00Z,a2,gpt-4o,20,2\n"
).encode()
SECOND = (HEAD + "2025-01-02T00:00:00Z,b1,gpt-4o,100,1\n").encode()


class FakeUpload(io.BytesIO):
    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name, self.size = name, len(data)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The system temp folder of the test: empty, so what is left in it can be seen."""
    folder = tmp_path / "systemp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_same_names_get_paths_of_their_own_and_are_removed(private_tmp):
    ups = [FakeUpload("usage.csv", FIRST), FakeUpload("usage.csv", SECOND), FakeUpload("..", b"x")]
    with saved_uploads(ups) as saved:
        assert len({s.path for s in saved}) == 3 and len({s.key for s in saved}) == 3
        assert [Path(s.path).read_bytes() for s in saved] == [FIRST, SECOND, b"x"]
        assert all(os.stat(s.path).st_mode & 0o077 == 0 for s in saved)
        assert [s.name for s in saved] == ["usage.csv", "usage.csv", ".."]
    assert list(private_tmp.iterdir()) == []
    with pytest.raises(RuntimeError), saved_uploads(ups):
        raise RuntimeError("the run stopped")
    assert list(private_tmp.iterdir()) == []


def left(folder: Path) -> list[str]:
    """What the app left in the temp folder (Streamlit's AppTest keeps a folder of its own)."""
    return [p.name for p in folder.iterdir() if p.name.startswith("tokenboard")]


def _data_page(app_env):
    return login(app_test("pages/7_Data.py"), "ana")


def _import(at):
    next(b for b in at.button if b.label.startswith("Import ")).click()
    return at.run()


def test_two_uploads_of_the_same_name_are_both_imported(app_env, private_tmp):
    at = _data_page(app_env)
    at.file_uploader[0].set_value(
        [("usage.csv", FIRST, "text/csv"), ("usage.csv", SECOND, "text/csv")]
    )
    at.run()
    assert not at.exception, at.exception
    assert len([e for e in at.expander if "usage" in e.label]) == 2
    at = _import(at)
    assert not at.exception, at.exception
    assert any("2 of 2 imported" in s.label for s in at.status)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 3
        assert s.scalar("SELECT sum(input_tokens) FROM request_events") == 130
    assert left(private_tmp) == []  # nothing left in the temp folder


# A JSON document (over several lines) whose keys name no time or measure: the preview refuses
# it and the page then asks the file's columns for a mapping, which reads it as JSON Lines and
# fails on its first line, outside the preview's own handler: the page's last resort.
PRETTY_UNKNOWN = json.dumps({"foo": 1, "bar": "x"}, indent=2).encode()
# Usage buckets that end before they start: the preview shows them, the import refuses them.
REVERSED = b"bucket_start,bucket_end,requests,input_tokens\n2025-01-02,2025-01-01,1,5\n"


def test_a_bad_file_never_hides_the_others(app_env, private_tmp):
    at = _data_page(app_env)
    at.file_uploader[0].set_value([
        ("boom.json", PRETTY_UNKNOWN, "application/json"),
        ("bad.json", b'{"data": [', "application/json"),
        ("good.csv", FIRST, "text/csv"),
        ("later.csv", REVERSED, "text/csv"),
    ])  # fmt: skip
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any(
        r"boom\.json" in e and "preview failed with an unexpected error" in e for e in errors
    ), errors
    assert any(r"bad\.json" in e for e in errors), errors
    assert sum("Recognised as" in m.value for m in at.markdown) == 2
    assert any(b.label == "Import 2 files" for b in at.button)
    assert any(s.value == "Import history" for s in at.subheader)
    at = _import(at)
    assert not at.exception, at.exception
    assert any("1 of 2 imported" in s.label for s in at.status)
    assert any(r"later\.csv" in e.value and "end before they start" in e.value for e in at.error)
    assert any(s.value == "Import history" for s in at.subheader)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 2
        assert s.scalar("SELECT count(*) FROM usage_buckets") == 0
    assert left(private_tmp) == []


def test_an_import_that_fails_unexpectedly_is_contained_fault_injection(
    app_env, private_tmp, monkeypatch
):
    """The page's last resort around ``import_file`` (``except Exception``), by fault
    injection: no input reaches it, because ``import_file`` turns every ``Exception`` into a
    ``TokenboardError`` and its failure record swallows database errors (even the fatal one a
    full disk causes at a checkpoint, tested for real in test_import_limits)."""
    import lib.ingest

    real_import = lib.ingest.import_file

    def import_file(store, path, *, display=None, **kw):
        if display == "later.csv":
            raise MemoryError("out of memory")
        return real_import(store, path, display=display, **kw)

    monkeypatch.setattr(lib.ingest, "import_file", import_file)
    at = _data_page(app_env)
    at.file_uploader[0].set_value(
        [("later.csv", SECOND, "text/csv"), ("good.csv", FIRST, "text/csv")]
    )
    at = _import(at.run())
    assert not at.exception, at.exception
    assert any("1 of 2 imported" in s.label for s in at.status)
    assert any(r"later\.csv" in e.value and "unexpected" in e.value for e in at.error)
    with Store(app_env) as s:
        assert s.scalar("SELECT sum(input_tokens) FROM request_events") == 30
    assert left(private_tmp) == []


def test_file_names_are_escaped_where_they_meet_markdown(app_env, private_tmp):
    at = _data_page(app_env)
    evil = "![b](http://host/x.png).csv"
    at.file_uploader[0].set_value(
        [(evil, FIRST, "text/csv"), ("[x](http:phish).json", b"{", "application/json")]
    )
    at.run()
    assert not at.exception, at.exception
    labels = [e.label for e in at.expander]
    assert any(label.startswith(f"**{md(evil)}**") for label in labels), labels
    assert not any("![b](" in label for label in labels)
    assert any(r"\[x\]\(http\:phish\)" in e.value for e in at.error)
    at = _import(at)
    assert any(r"\!\[b\]\(http" in s.value for s in at.success), [s.value for s in at.success]
    assert not any("![b](" in s.value for s in at.success)
