"""Regression tests for what the fuzz (``test_import_fuzz.py``) found, and for Helicone's
``--format json`` export, each on a real database with totals worked out by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.ingest import import_file
from tests.conftest import fixture, snapshot, write


def _helicone_totals(store) -> tuple:
    return store.query(
        "SELECT count(*), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens), "
        "sum(cost_usd) FROM request_events"
    )[0]


# -- Helicone --format json -----------------------------------------------------------------
def test_helicone_cli_json_with_its_trailing_comma_imports_exactly(store):
    # the CLI writes "[\n", each record + ",\n", then "]\n": a comma before the last "]"
    text = Path(fixture("helicone_export_cli.json")).read_text()
    assert text.endswith("},\n]\n")
    r = import_file(store, fixture("helicone_export_cli.json"))
    assert (r.format, r.rows_new) == ("helicone_csv", 2)
    # 1000 + 800 input (400 cached), 100 + 200 output, 0.00018 + 0.00144 = 0.00162 USD
    assert _helicone_totals(store) == (2, 1800, 400, 300, Decimal("0.00162"))


def test_helicone_cli_json_of_one_record_with_a_trailing_comma(store, tmp_path):
    rec = json.loads(Path(fixture("helicone_export_cli.jsonl")).read_text().splitlines()[1])
    path = write(tmp_path, "one.json", "[\n" + json.dumps(rec, indent=2) + ",\n]\n")
    import_file(store, path)
    assert _helicone_totals(store) == (1, 800, 0, 200, Decimal("0.00144"))


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda t: t.replace('"assets": [],', '"assets": [],,', 1), 45),  # two commas in a record
        (lambda t: t.replace("\n},\n{", "\n},,\n{", 1), 47),  # two commas between records
        (lambda t: t.replace('"country_code": "FR",', '"country_code": "FR",\n}', 1), 38),
        (lambda t: t.replace("},\n]\n", "},\n],\n"), 94),  # a comma after the closing bracket
    ],
)
def test_other_malformed_json_arrays_are_refused_with_line_and_column(
    store, tmp_path, damage, line
):
    text = damage(Path(fixture("helicone_export_cli.json")).read_text())
    path = write(tmp_path, "bad.json", text)
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        import_file(store, path)
    assert info.value.file == "bad.json" and "malformed JSON" in info.value.problem
    assert info.value.line == line and info.value.found.startswith("column ")
    assert snapshot(store) == before


def test_trailing_comma_inside_a_record_is_refused(store, tmp_path):
    # DuckDB's reader would take {"a": 1,}; Python's strict check names where it is
    text = Path(fixture("helicone_export_cli.json")).read_text()
    last = '"model": "gpt-4o-mini-2024-07-18"\n},'
    path = write(tmp_path, "bad.json", text.replace(last, last.replace('"\n', '",\n'), 1))
    with pytest.raises(InputError) as info:
        import_file(store, path)
    assert (info.value.line, info.value.found) == (47, "column 1")


# -- found by the fuzz ------------------------------------------------------------------------
def test_json_lines_of_records_with_a_bom(store, tmp_path):
    # fuzz variant: helicone_export_cli.jsonl saved with a UTF-8 BOM (DuckDB refuses a BOM
    # in JSON Lines): 1000 + 800 input, 400 cached, 100 + 200 output
    data = b"\xef\xbb\xbf" + Path(fixture("helicone_export_cli.jsonl")).read_bytes()
    import_file(store, write(tmp_path, "bom.jsonl", data))
    assert _helicone_totals(store) == (2, 1800, 400, 300, Decimal("0.00162"))


@pytest.mark.parametrize("indent", [None, 2])
def test_a_file_of_one_record_object(store, tmp_path, indent):
    # fuzz variant: a JSON Lines file cut to its first line (or that record pretty-printed)
    first = Path(fixture("bedrock_invocations.jsonl")).read_text().splitlines()[0]
    path = write(tmp_path, "one.json", json.dumps(json.loads(first), indent=indent) + "\n")
    r = import_file(store, path)
    assert r.rows_new == 1
    # inputTokenCount 4, outputTokenCount 38
    assert store.query("SELECT input_tokens, output_tokens FROM request_events") == [(4, 38)]


def test_a_list_where_the_result_object_name_should_be_is_refused(store, tmp_path):
    # fuzz variant: "object": "organization.usage.completions.result" made a nested list
    doc = json.loads(Path(fixture("openai_usage_completions.json")).read_text())
    doc["data"][0]["results"][0]["object"] = [{"x": 1}]
    with pytest.raises(InputError) as info:  # was a TypeError (unhashable list)
        import_file(store, write(tmp_path, "usage.json", doc))
    assert info.value.file == "usage.json"


@pytest.mark.parametrize("value", ["12.5", ".5", "1e-3"])
def test_a_count_that_is_not_a_whole_number_is_refused(store, tmp_path, value):
    # DuckDB's integer cast rounds 12.5 to 13 and .5 to 1
    path = write(tmp_path, "n.csv", f"timestamp,model,input_tokens\n2026-01-01,gpt-4o,{value}\n")
    with pytest.raises(InputError) as info:
        import_file(store, path)
    assert (info.value.line, info.value.field, info.value.found) == (2, "input_tokens", value)


@pytest.mark.parametrize("value", ["0x10", "0b11", "12.5"])
def test_a_count_in_json_text_that_is_not_a_decimal_whole_number_is_refused(store, tmp_path, value):
    # DuckDB's integer cast reads the text 0x10 as 16 and 0b11 as 3
    rec = {"timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": value}
    with pytest.raises(InputError) as info:
        import_file(store, write(tmp_path, "n.jsonl", json.dumps(rec) + "\n"))
    assert (info.value.line, info.value.field, info.value.found) == (1, "input_tokens", value)


def test_counts_written_with_a_zero_decimal_still_read(store, tmp_path):
    path = write(tmp_path, "n.csv", "timestamp,model,input_tokens\n2026-01-01,gpt-4o,10.0\n")
    import_file(store, path)
    assert store.scalar("SELECT sum(input_tokens) FROM request_events") == 10


def test_a_totals_line_is_skipped_when_the_date_column_is_not_first(store, tmp_path):
    # fuzz variant: generic_fr.csv with its columns in another order; "Total" stands in the
    # date column, which is no longer the first one
    text = Path(fixture("generic_fr.csv")).read_bytes().decode("utf-8-sig")
    rows = [ln.split(";") for ln in text.split("\r\n")]
    moved = "\r\n".join(";".join(r[1:] + r[:1]) if len(r) > 1 else r[0] for r in rows)
    import_file(store, write(tmp_path, "moved.csv", moved))
    # 1 234 567 + 1 000 + 100 input, 1 200 + 10 + 5 requests (the totals line not counted)
    assert store.query("SELECT sum(input_tokens), sum(requests) FROM usage_buckets") == [
        (1235667, 1215)
    ]


# -- money columns typed by DuckDB: read at the stored scale (20 decimals) ------------------
def test_csv_money_with_20_significant_digits_is_exact(store, tmp_path):
    # the sniffer types the cost column DOUBLE; it was read as DECIMAL(38, 12)
    text = (
        "timestamp,model,requests,cost\n"
        "2026-01-01,gpt-4o,1,1234.5678901234567890\n"
        "2026-01-02,gpt-4o,1,9.888144383403077\n"
        "2026-01-03,gpt-4o,1,0.00032195744715549047\n"
    )
    import_file(store, write(tmp_path, "usage.csv", text))
    # 1234.56789012345678900 + 9.88814438340307700 = 1244.45603450685986600
    # + 0.00032195744715549047 = 1244.45635646430702149047
    assert store.scalar("SELECT sum(cost_usd) FROM usage_buckets") == Decimal(
        "1244.45635646430702149047"
    )


def test_parquet_double_money_is_read_as_the_writer_meant(store, tmp_path):
    import duckdb

    path = str(tmp_path / "usage.parquet")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT TIMESTAMP '2026-01-01' + INTERVAL (i) DAY AS timestamp, 'gpt-4o' AS model, "
        "1 AS requests, c AS cost FROM (VALUES (0, 0.1::DOUBLE), (1, 0.2::DOUBLE), "
        "(2, 0.7::DOUBLE), (3, 9.888144383403077::DOUBLE), (4, 0.00032195744715549047::DOUBLE)) "
        "v(i, c)) TO '" + path.replace("'", "''") + "'"
    )
    con.close()
    import_file(store, path)
    # the shortest text of each double: 0.1 + 0.2 + 0.7 = 1.0 (as doubles: 0.9999999999999999);
    # + 9.888144383403077 = 10.888144383403077; + 0.00032195744715549047 = 10.88846634085023249047
    assert store.scalar("SELECT sum(cost_usd) FROM usage_buckets") == Decimal(
        "10.88846634085023249047"
    )


def test_parquet_decimal_money_is_exact(store, tmp_path):
    import duckdb

    path = str(tmp_path / "usage.parquet")
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES (TIMESTAMP '2026-01-01', 'gpt-4o', 1, "
        "1234.56789012345678900000::DECIMAL(38, 20)), (TIMESTAMP '2026-01-02', 'gpt-4o', 1, "
        "0.00032195744715549047::DECIMAL(38, 20))) v(timestamp, model, requests, cost)) TO '"
        + path.replace("'", "''")
        + "'"
    )
    con.close()
    import_file(store, path)
    # 1234.56789012345678900000 + 0.00032195744715549047 = 1234.56821208090394449047
    assert store.scalar("SELECT sum(cost_usd) FROM usage_buckets") == Decimal(
        "1234.56821208090394449047"
    )


def test_json_lines_money_keeps_the_digits_of_the_text(store, tmp_path):
    lines = [
        '{"timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o", "requests": 1, '
        '"cost": 9.888144383403077}',
        '{"timestamp": "2026-01-02T00:00:00Z", "model": "gpt-4o", "requests": 1, '
        '"cost": 0.00032195744715549047}',
    ]
    import_file(store, write(tmp_path, "usage.jsonl", "\n".join(lines) + "\n"))
    # 9.888144383403077 + 0.00032195744715549047 = 9.88846634085023249047
    assert store.scalar("SELECT sum(cost_usd) FROM usage_buckets") == Decimal(
        "9.88846634085023249047"
    )


# -- legacy /v1/usage text to speech ---------------------------------------------------------
def _legacy_with_tts(**entry_fields) -> dict:
    """The elastic/beats capture with one tts_api_data entry: whisper's shape (timestamp,
    model_id, num_requests, ids) with num_characters, the field public clients of the
    endpoint read; the values are constructed."""
    doc = json.loads(Path(fixture("openai_legacy_usage_2024.json")).read_text())
    entry = dict(doc["whisper_api_data"][0], model_id="tts-1", num_requests=2)
    entry.pop("num_seconds")
    doc["tts_api_data"] = [entry | entry_fields]
    return doc


def test_legacy_tts_entries_are_characters_never_tokens(store, tmp_path):
    r = import_file(store, write(tmp_path, "usage.json", _legacy_with_tts(num_characters=1536)))
    assert r.rows_new == 6  # 3 completions + 1 image + 1 transcription + 1 text to speech
    row = store.query(
        "SELECT kind, model, requests, quantity, quantity_unit, input_tokens, output_tokens "
        "FROM usage_buckets WHERE kind = 'audio_speeches'"
    )
    assert row == [("audio_speeches", "tts-1", 2, 1536.0, "characters", 0, 0)]
    # the token totals are the completions' alone: 118 + 31 + 13 in, 35 + 12 + 9 out
    assert store.query("SELECT sum(input_tokens), sum(output_tokens) FROM usage_buckets") == [
        (162, 56)
    ]


def test_legacy_tts_entry_without_its_characters_is_refused(store, tmp_path):
    with pytest.raises(InputError) as info:
        import_file(store, write(tmp_path, "usage.json", _legacy_with_tts()))
    assert info.value.field == "tts_api_data[0].num_characters"
