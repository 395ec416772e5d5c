"""Hostile or careless input that used to crash or mislead the importers: very wide headers,
bad UTF-8 late in a JSON file, deep nesting, dates out of range, infinite amounts, negative
counts, a full disk, other currencies, JSON that did not respect the memory limit.

Every refusal names the file (and the line or field), what was found and what was expected,
both on import and on preview, and changes nothing in the database.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from lib.errors import InputError, TokenboardError
from lib.importers.read import SAMPLE_BYTES, _unique_names
from lib.ingest import import_file
from lib.preview import preview_file
from lib.store import Store
from tests.conftest import ROOT, fixture, openai_page, snapshot, write


@pytest.fixture
def loaded(store):
    """A store that already holds data, so 'unchanged' means something."""
    import_file(store, fixture("litellm_spend_logs.csv"))
    import_file(store, fixture("openai_usage_completions.json"))
    return store


def refused(store, path: str, *parts: str) -> str:
    """Preview and import ``path``: both refuse it with the same message holding ``parts``,
    and the database is unchanged. Returns the message."""
    before = snapshot(store)
    with pytest.raises(InputError) as on_preview:
        preview_file(store, path)
    with pytest.raises(InputError) as on_import:
        import_file(store, path)
    message = str(on_import.value)
    assert str(on_preview.value) == message
    for part in parts:
        assert part in message, message
    assert snapshot(store) == before
    return message


# -- item 6: wide headers ------------------------------------------------------------------
def test_duplicate_column_names_are_made_unique_in_linear_time():
    assert _unique_names(["a", "a", "a_2", " ", "", "\ufeffb"]) == [
        "a",
        "a_2",
        "a_2_2",
        "column_4",
        "column_5",
        "b",
    ]
    assert _unique_names(["a_2", "a", "a"]) == ["a_2", "a", "a_3"]
    t0 = time.perf_counter()
    names = _unique_names(["a"] * 20_000)
    assert time.perf_counter() - t0 < 1.0
    assert len(set(names)) == 20_000 and names[-1] == "a_20000"


def test_a_header_of_3000_columns_is_refused_quickly(loaded, tmp_path):
    path = write(tmp_path, "wide.csv", ",".join(["a"] * 3000) + "\n" + ",".join(["1"] * 3000))
    t0 = time.perf_counter()
    refused(loaded, path, "wide.csv", "too many columns", "3,000 columns", "at most 1,000 columns")
    assert time.perf_counter() - t0 < 5


def test_a_json_lines_file_with_1500_keys_is_refused(loaded, tmp_path):
    rec = {"timestamp": "2026-01-01T00:00:00Z", "input_tokens": 1} | {
        f"k{i}": i for i in range(1500)
    }
    path = write(tmp_path, "wide.jsonl", json.dumps(rec) + "\n" + json.dumps(rec) + "\n")
    refused(loaded, path, "wide.jsonl", "1,502 keys", "at most 1,000 keys")


def test_a_header_of_1000_columns_still_imports(store, tmp_path):
    header = ["timestamp", "input_tokens"] + ["x"] * 998
    row = ["2026-01-01 00:00:00", "7"] + [""] * 998
    path = write(tmp_path, "wide_ok.csv", ",".join(header) + "\n" + ",".join(row) + "\n")
    t0 = time.perf_counter()
    r = import_file(store, path)
    assert time.perf_counter() - t0 < 10
    assert (r.rows_read, r.rows_new) == (1, 1)
    assert store.scalar("SELECT sum(input_tokens) FROM request_events") == 7


# -- item 10: crashes instead of messages ----------------------------------------------------
def _record(i: int, model: str = "gpt-4o") -> str:
    return json.dumps(
        {"timestamp": f"2026-01-01T00:00:{i % 60:02d}Z", "model": model, "input_tokens": i}
    )


def test_bad_utf8_after_the_sample_of_a_json_lines_file(loaded, tmp_path):
    lines = [_record(i) for i in range(4000)]
    head = ("\n".join(lines) + "\n").encode()
    assert len(head) > SAMPLE_BYTES
    bad = b'{"timestamp": "2026-01-01T00:00:00Z", "model": "\xff\xfe", "input_tokens": 1}\n'
    path = write(tmp_path, "late.jsonl", head + bad + (_record(1) + "\n").encode())
    refused(loaded, path, "late.jsonl", "line 4001", "UTF-8")


def test_bad_utf8_after_the_sample_of_a_json_array(loaded, tmp_path):
    body = "[" + ",\n".join(_record(i) for i in range(4000))
    bad = b',\n{"timestamp": "2026-01-01T00:00:00Z", "model": "\xff", "input_tokens": 1}]'
    path = write(tmp_path, "late.json", body.encode() + bad)
    refused(loaded, path, "late.json", "field '[4000]'", "UTF-8")


def test_bad_utf8_after_the_sample_of_provider_pages(loaded, tmp_path):
    res = {"object": "organization.usage.completions.result", "input_tokens": 1,
           "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"}  # fmt: skip
    page = json.dumps(openai_page(*[res] * 3000))
    assert len(page) > SAMPLE_BYTES
    text = page.encode() + b"\n" + page.replace("gpt-4o", "gpt-\xff").encode("latin-1") + b"\n"
    path = write(tmp_path, "pull.jsonl", text)
    refused(loaded, path, "pull.jsonl", "line 2", "UTF-8")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_200000_deep(loaded, tmp_path, opener):
    path = write(tmp_path, "deep.json", opener * 200_000)
    refused(loaded, path, "deep.json", "nested too deeply")


def test_openai_bucket_in_year_10000(loaded, tmp_path):
    doc = openai_page(
        {"object": "organization.usage.completions.result", "input_tokens": 1,
         "output_tokens": 1, "num_model_requests": 1},
        start=253402300800,  # 10000-01-01
    )  # fmt: skip
    refused(
        loaded,
        write(tmp_path, "y10000.json", doc),
        "y10000.json",
        "data[0].start_time",
        "253402300800",
        "between 1970 and 2199",
    )


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z"])
def test_anthropic_bucket_out_of_range(loaded, tmp_path, when):
    with open(fixture("anthropic_usage.json")) as fh:
        doc = json.load(fh)
    doc["data"][0]["starting_at"] = when
    refused(loaded, write(tmp_path, "a.json", doc), "a.json", "data[0].starting_at", when)


@pytest.mark.parametrize("when", ["10000-01-01", "0000-01-01", "1969-12-31 23:59:59"])
def test_csv_timestamp_out_of_range(loaded, tmp_path, when):
    text = f"timestamp,model,input_tokens\n2026-01-01,gpt-4o,1\n{when},gpt-4o,5\n"
    refused(
        loaded,
        write(tmp_path, "years.csv", text),
        "years.csv",
        "line 3",
        "'timestamp'",
        repr(when),
        "between 1970 and 2199",
    )


@pytest.mark.parametrize("token", ["Infinity", "-Infinity", "NaN", "1e30"])
def test_openai_cost_amount_not_finite(loaded, tmp_path, token):
    doc = openai_page(
        {"object": "organization.costs.result", "amount": {"value": 0, "currency": "usd"}}
    )
    text = json.dumps(doc).replace('"value": 0', f'"value": {token}')
    refused(
        loaded,
        write(tmp_path, "costs.json", text),
        "costs.json",
        "data[0].results[0].amount.value",
        f"found '{token}'" if token != "1e30" else "found '1E+30'",
        "finite decimal amount",
    )


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-inf", "1e400"])
def test_generic_cost_not_finite(loaded, tmp_path, value):
    text = f"timestamp,model,input_tokens,cost\n2026-01-01,gpt-4o,1,{value}\n"
    refused(loaded, write(tmp_path, "c.csv", text), "c.csv", "line 2", "'cost'", repr(value))


def test_anthropic_quantity_and_counts_out_of_range(loaded, tmp_path):
    with open(fixture("anthropic_usage.json")) as fh:
        doc = json.load(fh)
    doc["data"][0]["results"][0]["output_tokens"] = 2**64
    refused(loaded, write(tmp_path, "big.json", doc), "data[0].results[0].output_tokens", "≥ 0")


# Real files that no specific check catches (yet): each reaches the last-resort handler of
# preview_file and import_file, which must still answer with a message naming the file.
_SURROGATE_PAGE = json.dumps(
    openai_page({"object": "organization.usage.completions.result", "input_tokens": 1,
                 "output_tokens": 1, "num_model_requests": 1, "model": "gpt-\ud800"})
)  # fmt: skip
_HUGE_INTEGER = '[{"timestamp": "2026-01-01", "input_tokens": 1' + "0" * 5000 + "}]"


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        # a lone surrogate escape (valid JSON) that Arrow cannot encode as UTF-8
        (_SURROGATE_PAGE, UnicodeEncodeError),
        # an integer longer than Python's 4,300-digit limit for converting text to int
        (_HUGE_INTEGER, ValueError),
    ],
    ids=["lone-surrogate-in-an-api-page", "integer-over-4300-digits"],
)
def test_an_unexpected_error_becomes_a_message(loaded, tmp_path, caplog, content, cause):
    path = write(tmp_path, "x.json", content)
    before = snapshot(loaded)
    for call in (import_file, preview_file):
        caplog.clear()
        with (
            caplog.at_level(logging.ERROR, logger="tokenboard"),
            pytest.raises(TokenboardError) as info,
        ):
            call(loaded, path)
        text = str(info.value)
        assert text.startswith("x.json was not imported: an unexpected error occurred ("), text
        assert f"({cause.__name__}: " in text and text.endswith("; nothing changed"), text
        assert any(r.exc_info and r.exc_info[0] is cause for r in caplog.records)
    assert snapshot(loaded) == before
    failed = loaded.query("SELECT status, error FROM imports ORDER BY import_id DESC LIMIT 1")[0]
    assert failed[0] == "failed" and "x.json was not imported" in failed[1]


# -- item 12: one rule for counts ------------------------------------------------------------
def test_negative_counts_are_refused_by_the_generic_importer(loaded, tmp_path):
    text = 'timestamp,model,Input tokens\n2026-01-01,gpt-4o,"1,000"\n2026-01-02,gpt-4o,"-99,900"\n'
    refused(
        loaded,
        write(tmp_path, "neg.csv", text),
        "neg.csv",
        "line 3",
        "'Input tokens'",
        "'-99,900'",
        "a whole number ≥ 0",
    )


def test_negative_counts_read_natively_are_refused(loaded, tmp_path):
    # clean integers: the sniffer reads the column as BIGINT; the rule still holds
    rows = "\n".join(f"2026-01-01 00:00:{i:02d},gpt-4o,{i},2" for i in range(50))
    text = f"timestamp,model,requests,output_tokens\n{rows}\n2026-01-02 00:00:00,gpt-4o,-3,2\n"
    refused(loaded, write(tmp_path, "n.csv", text), "line 52", "'requests'", "'-3'", "≥ 0")


def test_negative_counts_in_json_lines_and_gateway_logs(loaded, tmp_path):
    path = write(tmp_path, "n.jsonl", _record(1) + "\n" + _record(-5) + "\n")
    refused(loaded, path, "line 2", "'input_tokens'", "'-5'", "a whole number ≥ 0")
    with open(fixture("helicone_export.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("completion_tokens")] = "-1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    lines = out.getvalue().splitlines()
    path = write(tmp_path, "h.csv", "\n".join(lines) + "\n")
    refused(loaded, path, "line 2", "'completion_tokens'", "'-1'", "a whole number ≥ 0")


def test_the_provider_importer_states_the_same_rule(loaded, tmp_path):
    doc = openai_page(
        {"object": "organization.usage.completions.result", "input_tokens": -99900,
         "output_tokens": 1, "num_model_requests": 1},
    )  # fmt: skip
    refused(
        loaded,
        write(tmp_path, "neg.json", doc),
        "data[0].results[0].input_tokens",
        "-99900",
        "a whole number ≥ 0",
    )


# -- item 14: full disk, other currencies ----------------------------------------------------
# Run in a child process inside a user + mount namespace (``unshare -rm``), with the database
# on a 16 MB tmpfs mounted there: the mount disappears with the child, however it ends, and no
# root is needed. The disk is filled to 64 KiB before the import; the database is copied out
# afterwards and opened again, as a restarted Tokenboard would find it.
_FULL_DISK_CHILD = r"""
import json, os, shutil, sys
from lib.errors import TokenboardError
from lib.ingest import import_file
from lib.store import Store

disk, start, path, out = sys.argv[1:5]
db = os.path.join(disk, "tokenboard.duckdb")
shutil.copy(start, db)
store = Store(db)
free = os.statvfs(disk)
with open(os.path.join(disk, "filler"), "wb") as fh:
    fh.write(b"\0" * (free.f_bavail * free.f_frsize - 64 * 1024))
report = {}
for attempt in ("first", "again"):
    try:
        import_file(store, path)
        report[attempt] = {"type": None}
    except Exception as err:
        chain, e = [], err
        while e is not None:
            chain.append(type(e).__name__)
            e = e.__context__
        report[attempt] = {"type": type(err).__name__, "message": str(err), "chain": chain,
                           "tokenboard": isinstance(err, TokenboardError)}
os.remove(os.path.join(disk, "filler"))  # space again: the same store opens anew and imports
try:
    report["reopened"] = store.reopen_if_closed()
    import_file(store, sys.argv[5])
    report["after_space"] = {"ok": True}
except Exception as err:
    report["after_space"] = {"ok": False, "message": f"{type(err).__name__}: {err}"}
try:
    store.close()
except Exception:
    pass
for name in ("tokenboard.duckdb", "tokenboard.duckdb.wal"):
    if os.path.exists(os.path.join(disk, name)):
        shutil.copy(os.path.join(disk, name), os.path.join(out, name))
print(json.dumps(report))
"""


def _requests_csv(tmp_path, rows: int) -> str:
    """``rows`` distinct request rows (values that do not compress away), seeded."""
    rnd = random.Random(rows)
    path = tmp_path / f"requests_{rows}.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("timestamp,request_id,model,user,input_tokens,output_tokens,cost\n")
        for i in range(rows):
            fh.write(
                f"2026-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{i // 60 % 60:02d},"
                f"req-{rnd.getrandbits(64):x},gpt-{rnd.randrange(1000)},user-{rnd.getrandbits(32):x},"
                f"{rnd.getrandbits(20)},{rnd.getrandbits(16)},0.{rnd.getrandbits(20)}\n"
            )
    return str(path)


def _import_on_a_full_disk(tmp_path, start_db: str, path: str) -> dict:
    """Import ``path`` twice into a copy of ``start_db`` on a full tmpfs; what each attempt
    raised, and the database as it was left in ``tmp_path / "after"``."""
    if shutil.which("unshare") is None:
        pytest.fail(
            "this test needs the `unshare` command (util-linux) to mount a small tmpfs in a "
            "user and mount namespace; install util-linux"
        )
    disk, out = tmp_path / "disk", tmp_path / "after"
    disk.mkdir()
    out.mkdir()
    mount = 'mount -t tmpfs -o size=16m tmpfs "$1" && shift && exec "$@"'
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TOKENBOARD_DEMO": "0"}
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", mount, "sh", str(disk),
         sys.executable, "-c", _FULL_DISK_CHILD, str(disk), start_db, path, str(out),
         fixture("helicone_export.csv")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    if proc.returncode != 0 and not proc.stdout.strip():
        pytest.fail(
            "could not run the import on a small tmpfs in a user and mount namespace "
            f"(`unshare -rm` + `mount -t tmpfs`), exit code {proc.returncode}:\n{proc.stderr}"
        )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("rows", "duckdb_error"),
    [
        (150_000, "IOException"),  # full row groups written while the rows are inserted
        (2_000, "TransactionException"),  # the commit cannot write its log
        (50_000, "FatalException"),  # the commit cannot write its checkpoint
    ],
    ids=["while-writing-rows", "at-commit-log", "at-commit-checkpoint"],
)
def test_a_full_disk_is_reported_and_changes_nothing(tmp_path, rows, duckdb_error):
    start = str(tmp_path / "start.duckdb")
    with Store(start) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
        import_file(s, fixture("openai_usage_completions.json"))
        before = snapshot(s)
    path = _requests_csv(tmp_path, rows)
    name = os.path.basename(path)
    report = _import_on_a_full_disk(tmp_path, start, path)
    first = report["first"]
    assert duckdb_error in first.get("chain", []), first  # the case this parameter is about
    assert first["type"] == "DiskFullError", first
    text = first["message"]
    assert text.startswith(f"{name} was not imported: the disk is full"), text
    assert "nothing changed" in text and "could not be read" not in text, text
    if duckdb_error == "FatalException":  # DuckDB closed the database: it is opened again
        assert "opens the database again by itself" in text, text
    assert report["again"]["tokenboard"], report["again"]  # a message again, never a traceback
    # once there is space again, the same store (reopened if DuckDB closed it) imports again
    assert report["after_space"] == {"ok": True}, report["after_space"]
    assert report["reopened"] is (duckdb_error == "FatalException")
    with Store(str(tmp_path / "after" / "tokenboard.duckdb")) as after:
        small = snapshot(after)
        assert after.scalar("SELECT count(*) FROM imports WHERE status = 'ok'") == 3
        assert {k: v for k, v in small.items() if k in ("usage_buckets", "cost_items")} == {
            k: v for k, v in before.items() if k in ("usage_buckets", "cost_items")
        }
        earlier = after.query(
            """SELECT count(*), sum(hash(COLUMNS(*))) FROM request_events WHERE import_id IN
               (SELECT import_id FROM imports WHERE file_name <> 'helicone_export.csv')"""
        )[0]
        assert earlier == before["request_events"]  # the failed import left no row


@pytest.mark.parametrize(
    ("sep", "cost"),
    [(";", "12,50 €"), (",", "£12.50"), (",", "EUR 12.50"), (",", "12.50 GBP"), (",", "¥1200")],
)
def test_money_in_another_currency_is_refused(loaded, tmp_path, sep, cost):
    text = (
        f'timestamp{sep}model{sep}input_tokens{sep}cost\n2026-01-01{sep}gpt-4o{sep}5{sep}"{cost}"\n'
    )
    refused(
        loaded,
        write(tmp_path, "eur.csv", text),
        "eur.csv",
        "line 2",
        "'cost'",
        repr(cost),
        "only USD is supported",
    )


@pytest.mark.parametrize("cost", ["$12.50", "12.50 USD", "US$12.50", "12.50"])
def test_money_in_dollars_is_still_read(store, tmp_path, cost):
    text = f'timestamp,model,input_tokens,cost\n2026-01-01,gpt-4o,5,"{cost}"\n'
    import_file(store, write(tmp_path, "usd.csv", text))
    assert store.scalar("SELECT sum(cost_usd) FROM request_events") == Decimal("12.5")


# -- item 13: JSON within the memory limit ---------------------------------------------------
def test_generic_json_records_are_not_parsed_whole_in_python(store, tmp_path, monkeypatch):
    """Records go to DuckDB's JSON reader; Python only looks at the first 256 KB."""
    import lib.importers.read as read

    seen: list[int] = []
    real_loads = json.loads

    def spy(text, *a, **k):
        seen.append(len(text))
        return real_loads(text, *a, **k)

    monkeypatch.setattr(read.json, "loads", spy)
    lines = [_record(i) for i in range(12000)]
    jsonl = write(tmp_path, "r.jsonl", "\n".join(lines) + "\n")
    array = write(tmp_path, "r.json", "[" + ",\n".join(lines) + "]")
    assert os.path.getsize(jsonl) > 2 * SAMPLE_BYTES
    for path in (jsonl, array):
        pv = preview_file(store, path)
        assert (pv.rows, pv.input_tokens) == (12000, sum(range(12000)))
        r = import_file(store, path)
        assert r.rows_read == 12000
    assert max(seen, default=0) <= SAMPLE_BYTES


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_a_large_json_import_stays_near_the_memory_limit(tmp_path, shape):
    """A 60 MB JSON file used to need ~9× its size in Python objects; now DuckDB streams it."""
    path = tmp_path / f"big.{'jsonl' if shape == 'jsonl' else 'json'}"
    rec = '{"request_id": "r%d", "timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": %d, "output_tokens": 3, "user": "someone-with-a-long-name", "cost": 0.000123}'
    with open(path, "w") as fh:
        sep = "\n" if shape == "jsonl" else ",\n"
        fh.write("" if shape == "jsonl" else "[")
        fh.write(sep.join(rec % (i, i) for i in range(400_000)))
        fh.write("\n" if shape == "jsonl" else "]")
    assert os.path.getsize(path) > 60e6
    code = (
        "from lib.store import Store; from lib.ingest import import_file\n"
        f"s = Store({str(tmp_path / 'm.duckdb')!r}); r = import_file(s, {str(path)!r})\n"
        # VmHWM: this process's own peak (ru_maxrss would count the forking parent's size)
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(r.rows_read, int(hwm.split()[1]) // 1024)"
    )
    # a clean environment: earlier tests may leave settings behind in this process
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "TOKENBOARD_MEMORY_LIMIT": "300MB", "TOKENBOARD_DEMO": "0"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    rows, peak_mb = map(int, out.stdout.split())
    assert rows == 400_000
    assert peak_mb < 450, f"peak RSS {peak_mb} MB"
