"""Backup to Parquet and restore: a round trip gives the same ``summary --json`` totals, the same
rows and contents in every table; bad folders are refused with the file named, nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.demo import load_demo
from lib.ingest import retention
from lib.ingest.backups import backup, restore
from lib.store import Store
from lib.store.backup import MANIFEST, BackupError, is_empty, unzip_to, zip_bytes
from lib.store.facts import base_tables
from tests.conftest import run_cli

AUDIT_OF_BACKUPS = "action NOT IN ('backup_made', 'backup_restored')"


def contents(store: Store) -> dict[str, tuple[int, int]]:
    """Every table: (rows, sum of the rows' hashes); the audit log without the backup's and
    the restore's own entries (each database holds one that the other does not)."""
    out = {}
    for t in base_tables(store):
        where = f"WHERE {AUDIT_OF_BACKUPS}" if t == "key_audit" else ""
        n, h = store.query(f'SELECT count(*), coalesce(sum(hash("{t}")), 0) FROM "{t}" {where}')[0]
        out[t] = (int(n), int(h))
    return out


def add_user(store: Store, password_hash: str) -> None:
    """The admin ada, as the users table holds her (a bcrypt hash, never a password)."""
    with store.write() as cur:
        cur.execute(
            "INSERT INTO users (username, name, role, password_hash, created_at, updated_at) "
            "VALUES ('ada', 'Ada', 'admin', ?, now(), now())",
            [password_hash],
        )


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[str, str, dict]:
    """A database with demo data of all three grains (a week, small), a setting and audit
    entries, backed up once: (database path, backup folder, its contents at backup time)."""
    tmp = tmp_path_factory.mktemp("src")
    db = str(tmp / "src.duckdb")
    with Store(db) as store:
        load_demo(store, days=7, scale=0.05, end=datetime(2026, 11, 20, tzinfo=UTC))
        retention.set_days(store, 400, role="admin", actor="ada")
        add_user(store, "$2b$04$backup-hash")
        retention.set_days(store, 365, role="admin", actor="ada")
        before = contents(store)
        info = backup(store, str(tmp / "bk"), role="admin", actor="ada")
        assert info.rows == sum(n for n, _h in before.values())
        after = store.query("SELECT actor, action FROM key_audit ORDER BY id DESC LIMIT 1")
        assert after == [("ada", "backup_made")]
    return db, str(tmp / "bk"), before


def test_round_trip_same_totals_rows_and_contents(source, tmp_path):
    db, folder, before = source
    assert before["request_events"][0] > 100 and before["usage_buckets"][0] > 0
    assert before["cost_items"][0] > 0
    # owner-only folder and files: they hold password, key and session hashes
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for name in os.listdir(folder):
        assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name
    manifest = json.loads(Path(folder, MANIFEST).read_text())
    assert set(manifest["tables"]) == set(before)
    assert manifest["tables"]["request_events"]["rows"] == before["request_events"][0]
    assert manifest["tool_version"] and manifest["created_at"]

    new = str(tmp_path / "restored.duckdb")
    done = run_cli("restore", "--db", new, folder)
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout
    with Store(new) as restored:
        assert contents(restored) == before
        # the sequences are past the restored ids: the next import and audit entry are new ids
        top = restored.scalar("SELECT max(import_id) FROM imports")
        assert restored.scalar("SELECT nextval('import_id_seq')") > top
        top = restored.scalar("SELECT max(id) FROM key_audit")
        assert restored.scalar("SELECT nextval('key_audit_id_seq')") > top
        assert (
            restored.scalar("SELECT count(*) FROM key_audit WHERE action = 'backup_restored'") == 1
        )
    a = run_cli("summary", "--json", "--db", db)
    b = run_cli("summary", "--json", "--db", new)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert json.loads(a.stdout) == json.loads(b.stdout)
    assert json.loads(a.stdout)["requests"]  # not two empty summaries

    # a second restore into the now non-empty database is refused, nothing changed
    again = run_cli("restore", "--db", new, folder)
    assert again.returncode == 1 and "not empty" in again.stderr
    assert "Traceback" not in again.stderr
    with Store(new) as restored:
        assert contents(restored) == before


def copy_of(folder: str, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def edit_manifest(folder: Path, change) -> None:
    path = folder / MANIFEST
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def refused(store: Store, folder: Path, match: str) -> None:
    with pytest.raises(BackupError, match=match):
        restore(store, str(folder), role="admin", actor="ada")
    assert is_empty(store)


def test_tampered_and_incomplete_backups_are_refused(source, tmp_path):
    _db, folder, before = source
    n = before["request_events"][0]
    with Store(str(tmp_path / "target.duckdb")) as target:
        # a row count that does not match the manifest
        bad = copy_of(folder, tmp_path / "a")
        edit_manifest(bad, lambda m: m["tables"]["request_events"].update(rows=n + 1))
        refused(
            target, bad, f"request_events.parquet: holds {n:,} rows; the manifest says {n + 1:,}"
        )
        # a file changed since the backup
        bad = copy_of(folder, tmp_path / "b")
        with open(bad / "imports.parquet", "ab") as f:
            f.write(b"x")
        refused(target, bad, "imports.parquet: its content differs from the manifest's checksum")
        # a newer schema
        bad = copy_of(folder, tmp_path / "c")
        edit_manifest(bad, lambda m: m["schema_versions"].append(999))
        refused(target, bad, "made by a newer Tokenboard \\(schema versions 999 are unknown")
        # an older one (a version missing)
        bad = copy_of(folder, tmp_path / "d")
        edit_manifest(bad, lambda m: m["schema_versions"].remove(25))
        refused(target, bad, "versions 25 are not in the backup")
        # a missing table, in the manifest or on disk
        bad = copy_of(folder, tmp_path / "e")
        edit_manifest(bad, lambda m: m["tables"].pop("prices"))
        refused(target, bad, "the table prices is missing")
        bad = copy_of(folder, tmp_path / "f")
        os.remove(bad / "prices.parquet")
        refused(target, bad, "prices.parquet: missing")
        # no manifest (an interrupted backup)
        bad = copy_of(folder, tmp_path / "g")
        os.remove(bad / MANIFEST)
        refused(target, bad, "manifest.json: missing")
        # checks passed but a file does not load (a column of another type): all or nothing
        bad = copy_of(folder, tmp_path / "h")
        with Store(":memory:") as mem, mem.read() as cur:
            cur.execute(
                "COPY (SELECT * REPLACE ('x' || import_id AS import_id) FROM read_parquet(?)) "
                "TO ? (FORMAT parquet)",
                [str(Path(folder) / "imports.parquet"), str(bad / "imports.parquet")],
            )
        digest = hashlib.sha256((bad / "imports.parquet").read_bytes()).hexdigest()
        edit_manifest(bad, lambda m: m["tables"]["imports"].update(sha256=digest))
        refused(target, bad, "could not be restored")
        # an analyst may not restore
        with pytest.raises(PermissionDeniedError):
            restore(target, folder, role="analyst", actor="ann")
        assert is_empty(target)


def test_backup_refuses_a_used_folder_and_an_analyst(store, tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "x.txt").write_text("x")
    with pytest.raises(BackupError, match="expected a new or empty folder"):
        backup(store, str(used), role="admin", actor="ada")
    with pytest.raises(PermissionDeniedError):
        backup(store, str(tmp_path / "new"), role="analyst", actor="ann")
    assert not (tmp_path / "new").exists()


def test_zip_round_trip_and_hostile_zips(source, tmp_path):
    import io
    import zipfile

    _db, folder, before = source
    data = zip_bytes(folder)
    unzip_to(data, str(tmp_path / "unzipped"))
    with Store(str(tmp_path / "z.duckdb")) as target:
        restore(target, str(tmp_path / "unzipped"), role="admin", actor="ada")
        assert contents(target) == before
    for name in ("../evil.parquet", "sub/prices.parquet", "notes.txt"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, b"x")
        with pytest.raises(BackupError, match=r"expected only manifest\.json"):
            unzip_to(buf.getvalue(), str(tmp_path / "hostile"))
        assert not (tmp_path / "evil.parquet").exists()
    with pytest.raises(BackupError, match=r"not a \.zip file"):
        unzip_to(b"not a zip", str(tmp_path / "hostile2"))


def test_cli_backup_retention_and_bad_folders(tmp_path):
    db = str(tmp_path / "c.duckdb")
    with Store(db):
        pass
    out = run_cli("backup", "--db", db, str(tmp_path / "bk"))
    assert out.returncode == 0, out.stderr
    assert "keep it private" in out.stdout
    for args in (
        ("restore", "--db", str(tmp_path / "n.duckdb"), str(tmp_path / "nowhere")),
        ("restore", "--db", str(tmp_path / "n.duckdb"), str(tmp_path)),  # no manifest
        ("backup", "--db", db, str(tmp_path / "bk")),  # not empty
        ("retention", "--db", db, "--days", "zero"),
    ):
        done = run_cli(*args)
        assert done.returncode in (1, 2), args
        assert "Traceback" not in done.stderr and "error:" in done.stderr, done.stderr
    prev = run_cli("retention", "--db", db, "--days", "40")
    assert prev.returncode == 0, prev.stderr
    assert "Would remove 0 request rows dated before" in prev.stdout


def test_a_database_with_only_sign_in_rows_takes_the_backup_with_its_users(source, tmp_path):
    """The page's case: the app opened the database and an admin signed in (a session and an
    audit entry), nothing else: the restore replaces those too; strictly it is not empty."""
    _db, folder, before = source
    with Store(str(tmp_path / "app.duckdb")) as target:
        with target.write() as cur:
            cur.execute(
                "INSERT INTO auth_sessions (token_hash, username, created_at, last_seen, "
                "expires_at) VALUES ('h', 'ada', now(), now(), now() + INTERVAL 1 DAY)"
            )
            cur.execute("INSERT INTO key_audit VALUES (nextval('key_audit_id_seq'), now(), "
                        "'ada', 'users_migrated', NULL, '{}', NULL)")  # fmt: skip
        add_user(target, "$2b$04$this-database-hash")  # the same user name as the backup's
        assert not is_empty(target) and is_empty(target, but_sign_in=True)
        with pytest.raises(BackupError, match="is not empty"):
            restore(target, folder, role="admin", actor="ada")
        restore(target, folder, role="admin", actor="ada", but_sign_in=True)
        assert contents(target) == before
        assert target.query("SELECT username, password_hash FROM users") == [
            ("ada", "$2b$04$backup-hash")
        ]
        # data of any other kind (a setting) and it is refused, with the page's flag too
    with Store(str(tmp_path / "app2.duckdb")) as other:
        retention.set_days(other, 40, role="admin", actor="ada")
        with pytest.raises(BackupError, match="is not empty"):
            restore(other, folder, role="admin", actor="ada", but_sign_in=True)


def test_the_page_restore_refuses_a_backup_without_an_admin(tmp_path):
    with Store(str(tmp_path / "no_admin.duckdb")) as src:
        backup(src, str(tmp_path / "bk"), role="admin", actor="cli")
    with Store(str(tmp_path / "app.duckdb")) as target:
        add_user(target, "$2b$04$this-database-hash")
        with pytest.raises(BackupError, match=r"users\.parquet: holds no active admin"):
            restore(target, str(tmp_path / "bk"), role="admin", actor="ada", but_sign_in=True)
        assert target.query("SELECT username FROM users") == [("ada",)]  # nothing changed


def hostile(tmp_path: Path, entries: list[tuple[str, bytes]], **kw) -> bytes:
    """A .zip holding ``entries`` (name, content) in that order, duplicates allowed."""
    import io
    import warnings
    import zipfile

    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", **kw) as z:
        warnings.simplefilter("ignore")  # "Duplicate name": the point of some of these
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def test_a_zip_with_an_entry_twice_is_refused_naming_it(source, tmp_path):
    """Two users.parquet in one .zip: which one would be restored? Refused before anything is
    written (it used to end in FileExistsError on the second)."""
    _db, folder, _before = source
    users = Path(folder, "users.parquet").read_bytes()
    data = hostile(tmp_path, [("users.parquet", users), ("manifest.json", b"{}"),
                              ("users.parquet", b"other")])  # fmt: skip
    target = tmp_path / "dup"
    with pytest.raises(BackupError, match=r"up\.zip: holds users\.parquet twice"):
        unzip_to(data, str(target), name="up.zip")
    assert not target.exists()


def patched_central(data: bytes, entry: str, **fields: int) -> bytes:
    """``data`` with the central directory's record of ``entry`` declaring other sizes:
    ``compress_size`` (offset 20) and/or ``file_size`` (offset 24), little-endian 4 bytes."""
    import struct

    name = entry.encode()
    at = data.index(b"PK\x01\x02")  # the first record
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    out = bytearray(data)
    for field, offset in (("compress_size", 20), ("file_size", 24)):
        if field in fields:
            struct.pack_into("<I", out, at + offset, fields[field])
    return bytes(out)


def test_a_zip_bomb_is_refused_before_it_fills_the_disk(source, tmp_path):
    """Real backups barely compress (Parquet is compressed already): a page .zip is stored,
    1.00:1; deflated anew, at most 3.1:1 for one file (manifest.json) and 1.6:1 in all. An entry
    of 10 MiB of zeros deflates to about 10 KB (~1000:1): refused, nothing written."""
    import zipfile

    from lib.store.backup import ZIP_MAX_BYTES, ZIP_MAX_RATIO

    assert ZIP_MAX_RATIO == 100 and ZIP_MAX_BYTES == 4 * 200 * 1024**2  # 4 x the upload limit
    _db, folder, _before = source
    manifest = Path(folder, MANIFEST).read_bytes()
    zeros = b"\0" * (10 * 1024**2)
    bomb = hostile(tmp_path, [(MANIFEST, manifest), ("request_events.parquet", zeros)],
                   compression=zipfile.ZIP_DEFLATED)  # fmt: skip
    assert len(bomb) < 20_000  # 10,485,760 bytes from less than 20 KB: over 500:1
    with pytest.raises(BackupError, match=r"up\.zip: request_events\.parquet unpacks to more than "
                                          r"100 times its packed size"):  # fmt: skip
        unzip_to(bomb, str(tmp_path / "bomb"), name="up.zip")
    assert not (tmp_path / "bomb").exists()

    # the same entry declaring a packed size of 10 MiB (1:1) in the central directory: the
    # whole .zip is still under 20 KB, so it would unpack to over 100 times the upload
    lying = patched_central(bomb, "request_events.parquet", compress_size=len(zeros))
    with pytest.raises(BackupError, match=r"up\.zip: unpacks to more than 100 times its own size"):
        unzip_to(lying, str(tmp_path / "lying"), name="up.zip")
    assert not (tmp_path / "lying").exists()

    # a total over the cap (here 1 MiB): 2 MiB of random bytes, stored (1:1)
    big = hostile(tmp_path, [(MANIFEST, manifest), ("prices.parquet", os.urandom(2 * 1024**2))])
    with pytest.raises(BackupError, match=r"up\.zip: too large; expected at most 500 files and "
                                          r"1 MB unpacked"):  # fmt: skip
        unzip_to(big, str(tmp_path / "big"), name="up.zip", max_bytes=1024**2)
    assert not (tmp_path / "big").exists()
    unzip_to(big, str(tmp_path / "big"), name="up.zip", max_bytes=3 * 1024**2)  # under it: taken
    assert os.path.getsize(tmp_path / "big" / "prices.parquet") == 2 * 1024**2

    # a real backup deflated anew unpacks within the caps
    data = hostile(tmp_path, [(n, Path(folder, n).read_bytes()) for n in sorted(os.listdir(folder))],
                   compression=zipfile.ZIP_DEFLATED, compresslevel=9)  # fmt: skip
    unzip_to(data, str(tmp_path / "deflated"), name="up.zip")
    assert sorted(os.listdir(tmp_path / "deflated")) == sorted(os.listdir(folder))


def damaged(data: bytes, entry: str, how: str) -> bytes:
    """``data`` (a .zip whose first file is ``entry``) changed as ``how`` says: "encrypted"
    (flag bit 0, local header and central directory), "method 99" (a compression method
    zipfile does not know), "garbage" (its packed bytes after the first 4 overwritten), "cut"
    (it declares 10 times the .zip's size, packed and unpacked: the data ends first)."""
    import struct

    name = entry.encode()
    assert data[30 : 30 + len(name)] == name  # the first local header is the entry's
    central = data.index(b"PK\x01\x02")
    assert data[central + 46 : central + 46 + len(name)] == name
    out = bytearray(data)
    if how == "encrypted":
        for at in (6, central + 8):
            out[at] |= 1
    elif how == "method 99":
        for at in (8, central + 10):
            struct.pack_into("<H", out, at, 99)
    elif how == "garbage":
        start = 30 + len(name) + struct.unpack_from("<H", data, 28)[0]
        out[start + 4 : start + 64] = bytes(range(7, 67))
    elif how == "cut":
        for at in (central + 20, central + 24):
            struct.pack_into("<I", out, at, 10 * len(data))
    return bytes(out)


@pytest.mark.parametrize(
    ("compression", "how", "why"),
    [
        ("stored", "encrypted", r"is encrypted, password required"),  # RuntimeError
        ("stored", "method 99", r"compression method is not supported"),  # NotImplementedError
        ("deflated", "garbage", r"Error -3 while decompressing"),  # zlib.error
        ("bzip2", "garbage", r"Invalid data stream"),  # OSError
        ("lzma", "garbage", r"Invalid or unsupported options"),  # lzma.LZMAError
        ("stored", "cut", r"EOFError"),  # EOFError, without a message
        ("stored", "garbage", r"Bad CRC-32 for file 'prices\.parquet'"),  # BadZipFile
    ],
)
def test_a_damaged_or_hostile_zip_is_refused_naming_the_file(
    source, tmp_path, compression, how, why
):
    """Each kind of damage zipfile or a decompressor raises on is one refusal naming the .zip
    and the file in it; nothing is left unpacked (the manifest, written first, is taken back)."""
    import zipfile

    _db, folder, _before = source
    method = {"stored": zipfile.ZIP_STORED, "deflated": zipfile.ZIP_DEFLATED,
              "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}[compression]  # fmt: skip
    prices = Path(folder, "prices.parquet").read_bytes()
    good = hostile(tmp_path, [("prices.parquet", prices), (MANIFEST, b"{}")], compression=method)
    data = damaged(good, "prices.parquet", how)
    target = tmp_path / "t"
    with pytest.raises(BackupError, match=r"up\.zip: prices\.parquet could not be unpacked \(.*"
                                          + why):  # fmt: skip
        unzip_to(data, str(target), name="up.zip")
    assert not target.exists()
    # and into a folder that was there (empty): left empty
    target.mkdir()
    with pytest.raises(BackupError):
        unzip_to(data, str(target), name="up.zip")
    assert os.listdir(target) == []


def test_not_a_zip_a_bad_name_and_a_hostile_manifest_are_refused(source, tmp_path):
    """A .zip cut in half, a name flagged UTF-8 that is not; a manifest nested 100,000 deep
    (RecursionError in json), with an infinite schema version (OverflowError), with a sequence
    at 9e18 (stepping there would take days: a Tokenboard database's ids stay far below
    100,000,000), larger than 1 MiB; a Parquet file that is not one under a matching checksum."""
    _db, folder, _before = source
    good = zip_bytes(folder)
    with pytest.raises(BackupError, match=r"up\.zip: not a \.zip file"):
        unzip_to(good[: len(good) // 2], str(tmp_path / "half"), name="up.zip")
    bad_name = hostile(tmp_path, [("prices.parquet", b"x")])
    central = bad_name.index(b"PK\x01\x02")
    patched = bytearray(bad_name)
    patched[central + 9] |= 0x08  # flag bit 11: the name is UTF-8
    patched[central + 46] = 0xFF  # which it is not
    with pytest.raises(BackupError, match=r"up\.zip: not a \.zip file \(.*utf-8"):
        unzip_to(bytes(patched), str(tmp_path / "name"), name="up.zip")

    def refused_manifest(text: str, match: str) -> None:
        bad = copy_of(folder, tmp_path / f"m{len(os.listdir(tmp_path))}")
        (bad / MANIFEST).write_text(text)
        with Store(":memory:") as target:
            with pytest.raises(BackupError, match=match):
                restore(target, str(bad), role="admin", actor="ada", but_sign_in=True)
            assert is_empty(target)

    manifest = json.loads(Path(folder, MANIFEST).read_text())
    refused_manifest("[" * 100_000, r"manifest\.json: could not be read as JSON")
    inf = dict(manifest, schema_versions=[*manifest["schema_versions"], 1e999])
    refused_manifest(json.dumps(inf), r"manifest\.json: not a Tokenboard backup manifest")
    far = dict(manifest, sequences={**manifest["sequences"], "import_id_seq": 9 * 10**18})
    refused_manifest(json.dumps(far), r"manifest\.json: the sequence import_id_seq is at "
                                      r"9,000,000,000,000,000,000; expected at most 100,000,000")  # fmt: skip
    big = json.dumps(manifest) + " " * 1024**2  # ASCII: as many bytes as characters
    refused_manifest(big, rf"manifest\.json: {len(big):,} bytes; expected at most 1,048,576")

    # a file that is not Parquet, its checksum in the manifest (as a hostile .zip would have)
    bad = copy_of(folder, tmp_path / "notparquet")
    (bad / "prices.parquet").write_bytes(b"PAR1 not really PAR1")
    digest = hashlib.sha256(b"PAR1 not really PAR1").hexdigest()
    edit_manifest(bad, lambda m: m["tables"]["prices"].update(sha256=digest))
    with Store(":memory:") as target:
        with pytest.raises(BackupError, match=r"prices\.parquet: could not be read as Parquet"):
            restore(target, str(bad), role="admin", actor="ada", but_sign_in=True)
        assert is_empty(target)


def test_random_damage_to_a_backup_zip_is_always_a_refusal(source, tmp_path):
    """1,000 .zips, each a real backup's (stored or deflated) with 1 to 4 bytes changed, mostly
    in the headers: each unpacks or is refused with BackupError, never another exception, and a
    refusal leaves no folder behind. (Seeded: the same .zips on every run.)"""
    import io
    import random
    import zipfile

    _db, folder, _before = source
    stored = zip_bytes(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n in sorted(os.listdir(folder)):
            z.write(os.path.join(folder, n), n)
    rng = random.Random(12)
    outcomes = {"unpacked": 0, "refused": 0}
    for i in range(1000):
        data = bytearray(rng.choice((stored, buf.getvalue())))
        headers = data.index(b"PK\x01\x02")
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(0 if rng.random() < 0.3 else headers, len(data))
            data[at] = rng.randrange(256)
        target = tmp_path / f"z{i}"
        try:
            unzip_to(bytes(data), str(target), name="f.zip")
        except BackupError:
            outcomes["refused"] += 1
            assert not target.exists()
        else:
            outcomes["unpacked"] += 1
            shutil.rmtree(target)
    assert outcomes["refused"] > 500  # most changes are caught (CRC, sizes, names)


def test_a_parquet_bomb_is_refused_by_its_rows_per_byte(source, tmp_path):
    """Parquet packs repeated values tightly: 2,000,000 copies of one of the backup's request rows
    fit in a .zip of under 200 KB (with the other tables). From an upload, a restore holds at
    most 1 row per byte of the .zip (real backups: 0.02 to 0.05); more is refused before
    anything is written."""
    from lib.store.backup import ZIP_MAX_ROWS_PER_BYTE

    _db, folder, before = source
    n = before["request_events"][0]
    bad = copy_of(folder, tmp_path)
    with Store(":memory:") as mem, mem.read() as cur:
        cur.execute(
            "COPY (SELECT e.* FROM (FROM read_parquet(?) LIMIT 1) e, range(2000000)) "
            "TO ? (FORMAT parquet)",
            [str(Path(folder) / "request_events.parquet"), str(bad / "request_events.parquet")],
        )
    digest = hashlib.sha256((bad / "request_events.parquet").read_bytes()).hexdigest()
    edit_manifest(
        bad, lambda m: m["tables"]["request_events"].update(sha256=digest, rows=2_000_000)
    )
    data = zip_bytes(str(bad))
    total = sum(rows for rows, _h in before.values()) - n + 2_000_000
    assert ZIP_MAX_ROWS_PER_BYTE == 1 and len(data) < 200_000 < total  # over 10 a byte
    unzip_to(data, str(tmp_path / "up"))
    with Store(":memory:") as target:
        with pytest.raises(BackupError, match=rf"manifest\.json: lists {total:,} rows; expected at "
                                              rf"most {len(data):,} from this \.zip"):  # fmt: skip
            restore(target, str(tmp_path / "up"), role="admin", actor="ada", but_sign_in=True,
                    max_rows=ZIP_MAX_ROWS_PER_BYTE * len(data))  # fmt: skip
        assert is_empty(target)
        # the real backup's .zip is far under it
        real = zip_bytes(folder)
        unzip_to(real, str(tmp_path / "real"))
        restore(target, str(tmp_path / "real"), role="admin", actor="ada", but_sign_in=True,
                max_rows=ZIP_MAX_ROWS_PER_BYTE * len(real))  # fmt: skip
        assert contents(target) == before
