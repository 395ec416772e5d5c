"""The Settings page's Data tab in AppTest over a real DuckDB file: an admin sees where the data
lives, previews and applies retention (with a confirmation; the totals unchanged, audited),
writes a backup to a folder; an analyst reads the facts and previews, with no action and no
server path; French words."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lib.ingest import import_file
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import PASSWORDS, app_test, write

SETTINGS = "pages/8_Settings.py"
NOW = datetime(2025, 2, 5, 9, 30, tzinfo=UTC)


def three_imports(db: str, tmp_path: Path) -> None:
    """As in test_retention: 8 requests over 2025-01-01 … 01-05; with 32 days, 5 rows go."""
    when = {1: "01T10", 2: "01T11", 3: "02T10", 4: "04T10", 5: "03T10", 6: "05T10", 7: "03T12",
            8: "05T12"}  # fmt: skip

    def log(name: str, ids: list[int]) -> str:
        lines = ["timestamp,request_id,model,user,status,latency_ms,input_tokens,output_tokens"]
        lines += [f"2025-01-{when[i]}:00:00Z,req-{i},gpt-4o-mini,u{i % 2},success,{100 * i},"
                  f"{10 * i},{i}" for i in ids]  # fmt: skip
        return write(tmp_path, name, "\n".join(lines) + "\n")

    with Store(db) as s:
        for name, ids in (("a.csv", [1, 2, 3, 4]), ("b.csv", [3, 5, 6]), ("c.csv", [7, 8])):
            import_file(s, log(name, ids))


def open_data(user: str, lang: str = "en"):
    at = app_test(SETTINGS)
    at.session_state["tb_now"] = NOW.isoformat()
    at.query_params.update({"tab": "data", "lang": lang})
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORDS[user])
    at.button[0].click()
    return at.run()


def button(at, key: str):
    return next(b for b in at.button if b.key == key)


def text(at) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [m.label for m in at.metric]
        + [s.value for s in at.success] + [w.value for w in at.warning] + [i.value for i in at.info]
    )  # fmt: skip


def test_admin_previews_applies_retention_and_backs_up(app_env, tmp_path):
    three_imports(app_env, tmp_path)
    at = open_data("ada")
    assert not at.exception
    shown = text(at)
    assert app_env in shown  # admins see where the server keeps the file
    assert "File size" in shown and "Schema version" in shown
    assert "Request rows are kept forever" in shown
    at.number_input(key="data_ret_days").set_value(32)
    button(at, "data_ret_preview").click()
    at.run()
    assert not at.exception
    shown = text(at)
    # 2025-02-05 − 32 days: rows before 2025-01-04 go: req-1, 2, 3 (A), 5 (B), 7 (C)
    assert "**5 request rows** dated before" in shown
    assert "8 requests, 360 input and 36 output tokens" in shown  # 10·(1+…+8), 1+…+8
    assert button(at, "data_ret_apply").disabled  # not before the confirmation
    at.checkbox(key="data_ret_sure").check()
    at.run()
    button(at, "data_ret_apply").click()
    at.run()
    assert not at.exception
    assert any("5 request rows removed" in s.value for s in at.success)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 3
        assert s.scalar("SELECT sum(requests) FROM counted_hourly") == 8
        (entry,) = entries(s, actions=("retention_applied",))
        assert entry.actor == "ada"
    # the daily setting
    at.number_input(key="data_ret_days").set_value(40)
    button(at, "data_ret_save").click()
    at.run()
    assert any("Retention set to 40 days" in s.value for s in at.success)
    # a backup to a folder on the server
    folder = tmp_path / "bk"
    at.text_input(key="data_bk_folder").input(str(folder))
    button(at, "data_bk_write").click()
    at.run()
    assert not at.exception
    assert any("Backup written to" in s.value for s in at.success)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["request_events"]["rows"] == 3
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # the download: a .zip made on demand
    button(at, "data_bk_zip").click()
    at.run()
    assert not at.exception
    # this database holds data: restore is the command line's
    assert "restore into a new file with the command line" in text(at)


def test_analyst_reads_and_previews_but_cannot_act(app_env, tmp_path):
    three_imports(app_env, tmp_path)
    at = open_data("ana")
    assert not at.exception
    shown = text(at)
    assert app_env not in shown  # the server's path is for admins
    assert "a DuckDB file on the server" in shown
    keys = {b.key for b in at.button}
    assert "data_ret_preview" in keys
    assert not keys & {"data_ret_save", "data_ret_apply", "data_bk_write", "data_bk_zip"}
    assert "Backups and restores are made by admins." in shown
    at.number_input(key="data_ret_days").set_value(32)
    button(at, "data_ret_preview").click()
    at.run()
    assert "**5 request rows** dated before" in text(at)
    assert not any(c.key == "data_ret_sure" for c in at.checkbox)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 8


@pytest.mark.parametrize("user", ["ada", "ana"])
def test_french(app_env, tmp_path, user):
    three_imports(app_env, tmp_path)
    at = open_data(user, "fr")
    assert not at.exception
    shown = text(at)
    assert "Où sont les données" in "\n".join(h.value for h in at.subheader)
    assert "Taille du fichier" in shown
    at.number_input(key="data_ret_days").set_value(32)
    button(at, "data_ret_preview").click()
    at.run()
    assert "**5 lignes de requêtes**" in text(at)


def test_an_empty_database_offers_the_restore_from_a_zip(app_env):
    at = open_data("ada")
    assert not at.exception
    assert "This database holds no data yet: a backup .zip made by Tokenboard" in text(at)
    assert "No import yet." in text(at)


def test_an_admin_restores_an_uploaded_zip_into_a_database_without_data(
    app_env, tmp_path, monkeypatch
):
    from lib.ingest.backups import backup
    from lib.store.backup import zip_bytes

    open_data("ada")  # the app moves the users in: the backup holds them
    three_imports(app_env, tmp_path)
    with Store(app_env) as s:
        backup(s, str(tmp_path / "bk"), role="admin", actor="ada")
    data = zip_bytes(str(tmp_path / "bk"))
    fresh = str(tmp_path / "fresh.duckdb")
    monkeypatch.setenv("TOKENBOARD_DB", fresh)
    at = open_data("ada")
    assert "This database holds no data yet" in text(at)
    at.file_uploader(key="data_rs_file").set_value(
        ("tokenboard-backup.zip", data, "application/zip")
    )
    at.run()
    button(at, "data_rs_go").click()
    at.run()
    assert not at.exception
    with Store(fresh) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 8
        assert s.scalar("SELECT sum(requests) FROM counted_hourly") == 8
        assert s.scalar("SELECT count(*) FROM key_audit WHERE action = 'backup_restored'") == 1


def test_hostile_zips_uploaded_on_the_page_are_refused_in_words(app_env, tmp_path):
    """A .zip holding users.parquet twice, a zip bomb (10 MiB of zeros deflated to about
    10 KB) and an encrypted entry: each an error naming the upload, no exception, nothing
    restored (the page still offers the restore)."""
    import io
    import warnings
    import zipfile

    def zipped(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
        buf = io.BytesIO()
        with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=method) as z:
            warnings.simplefilter("ignore")  # the duplicate name
            for name, data in entries:
                z.writestr(name, data)
        return buf.getvalue()

    encrypted = bytearray(zipped([("prices.parquet", b"PAR1")]))
    encrypted[6] |= 1  # flag bit 0, local header and central directory
    encrypted[encrypted.index(b"PK\x01\x02") + 8] |= 1
    cases = [
        (zipped([("users.parquet", b"a"), ("users.parquet", b"b")]),
         "evil.zip: holds users.parquet twice"),
        (zipped([("request_events.parquet", bytes(10 * 1024**2))], zipfile.ZIP_DEFLATED),
         "evil.zip: request_events.parquet unpacks to more than 100 times its packed size"),
        (bytes(encrypted), "evil.zip: prices.parquet could not be unpacked"),
    ]  # fmt: skip
    at = open_data("ada")
    for data, said in cases:
        at.file_uploader(key="data_rs_file").set_value(("evil.zip", data, "application/zip"))
        at.run()
        button(at, "data_rs_go").click()
        at.run()
        assert not at.exception
        errors = "\n".join(e.value for e in at.error).replace("\\", "")  # md() escapes
        assert said in errors, errors
        assert "This database holds no data yet" in text(at)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM key_audit WHERE action = 'backup_restored'") == 0
