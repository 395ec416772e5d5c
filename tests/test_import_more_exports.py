"""More exports written by other people: a Helicone request API response saved whole, Bedrock
invocation logs with request metadata and a streamed Titan body, LiteLLM's spend reports
(refused, saying what they lack). Totals are worked out by hand from the fixtures (sources
in tests/fixtures/README.md)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.importers.match import says_measure
from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, run_cli, write


def test_helicone_request_api_response_saved_whole(store):
    """``{"data": [HeliconeRequest…], "error": null}`` (POST /v1/request/query-clickhouse) was
    refused as unrecognised JSON; its records are the export CLI's."""
    r = import_file(store, fixture("helicone_request_query_response.json"))
    assert (r.grain, r.rows_new) == ("request", 2)
    t = totals(store)
    assert t.requests == 2
    assert t.input_tokens == 1000 + 800
    assert t.cached_input_tokens == 400 + 0
    assert t.output_tokens == 100 + 200
    assert t.stated_cost_usd == Decimal("0.00018") + Decimal("0.00144")  # 0.00162
    rows = store.query("SELECT latency_ms, status FROM request_events ORDER BY ts")
    assert rows == [(640, "success"), (1210, "success")]
    again = import_file(store, fixture("helicone_request_query_response.json"))
    assert again.rows_new == 0


def test_pages_of_records_in_an_envelope_add_up(store, tmp_path):
    """The same response saved as JSON Lines, one page per line, the records split."""
    doc = json.loads(Path(fixture("helicone_request_query_response.json")).read_text())
    lines = [json.dumps({"data": [rec], "error": None}) for rec in doc["data"]]
    path = write(tmp_path, "pages.jsonl", "\n".join(lines) + "\n")
    import_file(store, path)
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (2, 1800, 300)


def test_helicone_error_response_is_named(store, tmp_path):
    path = write(tmp_path, "err.json", '{"data": null, "error": "Invalid API key"}')
    with pytest.raises(InputError) as err:
        import_file(store, path)
    assert "API error response" in str(err.value) and "Invalid API key" in str(err.value)


def test_bedrock_request_metadata_is_not_a_measure(store):
    """``requestMetadata.team`` was taken for a measure (the word 'request' of its parent) and
    the whole file refused; Titan's streamed body is a list, Llama's an object."""
    r = import_file(store, fixture("bedrock_invocations_titan_llama.jsonl"))
    assert (r.grain, r.rows_new) == ("request", 2)
    t = totals(store)
    assert t.requests == 2
    assert t.input_tokens == 7 + 15
    assert t.output_tokens == 11 + 12
    models = store.query("SELECT model FROM request_events ORDER BY ts")
    assert models == [("amazon.titan-text-express-v1",), ("meta.llama3-1-70b-instruct-v1:0",)]


def test_a_measure_word_in_a_parent_names_a_group_not_a_measure():
    assert not says_measure("requestMetadata.team")
    assert not says_measure("request_properties.project")
    assert not says_measure("request.model")
    assert says_measure("tokens.input")
    assert says_measure("cost.total")
    assert says_measure("usage.prompt_tokens")
    assert says_measure("Jetons facturés")


def test_an_unmatched_token_leaf_under_metadata_still_stops(store, tmp_path):
    text = (
        '{"timestamp": "2026-01-05T10:00:00Z", "model": "gpt-4o", "input_tokens": 10, '
        '"requestMetadata": {"billed_tokens": 7}}\n'
    )
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "m.jsonl", text))
    assert "requestMetadata.billed_tokens" in str(err.value)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("litellm_global_spend_report_team.json", "only total_tokens"),
        ("litellm_global_spend_report_api_key.json", "says no day"),
    ],
)
def test_litellm_spend_reports_are_refused_saying_what_they_lack(store, name, says):
    """Were refused as 'unrecognised columns group_by_day' and with a --map hint that mapped
    total_input_tokens to output_tokens."""
    with pytest.raises(InputError) as err:
        import_file(store, fixture(name))
    msg = str(err.value)
    assert says in msg and "/global/spend/report" in msg
    assert "LiteLLM_SpendLogs" in msg and "LiteLLM_DailyTeamSpend" in msg
    assert totals(store).rows == 0


def test_litellm_spend_report_refused_from_the_command_line(db_path):
    out = run_cli("import", fixture("litellm_global_spend_report_team.json"), "--db", db_path)
    assert out.returncode == 1
    assert "spend report by team" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
