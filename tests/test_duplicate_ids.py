"""A request id repeated with other values is reported in the import notes, not dropped silently."""

from __future__ import annotations

from lib.ingest import import_file
from tests.conftest import write

HEAD = "timestamp,request_id,model,input_tokens,output_tokens\n"


def test_same_id_other_values_against_stored_rows(store, tmp_path):
    import_file(store, write(tmp_path, "a.csv", HEAD + "2025-01-01T00:00:00Z,r1,gpt-4o,10,1\n"
                             "2025-01-01T01:00:00Z,r2,gpt-4o,20,2\n"))  # fmt: skip
    same = import_file(
        store, write(tmp_path, "b.csv", HEAD + "2025-01-01T00:00:00Z,r1,gpt-4o,10,1\n")
    )
    assert same.rows_duplicate == 1 and not same.notes
    other = import_file(store, write(tmp_path, "c.csv", HEAD + "2025-01-01T00:00:00Z,r1,gpt-4o,99,1\n"
                                     "2025-01-01T01:00:00Z,r2,gpt-4o,20,5\n"
                                     "2025-01-01T02:00:00Z,r3,gpt-4o,1,1\n"))  # fmt: skip
    assert (other.rows_new, other.rows_duplicate) == (1, 2)
    assert len(other.notes) == 1
    assert "2 row(s) repeat a request id" in other.notes[0] and "'r1'" in other.notes[0]
    assert "note: 2 row(s)" in other.summary_line()
    assert store.scalar("SELECT input_tokens FROM request_events WHERE request_id = 'r1'") == 10


def test_same_id_other_values_within_one_file(store, tmp_path):
    r = import_file(store, write(tmp_path, "a.csv", HEAD + "2025-01-01T00:00:00Z,r1,gpt-4o,10,1\n"
                                 "2025-01-01T00:00:00Z,r1,gpt-4o,10,1\n"
                                 "2025-01-01T00:00:00Z,r1,gpt-4o,11,1\n"))  # fmt: skip
    assert (r.rows_new, r.rows_duplicate) == (1, 2)
    assert any("1 row(s) repeat a request id" in n for n in r.notes)
