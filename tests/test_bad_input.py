"""Bad input: a clear message naming the file, the line or field, what was found and what was
expected — and nothing changes in the database."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.errors import InputError
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import fixture, openai_page, snapshot, write


@pytest.fixture
def loaded(store):
    """A store that already holds data, so 'unchanged' means something."""
    import_file(store, fixture("litellm_spend_logs.csv"))
    import_file(store, fixture("openai_usage_completions.json"))
    return store


@pytest.mark.parametrize(
    ("name", "expected_parts"),
    [
        ("empty.csv", ["empty.csv", "the file is empty"]),
        ("truncated.json", ["truncated.json", "line 1", "ends early", "complete JSON document"]),
        (
            "api_error.json",
            [
                "api_error.json",
                "API error response",
                "invalid_request_error",
                "Incorrect API key provided",
            ],
        ),
        ("binary.xlsx", ["binary.xlsx", "binary content", "CSV, JSON, JSON Lines or Parquet"]),
        ("too_many_fields.csv", ["too_many_fields.csv", "line 3", "4 fields", "3 fields"]),
        ("bad_number.csv", ["bad_number.csv", "line 3", "'input_tokens'", "'abc'", "whole number"]),
        ("missing_timestamp.csv", ["missing_timestamp.csv", "line 3", "timestamp is missing"]),
    ],
)
def test_each_bad_file_has_its_own_message_and_changes_nothing(loaded, name, expected_parts):
    before = snapshot(loaded)
    with pytest.raises(InputError) as info:
        import_file(loaded, fixture(name))
    message = str(info.value)
    for part in expected_parts:
        assert part in message, message
    assert snapshot(loaded) == before
    # the failure is in the ledger, with its message
    row = loaded.query("SELECT status, error FROM imports ORDER BY import_id DESC LIMIT 1")[0]
    assert row == ("failed", message)


def test_bad_value_in_json_names_the_field_path(loaded, tmp_path):
    with open(fixture("openai_usage_completions.json")) as fh:
        doc = json.load(fh)
    doc["data"][0]["results"][1]["output_tokens"] = "lots"
    before = snapshot(loaded)
    with pytest.raises(InputError) as info:
        import_file(loaded, write(tmp_path, "bad.json", doc))
    assert "data[0].results[1].output_tokens" in str(info.value)
    assert "'lots'" in str(info.value)
    assert snapshot(loaded) == before


def test_unrecognised_columns_say_what_is_expected(store, tmp_path):
    with pytest.raises(InputError) as info:
        import_file(store, write(tmp_path, "notes.csv", "colour,size\nred,3\n"))
    assert "unrecognised columns colour, size" in str(info.value)
    assert "explicit column mapping" in str(info.value)


def test_mapping_to_a_missing_column(store, tmp_path):
    with pytest.raises(InputError) as info:
        import_file(
            store, write(tmp_path, "a.csv", "t,m\n2026-01-01,gpt-4o\n"), mapping={"ts": "time"}
        )
    assert "'time'" in str(info.value) and "t, m" in str(info.value)


def test_failure_late_in_a_large_file_rolls_back_everything(loaded, tmp_path):
    lines = ["timestamp,model,input_tokens"] + [
        f"2026-01-01 00:{i // 60 % 60:02d}:{i % 60:02d},gpt-4o,{i}" for i in range(3000)
    ]
    lines.append("2026-01-02 00:00:00,gpt-4o,oops")
    before = snapshot(loaded)
    with pytest.raises(InputError) as info:
        import_file(loaded, write(tmp_path, "late_bad.csv", "\n".join(lines) + "\n"))
    assert "line 3002" in str(info.value)
    assert snapshot(loaded) == before


def test_mixed_endpoints_in_one_pull_are_refused(store, tmp_path):
    doc = openai_page(
        {"object": "organization.usage.completions.result", "input_tokens": 1, "output_tokens": 1,
         "num_model_requests": 1},
        {"object": "organization.usage.embeddings.result", "input_tokens": 1, "num_model_requests": 1},
    )  # fmt: skip
    with pytest.raises(InputError, match="mixes several usage endpoints"):
        import_file(store, write(tmp_path, "mixed.json", doc))


_csv_text = st.text(
    alphabet=st.sampled_from([*"abc019,;\t\"'\n\r .:-/é", "\u00a0", "{", "}", "[", "]"]),
    max_size=300,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=_csv_text,
    header=st.sampled_from(["timestamp,model,input_tokens\n", "date;modèle;jetons\n", ""]),
)
def test_malformed_text_never_changes_the_database(tmp_path_factory, body, header):
    """Whatever arrives: either a clean import or our InputError, and a failure changes nothing."""
    tmp = tmp_path_factory.mktemp("prop")
    with Store(str(tmp / "p.duckdb")) as s:
        import_file(s, fixture("generic_requests.jsonl"))
        before = snapshot(s)
        path = write(tmp, "input.csv", header + body)
        try:
            import_file(s, path)
        except InputError:
            assert snapshot(s) == before
        else:
            assert s.scalar("SELECT count(*) FROM imports WHERE status = 'ok'") == 2


@settings(max_examples=40, deadline=None)
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers(-5, 10**12) | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "data",
                        "results",
                        "start_time",
                        "end_time",
                        "object",
                        "has_more",
                        "input_tokens",
                        "amount",
                        "starting_at",
                        "ending_at",
                        "error",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_malformed_json_never_changes_the_database(tmp_path_factory, doc):
    tmp = tmp_path_factory.mktemp("propjson")
    with Store(str(tmp / "p.duckdb")) as s:
        import_file(s, fixture("openai_costs.json"))
        before = snapshot(s)
        path = write(tmp, "input.json", json.dumps(doc))
        try:
            import_file(s, path)
        except InputError:
            assert snapshot(s) == before


def test_refusals_a_column_mapping_fixes_carry_a_code(store, tmp_path):
    """lib.preview.remedy reads the code, never the sentence."""
    from lib.preview import remedy

    cases = [  # (file text, mapping, code, remedy)
        ("colour,size\nred,3\n", None, "unrecognised_columns", "map_columns"),
        ("timestamp,model,gizmo_tokens\n2026-01-01,gpt-4o,3\n", None, "unmatched_measure",
         "map_columns"),
        ("t,m\n2026-01-01,gpt-4o\n", {"ts": "time"}, "unknown_mapped_column", None),
        ("timestamp,model,input_tokens\n2026-01-01,gpt-4o,oops\n", None, None, None),
    ]  # fmt: skip
    for i, (text, mapping, code, fix) in enumerate(cases):
        with pytest.raises(InputError) as info:
            import_file(store, write(tmp_path, f"c{i}.csv", text), mapping=mapping)
        assert (info.value.code, remedy(info.value)) == (code, fix), str(info.value)
