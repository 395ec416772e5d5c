"""The command line on a ``md:`` database, without the internet: the tests' stand-in
(``TOKENBOARD_TEST_MOTHERDUCK_STANDIN``, a local DuckDB file that a ``md:`` location opens
instead of MotherDuck) lets everything that decides on the location run as it would on
MotherDuck. Import, summary, users, backup, retention preview and unlock work; compact is
refused in words; the token given in the location is never printed, and nothing is made in
the working folder (where files "beside" a ``md:…`` name would land) nor in the state folder
except what was asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lib.store import Store
from lib.store.db import STANDIN_ENV
from tests.conftest import ROOT, fixture

TOKEN = "tok_0123456789abcdef"  # a made-up MotherDuck token
DB = f"md:team?motherduck_token={TOKEN}"


def cli(tmp: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENBOARD_")}
    env.update({STANDIN_ENV: str(tmp / "standin.duckdb"), "TOKENBOARD_STATE_DIR": str(tmp / "state"),
                "PYTHONPATH": str(ROOT), "TOKENBOARD_WORKER": "0"})  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "lib.cli", *args, "--db", DB], cwd=tmp / "work", env=env,
        input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_command_line_on_a_md_database(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "state").mkdir()
    said: list[str] = []

    def ok(*args: str, stdin: str | None = None) -> str:
        r = cli(tmp_path, *args, stdin=stdin)
        said.append(r.stdout + r.stderr)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = ok("import", fixture("generic_requests.jsonl"), "--quiet")
    assert "2 new" in out or "2 rows" in out, out
    summary = ok("summary")
    assert "Database: md:team\n" in summary  # before: the whole location, token and all
    assert "Requests:             2" in summary  # the fixture's 2 request lines
    assert json.loads(ok("summary", "--json"))["requests"] == 2
    ok(
        "users",
        "add",
        "ann",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery 9\n",
    )
    assert ok("users", "list").startswith("ann\tadmin\tactive")
    ok("users", "unlock", "ann")  # into the database directly: no request file left anywhere
    backup = tmp_path / "backup"
    assert "Backup written to" in ok("backup", str(backup))
    assert (backup / "manifest.json").is_file()
    preview = ok("retention", "--days", "32")
    assert preview.startswith("Would remove 2 request rows")  # the fixture's rows are old
    assert "Database file:" not in preview  # no file size for a md: database
    r = cli(tmp_path, "compact")
    said.append(r.stdout + r.stderr)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr == "error: Compacting works on a local database file; md:team is not one.\n"
    # what each command said, and every file it made, holds no token
    assert all(TOKEN not in s for s in said)
    assert os.listdir(tmp_path / "work") == []
    assert os.listdir(tmp_path / "state") == []
    for p in tmp_path.rglob("*"):
        assert TOKEN not in p.name
        if p.is_file() and p.suffix in (".json", ".jsonl", ".txt", ".log"):
            assert TOKEN not in p.read_text(errors="replace")
    # the rows really went to the stand-in
    with Store(str(tmp_path / "standin.duckdb"), read_only=True) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 2
        assert s.scalar("SELECT unlocked_at IS NOT NULL FROM users WHERE username = 'ann'")


def test_a_local_database_moved_to_md_by_backup_and_restore(tmp_path: Path) -> None:
    """The way from one machine to MotherDuck: a backup of the local file, restored into the
    (empty) ``md:`` database; its summary then counts the same 2 requests."""
    (tmp_path / "work").mkdir()
    local = str(tmp_path / "local.duckdb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENBOARD_")}
    env.update({"PYTHONPATH": str(ROOT), "TOKENBOARD_WORKER": "0"})
    for args in (("import", fixture("generic_requests.jsonl"), "--quiet"),
                 ("backup", str(tmp_path / "b"))):  # fmt: skip
        r = subprocess.run([sys.executable, "-m", "lib.cli", *args, "--db", local], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "restore", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("into md:team.\n") and TOKEN not in r.stdout + r.stderr
    r = cli(tmp_path, "summary", "--json")
    assert json.loads(r.stdout)["requests"] == 2
    assert os.listdir(tmp_path / "work") == []
