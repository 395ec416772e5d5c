"""The bundled model-retirement table (every row valid and sourced) and the lookup of the models
a workspace uses, with hand-picked cases (days counted by hand in the comments)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lib.errors import InputError
from lib.notices.retirements import (
    COLUMNS,
    TABLE_PATH,
    api_name,
    load_table,
    match,
    model_family,
    parse_table,
    retirements_for,
)

HEADER = ",".join(COLUMNS)
TODAY = date(2026, 11, 30)
# The providers' own pages the rows may cite.
SOURCES = {
    "openai": {"developers.openai.com"},
    "anthropic": {"platform.claude.com"},
    "google": {"ai.google.dev"},
}


# --- the bundled table ------------------------------------------------------------------------


def test_every_row_of_the_bundled_table_parses_and_is_sourced() -> None:
    table = load_table()
    assert TABLE_PATH.name == "model_retirements.csv"
    assert len(table) >= 90
    assert {r.provider for r in table} == set(SOURCES)
    for row in table:
        where = f"line {row.line} ({row.model})"
        host = urlsplit(row.source_url).hostname
        assert host in SOURCES[row.provider], where
        assert date(2024, 1, 1) <= row.retires_on <= date(2028, 1, 1), where
        if row.announced_on is not None:
            # a deprecation is announced at most two years and at least a few weeks ahead
            assert 14 <= (row.retires_on - row.announced_on).days <= 730, where
        assert row.shutdown_on is None  # no provider named a separate final date
        assert api_name(row.model) == row.model, where


def test_no_replacement_retires_before_the_model_it_replaces() -> None:
    table = load_table()
    for row in table:
        if row.replacement is None:
            continue
        successor = match(row.replacement, table)
        assert successor is None or successor.retires_on > row.retires_on, row.model


def test_the_table_reads_as_the_providers_pages_say() -> None:
    rows = {r.model: r for r in load_table()}
    # OpenAI, 2026-04-22 "Legacy GPT model snapshots": gpt-4o-2024-05-13 shut down 2026-10-23
    gpt4o = rows["gpt-4o-2024-05-13"]
    assert (gpt4o.provider, gpt4o.announced_on, gpt4o.retires_on) == (
        "openai", date(2026, 4, 22), date(2026, 10, 23),
    )  # fmt: skip
    # Anthropic, 2025-06-30: Claude Opus 3 retired 2026-01-05, replaced by claude-opus-4-8
    opus = rows["claude-3-opus-20240229"]
    assert (opus.announced_on, opus.retires_on, opus.replacement) == (
        date(2025, 6, 30), date(2026, 1, 5), "claude-opus-4-8",
    )  # fmt: skip
    assert opus.source_url == "https://platform.claude.com/docs/en/about-claude/model-deprecations"
    # Google: Gemini 2.0 Flash shut down on the Gemini API on 2026-06-01
    assert rows["gemini-2.0-flash-001"].retires_on == date(2026, 6, 1)


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "api"),
    [
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("openai/gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("openrouter/anthropic/claude-3-opus-20240229", "claude-3-opus-20240229"),
        ("  GPT-4-0613 ", "gpt-4-0613"),
        # partner platforms retire on their own schedules: not the provider's API name
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", None),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", None),
        ("claude-3-5-sonnet@20240620", None),
        ("vertex_ai/gemini-2.0-flash-001", None),
        ("azure/gpt-4o-2024-05-13", None),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", None),
        ("", None),
    ],
)
def test_api_name(stored: str, api: str | None) -> None:
    assert api_name(stored) == api


def test_model_family_as_migration_10() -> None:
    assert model_family("gpt-4o-2024-05-13") == "gpt-4o"
    assert model_family("gpt-4-0613") == "gpt-4"
    assert model_family("claude-3-opus-20240229") == "claude-3-opus"
    assert model_family("gpt-4-0125-preview") == "gpt-4-0125-preview"
    assert model_family("babbage-002") == "babbage-002"
    assert model_family("gemini-2.5-pro-preview-05-06") == "gemini-2.5-pro-preview-05-06"


# --- the lookup, on the bundled table -----------------------------------------------------------


def test_models_retiring_soon_or_retired_on_2026_11_30() -> None:
    used = [
        "gpt-4o-2024-05-13",  # shut down 2026-10-23: Oct 23 → Nov 30 = 8 + 30 = 38 days ago
        "openai/gpt-4o-2024-08-06",  # 2027-01-14: 31 + 14 = 45 days ahead, beyond 30
        "gpt-5-mini-2025-08-07",  # 2026-12-11: 11 days ahead
        "gpt-image-1.5",  # 2026-12-01: tomorrow
        "gpt-4-0314",  # its own row, 2026-03-26: Mar 26 → Nov 26 = 245 days, + 4 = 249 days ago
        "gpt-3.5-turbo-0613",  # no row of its own: its family's row gpt-3.5-turbo, 2026-10-23
        "CLAUDE-3-OPUS-20240229",  # 2026-01-05: Jan 5 → Nov 5 = 304 days, + 25 = 329 days ago
        "claude-3-5-sonnet-20241022",  # 2025-10-28: → 2025-11-30 = 33 days, + 365 = 398 days ago
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",  # Bedrock: its own schedule, not matched
        "claude-3-5-sonnet@20240620",  # Vertex AI: not matched
        "claude-sonnet-4-5-20250929",  # active
        "gpt-4o",  # the alias is not retired (only dated snapshots are)
        "gpt-4o-2024-05-13",  # twice: once
        "   ",
    ]
    got = retirements_for(used, TODAY, within_days=30)
    summary = [(r.model, r.days_left, r.state, r.retirement.replacement) for r in got]
    assert summary == [
        ("claude-3-5-sonnet-20241022", -398, "shut_down", "claude-sonnet-4-6"),
        ("CLAUDE-3-OPUS-20240229", -329, "shut_down", "claude-opus-4-8"),
        ("gpt-4-0314", -249, "shut_down", None),
        ("gpt-3.5-turbo-0613", -38, "shut_down", "gpt-5.6-terra"),
        ("gpt-4o-2024-05-13", -38, "shut_down", "gpt-5.6-sol"),
        ("gpt-image-1.5", 1, "retiring", None),
        ("gpt-5-mini-2025-08-07", 11, "retiring", "gpt-6.1-terra"),
    ]
    assert got[3].retirement.model == "gpt-3.5-turbo"  # matched through the family row
    assert got[4].retirement.model == "gpt-4o-2024-05-13"  # the exact row

    # 60 days ahead reaches 2027-01-14 (45 days)
    wider = retirements_for(
        ["openai/gpt-4o-2024-08-06", "gpt-4o-2024-11-20"], TODAY, within_days=60
    )
    assert [(r.model, r.days_left, r.retirement.replacement) for r in wider] == [
        ("gpt-4o-2024-11-20", 45, "gpt-6-luna"),
        ("openai/gpt-4o-2024-08-06", 45, "gpt-6-luna"),
    ]


def test_retiring_today_counts_as_retired() -> None:
    (got,) = retirements_for(["gpt-5-2025-08-07"], date(2026, 12, 11), within_days=0)
    assert (got.days_left, got.state) == (0, "shut_down")
    assert retirements_for(["gpt-5-2025-08-07"], date(2026, 12, 10), within_days=0) == []


# --- the lookup, on a table of its own ----------------------------------------------------------

SMALL = f"""# a comment, then a blank line

{HEADER}
acme,acme-1,2026-01-01,2026-12-01,2027-01-01,acme-2,https://acme.example/deprecations
acme,acme-1-20260101,,2026-06-01,,,https://acme.example/deprecations
"""


def test_a_separate_shutdown_date_gives_the_retired_state() -> None:
    table = parse_table(SMALL, "small.csv")
    assert [(r.model, r.line) for r in table] == [("acme-1", 4), ("acme-1-20260101", 5)]

    def one(day: date, within: int = 30) -> tuple[int, str] | None:
        got = retirements_for(["acme-1"], day, within_days=within, table=table)
        return (got[0].days_left, got[0].state) if got else None

    assert one(date(2026, 11, 30)) == (1, "retiring")
    assert one(date(2026, 11, 30), within=0) is None
    assert one(date(2026, 12, 15), within=0) == (-14, "retired")  # after Dec 1, before Jan 1
    assert one(date(2027, 1, 1)) == (-31, "shut_down")
    # the snapshot has its own row (June 1), the family row does not override it
    (snap,) = retirements_for(["acme-1-20260101"], date(2026, 11, 30), table=table)
    assert (snap.retirement.line, snap.days_left) == (5, -182)  # Jun 1 → Nov 30: 30+31+31+30+31+29
    # another snapshot of the family falls under the family row
    (other,) = retirements_for(["acme-1-20261001"], date(2026, 11, 30), table=table)
    assert other.retirement.model == "acme-1"


def test_within_days_is_not_negative() -> None:
    with pytest.raises(ValueError):
        retirements_for(["gpt-4"], TODAY, within_days=-1)


# --- refusals name the line -------------------------------------------------------------------

GOOD = "openai,gpt-x-2025-01-01,2025-01-01,2025-06-01,,gpt-y,https://developers.openai.com/x"


@pytest.mark.parametrize(
    ("row", "field", "found"),
    [
        (GOOD.replace("2025-06-01", "2025-13-01"), "retires_on", "2025-13-01"),
        (GOOD.replace("2025-06-01", "1 June 2025"), "retires_on", "1 June 2025"),
        (GOOD.replace(",2025-06-01,", ",,"), "retires_on", ""),
        (GOOD.replace("2025-06-01", "2019-06-01"), "retires_on", "2019-06-01"),
        (
            GOOD.replace("2025-01-01,2025-06-01", "2025-07-01,2025-06-01"),
            "announced_on",
            "2025-07-01",
        ),
        (GOOD.replace("2025-06-01,,", "2025-06-01,2025-06-01,"), "shutdown_on", "2025-06-01"),
        (GOOD.replace("gpt-x-2025-01-01", "openai/gpt-x"), "model", "openai/gpt-x"),
        (GOOD.replace("gpt-x-2025-01-01", "GPT-X"), "model", "GPT-X"),
        (GOOD.replace("gpt-x-2025-01-01", "gpt x"), "model", "gpt x"),
        (GOOD.replace("openai,", "Open AI,", 1), "provider", "Open AI"),
        (GOOD.replace(",gpt-y,", ",gpt-x-2025-01-01,"), "replacement", "gpt-x-2025-01-01"),
        (
            GOOD.replace("https://developers.openai.com/x", "http://developers.openai.com/x"),
            "source_url",
            "http://developers.openai.com/x",
        ),
        (GOOD.replace(",https://developers.openai.com/x", ","), "source_url", ""),
        (GOOD + ",extra", "row", GOOD + ",extra"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(row: str, field: str, found: str) -> None:
    text = f"# comment\n{HEADER}\n{GOOD.replace('gpt-x', 'gpt-w')}\n\n{row}\n"
    with pytest.raises(InputError) as caught:
        parse_table(text, "model_retirements.csv")
    err = caught.value
    assert (err.file, err.line, err.field, err.found) == ("model_retirements.csv", 5, field, found)
    assert str(err).startswith(f"model_retirements.csv, line 5, field '{field}': ")


def test_a_row_listed_twice_names_both_lines() -> None:
    with pytest.raises(InputError) as caught:
        parse_table(f"{HEADER}\n{GOOD}\n{GOOD}\n")
    assert caught.value.line == 3
    assert "listed twice (first on line 2)" in str(caught.value)


def test_the_header_is_checked() -> None:
    with pytest.raises(InputError) as caught:
        parse_table("provider,model,retires_on\n" + GOOD)
    assert (caught.value.line, caught.value.field) == (1, "header")
    with pytest.raises(InputError) as caught:
        parse_table("# only a comment\n")
    assert caught.value.field == "header"
    assert parse_table(HEADER + "\n") == ()


def test_a_missing_table_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_table(tmp_path / "nowhere.csv")
    assert str(caught.value).startswith("nowhere.csv: cannot be read")


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    assert [r.model for r in load_table(path)] == ["gpt-x-2025-01-01"]
    path.write_text(f"{HEADER}\n{GOOD}\n{GOOD.replace('gpt-x', 'gpt-z')}\n", encoding="utf-8")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))  # a new mtime, whatever the clock
    assert [r.model for r in load_table(path)] == ["gpt-x-2025-01-01", "gpt-z-2025-01-01"]
