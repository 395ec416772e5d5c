"""``python -m lib.cli import`` never prints a traceback: damaged files, a directory, a broken
link, a file name that is not UTF-8, a database file that is not a database. Each is one
line on stderr and a non-zero exit; the other files of the same run are still imported."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.conftest import fixture, run_cli
from tests.test_import_fuzz import FIXES, damaged


def test_damaged_files_a_directory_and_a_broken_link(tmp_path: Path):
    rng = random.Random(7)
    paths = []
    for fix in FIXES[::4]:  # every fourth fixture family, one damaged variant each
        raw = Path(fixture(fix.name)).read_bytes()
        path = tmp_path / f"damaged_{fix.name}"
        path.write_bytes(damaged(fix, rng, raw).data)
        paths.append(str(path))
    (tmp_path / "a_directory").mkdir()
    os.symlink(tmp_path / "nowhere.csv", tmp_path / "broken.csv")
    paths += [str(tmp_path / "a_directory"), str(tmp_path / "broken.csv")]
    paths.append(fixture("openai_costs.json"))  # a good file after the bad ones
    db = str(tmp_path / "t.duckdb")
    r = run_cli("import", *paths, "--quiet", "--db", db, env={"TMPDIR": str(tmp_path)})
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out
    assert r.returncode == 1
    assert "error: a_directory: cannot be read (Is a directory)" in r.stderr
    assert "error: broken.csv: cannot be read (No such file or directory)" in r.stderr
    assert "openai_costs.json: openai_costs (cost) as import" in r.stdout
    for line in r.stderr.splitlines():
        assert line.startswith("error: "), line


def test_a_file_name_that_is_not_utf8_and_a_database_that_is_not_one(tmp_path: Path):
    name = os.fsencode(str(tmp_path)) + b"/co\xfbt.json"  # Latin-1 "coût"
    with open(name, "wb") as fh:
        fh.write(Path(fixture("openai_costs.json")).read_bytes())
    r = run_cli("import", os.fsdecode(name), "--quiet", "--db", str(tmp_path / "t.duckdb"))
    assert "Traceback" not in r.stdout + r.stderr
    assert r.returncode == 1 and r.stderr.startswith("error: ")
    bad_db = tmp_path / "bad.duckdb"
    bad_db.write_bytes(b"not a database")
    r = run_cli("import", fixture("openai_costs.json"), "--db", str(bad_db))
    assert "Traceback" not in r.stdout + r.stderr
    assert r.returncode == 1 and "not a valid DuckDB database file" in r.stderr
