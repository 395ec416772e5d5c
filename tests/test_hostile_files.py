"""A thousand hostile files against one real database: truncated and deeply nested JSON, bad
UTF-8 at many offsets (before and after the 256 KB sample), huge, negative, NaN and infinite
numbers, years 0 and 10000, thousands of columns, control characters, BOMs, empty and binary
files, mixed separators, other currencies, and random damage to every fixture.

Each file is previewed and imported. Whatever it holds: no exception but a TokenboardError,
no call over 10 s, and a refused file leaves the database exactly as it was.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lib.errors import TokenboardError
from lib.ingest import import_file
from lib.preview import preview_file
from lib.store import Store
from tests.conftest import FIXTURES, fixture, snapshot

CASES = 1000
SEED = 20260107
LIMIT_S = 10.0

Case = tuple[str, bytes]  # (file name, content)

_SEEDS = {p.name: p.read_bytes() for p in sorted(FIXTURES.iterdir()) if p.is_file()}
_TEXT_SEEDS = [n for n in _SEEDS if not n.endswith(".xlsx")]
_BAD_NUMBERS = ["-1", "-99,900", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400",
                "9223372036854775808", "18446744073709551616", "1" + "0" * 60, "-0", "1e30",
                "0x10", "1_000", "٣", "１２", "12,50 €", "£3", "EUR 5", "5 GBP", "¥1200", "$-3"]  # fmt: skip
_BAD_DATES = ["0000-01-01", "0001-01-01", "10000-01-01", "9999-12-31 23:59:59", "1969-12-31",
              "2026-02-30", "2026-13-01", "99/99/9999", "-2026-01-01", "253402300800",
              "1e20", "2026-01-01T00:00:00+25:00", "31/12/1899"]  # fmt: skip
_JSON_NUMBERS = ["-1", "NaN", "Infinity", "-Infinity", "1e400", "1e30", "-5.5",
                 "18446744073709551616", "1" + "0" * 400, "true", "null", '"12"', "[]", "{}"]  # fmt: skip


def _record(i: int, rng: random.Random) -> dict:
    return {
        "timestamp": f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        "model": rng.choice(["gpt-4o", "claude-sonnet-4", "x"]),
        "input_tokens": rng.randint(0, 5000),
        "output_tokens": rng.randint(0, 500),
        "cost": round(rng.random() / 100, 6),
    }


def _csv(rng: random.Random, rows: int, sep: str = ",") -> str:
    lines = [sep.join(["timestamp", "model", "input_tokens", "cost"])]
    for i in range(rows):
        r = _record(i, rng)
        lines.append(sep.join([r["timestamp"], r["model"], str(r["input_tokens"]), str(r["cost"])]))
    return "\n".join(lines) + "\n"


def _page(rng: random.Random, start: object = 1730419200, value: object = None) -> dict:
    res = {"object": "organization.usage.completions.result", "input_tokens": rng.randint(0, 99),
           "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"}  # fmt: skip
    if value is not None:
        res = {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"}}
    return {"object": "page", "has_more": False,
            "data": [{"object": "bucket", "start_time": start, "results": [res]}]}  # fmt: skip


# -- generators: each makes one hostile file -------------------------------------------------
def truncated_json(rng: random.Random) -> Case:
    doc = rng.choice(
        [
            _page(rng),
            [_record(i, rng) for i in range(20)],
            json.loads(_SEEDS["anthropic_usage.json"]),
        ]
    )
    text = json.dumps(doc).encode()
    return "truncated.json", text[: rng.randint(1, len(text) - 1)]


def deep_nesting(rng: random.Random) -> Case:
    depth = rng.choice([100, 990, 1000, 5000, 50_000, 200_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('{"data":[', "]}")])
    body = opener * depth + ("1" + closer * depth if rng.random() < 0.5 else "")
    if rng.random() < 0.3:  # the nesting inside a record of a JSON Lines file
        body = json.dumps(_record(0, rng)) + "\n" + '{"timestamp": ' + body + "}\n"
    return rng.choice(["deep.json", "deep.jsonl"]), body.encode()


def bad_utf8(rng: random.Random) -> Case:
    big = rng.random() < 0.08  # past the 256 KB sample
    n = 3000 if big else rng.randint(1, 40)
    kind = rng.choice(["csv", "jsonl", "json", "pages"])
    if kind == "csv":
        data = _csv(rng, n).encode()
    elif kind == "jsonl":
        data = "\n".join(json.dumps(_record(i, rng)) for i in range(n)).encode() + b"\n"
    elif kind == "json":
        data = json.dumps([_record(i, rng) for i in range(n)]).encode()
    else:
        data = "\n".join(json.dumps(_page(rng)) for _ in range(max(2, n // 10))).encode()
    at = rng.randint(len(data) - 200 if big else 0, len(data) - 1)
    junk = rng.choice([b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82", b"\x80"])
    return f"bad_utf8.{'csv' if kind == 'csv' else 'json'}", data[:at] + junk + data[at:]


def bad_number(rng: random.Random) -> Case:
    v = rng.choice(_BAD_NUMBERS)
    kind = rng.choice(["csv", "csv_native", "jsonl", "usage_json", "cost_json", "anthropic"])
    if kind.startswith("csv"):
        rows = 60 if kind == "csv_native" else 2
        text = _csv(rng, rows)
        col = rng.choice(["input_tokens", "cost"])
        idx = 2 if col == "input_tokens" else 3
        lines = text.splitlines()
        cells = lines[-1].split(",")
        cells[idx] = f'"{v}"'
        lines[-1] = ",".join(cells)
        return "numbers.csv", ("\n".join(lines) + "\n").encode()
    jv = rng.choice(_JSON_NUMBERS)
    if kind == "jsonl":
        rec = json.dumps(_record(1, rng)).replace(
            '"input_tokens": ', f'"input_tokens": {jv}, "x": '
        )
        return "numbers.jsonl", (json.dumps(_record(0, rng)) + "\n" + rec + "\n").encode()
    if kind == "usage_json":
        text = json.dumps(_page(rng)).replace('"input_tokens": ', f'"input_tokens": {jv}, "x": ')
        return "usage.json", text.encode()
    if kind == "cost_json":
        return "costs.json", json.dumps(_page(rng, value=0)).replace(
            '"value": 0', f'"value": {jv}'
        ).encode()
    doc = json.loads(_SEEDS["anthropic_cost.json"])
    doc["data"][0]["results"][0]["amount"] = rng.choice([v, "NaN", "Infinity", "1e999", -1e308])
    return "anthropic.json", json.dumps(doc).encode()


def bad_year(rng: random.Random) -> Case:
    kind = rng.choice(["csv", "openai", "anthropic", "jsonl"])
    if kind == "csv":
        d = rng.choice(_BAD_DATES)
        return (
            "years.csv",
            f"timestamp,model,input_tokens\n2026-01-01,gpt-4o,1\n{d},gpt-4o,5\n".encode(),
        )
    if kind == "openai":
        start = rng.choice([-1, 0, -86400, 253402300800, 10**15, 10**30, 2**63, 7258118400])
        return "years.json", json.dumps(_page(rng, start=start)).encode()
    if kind == "anthropic":
        doc = json.loads(_SEEDS["anthropic_usage.json"])
        when = rng.choice(["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                           "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:00"])  # fmt: skip
        doc["data"][0][rng.choice(["starting_at", "ending_at"])] = when
        return "years.json", json.dumps(doc).encode()
    rec = _record(0, rng) | {"timestamp": rng.choice(_BAD_DATES)}
    return "years.jsonl", (json.dumps(_record(1, rng)) + "\n" + json.dumps(rec) + "\n").encode()


def many_columns(rng: random.Random) -> Case:
    n = rng.choice([999, 1000, 1001, 3000, 5000])
    names = rng.choice([["a"] * n, [""] * n, [f"c{i}" for i in range(n)], ["a", "a_2"] * (n // 2)])
    if rng.random() < 0.5:
        names[:3] = ["timestamp", "input_tokens", "model"]
    if rng.random() < 0.3:
        rec = {name or f"k{i}": 1 for i, name in enumerate(names)}
        return "wide.jsonl", (json.dumps(rec) + "\n" + json.dumps(rec) + "\n").encode()
    row = ["2026-01-01", "1", "gpt-4o"] + ["1"] * (len(names) - 3)
    return "wide.csv", (",".join(names) + "\n" + ",".join(row) + "\n").encode()


def control_chars(rng: random.Random) -> Case:
    data = bytearray(
        rng.choice(
            [_csv(rng, 5).encode(), json.dumps([_record(i, rng) for i in range(5)]).encode()]
        )
    )
    for _ in range(rng.randint(1, 8)):
        data.insert(rng.randrange(len(data)), rng.choice([0, 1, 7, 8, 11, 12, 27, 127, 0x1F]))
    return "control.csv", bytes(data)


def boms(rng: random.Random) -> Case:
    bom = rng.choice(
        [
            b"\xef\xbb\xbf",
            b"\xef\xbb\xbf\xef\xbb\xbf",
            b"\xff\xfe",
            b"\xfe\xff",
            b"\x00\x00\xfe\xff",
        ]
    )
    body = rng.choice([_csv(rng, 3).encode(), json.dumps(_page(rng)).encode(),
                       _csv(rng, 3).encode("utf-16")])  # fmt: skip
    return "bom.csv", bom + body


def empty_or_blank(rng: random.Random) -> Case:
    return "blank.csv", rng.choice([b"", b" ", b"\n\n\n", b"\r\n", b"\t", b"\xef\xbb\xbf", b"[]", b"{}",
                                    b"null", b"0", b'""', b"[{}]", b"{}\n{}\n", b"timestamp\n"])  # fmt: skip


def binary(rng: random.Random) -> Case:
    size = rng.choice([1, 4, 100, 5000])
    data = bytes(rng.randrange(256) for _ in range(size))
    prefix = rng.choice([b"", b"PAR1", b"PK\x03\x04", b"\x89PNG", b"{", b"[", b"timestamp,"])
    return "binary.bin", prefix + data


def mixed_separators(rng: random.Random) -> Case:
    rows = _csv(rng, 6).splitlines()
    out = [row.replace(",", rng.choice([",", ";", "\t", "|", ", ", ",,"])) for row in rows]
    if rng.random() < 0.3:
        out.insert(rng.randrange(1, len(out)), '"unterminated,quote')
    return "mixed.csv", ("\r\n" if rng.random() < 0.5 else "\n").join(out).encode()


def mutated_fixture(rng: random.Random) -> Case:
    name = rng.choice(_TEXT_SEEDS)
    data = bytearray(_SEEDS[name])
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(data) + 1)
        if op < 0.4 and pos < len(data):
            data[pos] = rng.randrange(256)
        elif op < 0.7:
            del data[pos : pos + rng.randint(1, 20)]
        else:
            data[pos:pos] = rng.choice(
                [b"-", b"\xff", b"{", b"]", b'"', b";", b"\n", b"NaN", b"99999999999999999999"]
            )
    return name, bytes(data)


GENERATORS: list[Callable[[random.Random], Case]] = [
    truncated_json, deep_nesting, bad_utf8, bad_number, bad_year, many_columns,
    control_chars, boms, empty_or_blank, binary, mixed_separators, mutated_fixture,
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    """One real database holding data, reused by every case."""
    path = tmp_path_factory.mktemp("hostile") / "h.duckdb"
    with Store(str(path)) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
        import_file(s, fixture("openai_usage_completions.json"))
        import_file(s, fixture("anthropic_cost.json"))
        yield s


def _timed(fn: Callable[[], object]) -> tuple[str, float]:
    """('ok' | 'refused' | 'CRASH: …', seconds)."""
    t0 = time.perf_counter()
    try:
        fn()
        outcome = "ok"
    except TokenboardError:
        outcome = "refused"
    except Exception as err:
        outcome = f"CRASH: {type(err).__name__}: {str(err)[:200]}"
    return outcome, time.perf_counter() - t0


def test_a_thousand_hostile_files(hostile_store, tmp_path: Path):
    rng = random.Random(SEED)
    problems: list[str] = []
    before = snapshot(hostile_store)
    counts: dict[str, int] = {}
    for i in range(CASES):
        gen = GENERATORS[i % len(GENERATORS)]
        name, data = gen(rng)
        path = tmp_path / f"{i:04d}_{name}"
        path.write_bytes(data)
        what = f"case {i} ({gen.__name__}, {len(data):,} bytes, {path.name})"
        outcome, secs = _timed(lambda p=str(path): preview_file(hostile_store, p))
        if outcome.startswith("CRASH") or secs > LIMIT_S:
            problems.append(f"{what}: preview {outcome} in {secs:.1f} s")
        outcome, secs = _timed(lambda p=str(path), n=name: import_file(hostile_store, p, display=n))
        counts[outcome.split(":")[0]] = counts.get(outcome.split(":")[0], 0) + 1
        if outcome.startswith("CRASH") or secs > LIMIT_S:
            problems.append(f"{what}: import {outcome} in {secs:.1f} s")
        after = snapshot(hostile_store)
        if outcome != "ok" and after != before:
            problems.append(f"{what}: refused but the database changed")
        before = after
        path.unlink()
    assert not problems, "\n".join(problems[:30])
    assert counts.get("refused", 0) > CASES // 2, counts  # the generators do make bad files
