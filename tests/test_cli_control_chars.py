"""The command line never prints control characters from data: ANSI escapes come out visible."""

from __future__ import annotations

from lib.cli import clean, main
from tests.conftest import write

EVIL = "\x1b[2J\x1b[31mgpt\x07\r-evil\u202e"


def test_clean_shows_escapes():
    assert clean(EVIL) == "\\x1b[2J\\x1b[31mgpt\\x07\\r-evil\\u202e"
    assert clean("line one\nline two\ttab, modèle") == "line one\nline two\ttab, modèle"


def test_cli_output_has_no_control_characters(tmp_path, capsys):
    db = str(tmp_path / "t.duckdb")
    name = write(tmp_path, "log\x1b[31m.csv", "timestamp,request_id,model,input_tokens,output_tokens\n"
                 f"2025-01-01T00:00:00Z,r1,{EVIL.replace(chr(13), '')},10,1\n")  # fmt: skip
    bad = write(tmp_path, "bad\x1b[2J.json", "{")
    assert main(["import", name, bad, "--db", db]) == 1
    assert main(["imports", "--db", db]) == 0
    assert main(["summary", "--db", db]) == 0
    from lib.store import Store

    with Store(db) as s:
        ok = s.scalar("SELECT import_id FROM imports WHERE status = 'ok'")
    assert main(["undo", str(ok), "--db", db]) == 0
    out = capsys.readouterr()
    for text in (out.out, out.err):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\\x1b[31m" in out.out + out.err
