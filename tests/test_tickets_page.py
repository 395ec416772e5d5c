"""The Help page's "Support tickets" tab in AppTest over a real DuckDB file: a user files a
ticket from a view (its link kept, a bad one dropped with a note), follows it, replies and
closes it; another user opening its number is told it was not found; an admin sees every
ticket, searches, replies, changes the status, assigns and merges; hostile Markdown is never
asked to render as HTML. English and French."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lib.store import Store
from lib.tickets import Draft, service
from lib.tickets.notify import TicketNotifier
from tests.conftest import app_test, login, shown

PAGE = "pages/9_Help.py"
QUIET = TicketNotifier(secrets={})
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def open_tab(user: str, **params: str):
    at = app_test(PAGE)
    at.query_params.update({"tab": "tickets", **params})
    if params.get("lang") == "fr":
        from tests.test_i18n import login_fr

        at = login_fr(at, user)
    else:
        at = login(at, user)
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return shown(" ".join(str(m.value) for kind in (at.markdown, at.caption, at.success, at.info,
                                                    at.error, at.warning, at.subheader) for m in kind))  # fmt: skip


def click(at, label: str):
    at = next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def submit(at, label: str):
    at = next(b for b in at.get("form_submit_button") if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def file_one(db: str, user: str = "ana", role: str = "analyst", **kw) -> int:
    with Store(db) as s:
        draft = Draft(kw.get("subject", "Costs doubled"), kw.get("body", "Since Monday"),
                      "data", "high", kw.get("link"))  # fmt: skip
        return service.submit(s, user, role, draft, now=T0, notifier=QUIET).number


def test_a_user_files_a_ticket_from_a_view(app_env):
    at = open_tab("ana", **{"from": "/Usage?period=30d&by=model"})
    assert "Filed from the page Usage" in texts(at) and "/Usage?period=30d&by=model" in texts(at)
    at.text_input(key="tk_subject").input("Spend by model looks doubled")
    at.text_area(key="tk_body").input("Since **Monday** <script>alert(1)</script>")
    at.selectbox(key="tk_category_en").set_value("data")
    at = submit(at, "File the ticket")
    assert "Ticket #1 filed" in texts(at)
    assert at.query_params["ticket"] in ("1", ["1"])
    assert "#1 · Spend by model looks doubled" in texts(at)
    # the user's Markdown: formatting kept, the script shown as text, never as HTML
    body = next(m for m in at.markdown if "Monday" in m.value)
    assert "**Monday**" in body.value and "&lt;script&gt;" in body.value
    assert all(not m.allow_html for m in at.markdown)
    with Store(app_env) as s:
        (t,) = service.my_tickets(s, "ana", "analyst")
    assert (t.page, t.view_link, t.category) == ("Usage", "/Usage?period=30d&by=model", "data")


def test_a_bad_from_link_is_dropped_with_a_note(app_env):
    at = open_tab("vic", **{"from": "javascript:alert(1)"})
    assert "was not kept" in texts(at) and "javascript" not in texts(at)
    at.text_input(key="tk_subject").input("Help")
    at.text_area(key="tk_body").input("Cannot see costs")
    at = submit(at, "File the ticket")
    with Store(app_env) as s:
        (t,) = service.my_tickets(s, "vic", "viewer")
    assert t.view_link is None and t.page is None


def test_empty_subject_is_refused_with_the_field_named(app_env):
    at = open_tab("vic")
    at.text_area(key="tk_body").input("No subject")
    at = submit(at, "File the ticket")
    assert "Subject: write one" in texts(at)
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM tickets") == 0


def test_someone_elses_number_is_not_found(app_env):
    n = file_one(app_env, subject="Secret project costs")
    at = open_tab("vic", ticket=str(n))
    assert "Ticket `#1` was not found." in texts(at)
    assert "Secret project" not in texts(at) and not at.download_button
    missing = open_tab("vic", ticket="42")
    assert "was not found" in texts(missing)
    mine = open_tab("ana", ticket=str(n))
    assert "Secret project costs" in texts(mine)


def test_admin_triages_and_the_user_sees_the_reply(app_env):
    n = file_one(app_env)
    at = open_tab("ada")
    assert "Every ticket" in texts(at) and "Median time to first response" in " ".join(
        m.label for m in at.metric
    )
    assert at.dataframe and at.dataframe[0].value["#"].tolist() == [n]
    at = click(at, "Open the ticket")
    assert "#1 · Costs doubled" in texts(at)
    at.text_area(key=f"tk_reply_body_{n}").input("Fixed: the **demo** import was counted twice.")
    at = submit(at, "Send")
    assert "Reply sent." in texts(at)
    at.selectbox(key=f"tk_status_{n}_en").set_value("resolved")
    at = click(at, "Change the status")
    assert "Status changed." in texts(at)
    user = open_tab("ana", ticket=str(n))
    t = texts(user)
    assert "Fixed: the **demo** import" in t and "Resolved" in t
    assert [b.label for b in user.button if b.label in ("Close the ticket", "Reopen")] == [
        "Close the ticket", "Reopen"]  # fmt: skip
    user = click(user, "Close the ticket")
    assert "Ticket closed." in texts(user)
    with Store(app_env) as s:
        got = service.get(s, "ada", "admin", n).ticket
    assert got.status == "closed" and got.first_response_at is not None


def test_admin_search_assign_merge(app_env):
    a = file_one(app_env, subject="Bill wrong")
    b = file_one(app_env, user="vic", role="viewer", subject="Invoice differs")
    at = open_tab("ada")
    at.text_input(key="tk_q").input("invoice")
    at = at.run()
    assert at.dataframe[0].value["#"].tolist() == [b]
    at = open_tab("ada", ticket=str(b))
    at.selectbox(key=f"tk_assign_{b}_en").set_value("ada")
    at = click(at, "Assign")
    assert "Assignee changed." in texts(at)
    at.number_input(key=f"tk_merge_{b}").set_value(a)
    at = click(at, "Merge into it")
    assert "Merged into #1 and closed." in texts(at)
    assert "Merged into ticket #1" in texts(at)
    with Store(app_env) as s:
        t = service.get(s, "vic", "viewer", b).ticket
    assert (t.status, t.merged_into, t.assignee) == ("closed", a, "ada")


@pytest.mark.parametrize("user", ["ana", "ada"])
def test_french(app_env, user: str):
    n = file_one(app_env)
    at = open_tab(user, lang="fr")
    if user == "ana":
        assert "Ouvrir un ticket" in texts(at)
        assert [b.label for b in at.get("form_submit_button")] == ["Envoyer le ticket"]
        at = submit(at, "Envoyer le ticket")
        assert "Objet\u00a0: écrivez-en un" in texts(at)
    else:
        assert "Tous les tickets" in texts(at) and "Délai médian de première réponse" in " ".join(
            m.label for m in at.metric)  # fmt: skip
    at = open_tab(user, lang="fr", ticket=str(n))
    t = texts(at)
    assert "Costs doubled" in t and "Ouvert" in t and "gravité\u00a0: Élevée" in t
    other = open_tab("vic", lang="fr", ticket=str(n))
    assert "introuvable" in texts(other) and "Costs doubled" not in texts(other)


def test_hostile_markdown_and_internal_notes(app_env):
    n = file_one(app_env, body="<img src=x onerror=alert(1)> [x](javascript:alert(1))")
    with Store(app_env) as s:
        service.comment(s, "ada", "admin", n, "Call **ana** <script>alert(1)</script>",
                        notifier=QUIET)  # fmt: skip
        service.comment(s, "ada", "admin", n, "Probably the demo import", internal=True,
                        notifier=QUIET)  # fmt: skip
    user = open_tab("ana", ticket=str(n))
    bodies = [m.value for m in user.markdown if "alert(1)" in m.value]
    # shown as typed (< and > as entities, brackets escaped), the bold kept
    assert bodies == ["&lt;img src=x onerror=alert(1)&gt; \\[x\\](javascript:alert(1))",
                      "Call **ana** &lt;script&gt;alert(1)&lt;/script&gt;"]  # fmt: skip
    assert all(not m.allow_html for m in user.markdown)
    assert "Probably the demo import" not in texts(user) and "internal note" not in texts(user)
    admin = open_tab("ada", ticket=str(n))
    assert "Probably the demo import" in texts(admin) and "internal note" in texts(admin)


# -- downloads run later, outside a script run: they check the session again ----------------
@pytest.fixture
def downloads(monkeypatch):
    """The data callables the page hands to Streamlit's download buttons, by file name (the
    callables themselves, as Streamlit would call them on a click, after the run)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, object] = {}
    real = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return made


def _end_session(db: str, at) -> None:
    from lib.auth import sessions

    with Store(db) as s:
        sessions.end(s, at.session_state["tb_session"], datetime.now(UTC))


def _sql(db: str, sql: str) -> None:
    with Store(db) as s, s.write() as cur:  # a change made outside this tab's session
        cur.execute(sql)


def test_csv_export_checks_the_session_when_downloaded(app_env, downloads):
    file_one(app_env)
    at = open_tab("ada")
    csv = downloads["tickets.csv"]
    assert b"Costs doubled" in csv()  # type: ignore[operator]
    _end_session(app_env, at)  # logged out in another tab: this tab's button gives nothing
    assert csv() == b""  # type: ignore[operator]
    # a new session, then the admin is made an analyst: the export refuses
    at = open_tab("ada")
    csv = downloads["tickets.csv"]
    assert b"Costs doubled" in csv()  # type: ignore[operator]
    _sql(app_env, "UPDATE users SET role = 'analyst' WHERE username = 'ada'")
    assert csv() == b""  # type: ignore[operator]


def test_an_attachment_checks_the_session_when_downloaded(app_env, downloads):
    from lib.tickets import Upload

    with Store(app_env) as s:
        draft = Draft("Export fails", "See the log", "bug", "normal", None)
        service.submit(s, "vic", "viewer", draft, [Upload("run.log", b"line 1\n")], now=T0,
                       notifier=QUIET)  # fmt: skip
    at = open_tab("vic", ticket="1")
    data = downloads["run.log"]
    assert data() == b"line 1\n"  # type: ignore[operator]
    _sql(app_env, "UPDATE users SET status = 'disabled' WHERE username = 'vic'")
    assert data() == b""  # type: ignore[operator]
    _sql(app_env, "UPDATE users SET status = 'active' WHERE username = 'vic'")
    at = open_tab("vic", ticket="1")
    data = downloads["run.log"]
    assert data() == b"line 1\n"  # type: ignore[operator]
    _end_session(app_env, at)
    assert data() == b""  # type: ignore[operator]
