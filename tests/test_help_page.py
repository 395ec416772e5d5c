"""The Help page's Documentation tab (AppTest over a real DuckDB file), in English and French:
the quick start by default, a topic opened by the URL, a search kept in the URL with its
results and their snippets, an empty search that suggests words, hostile text shown as text;
and every page's context-help link opens a section that exists."""

from __future__ import annotations

import pytest

from lib.help import load_docs
from lib.ui.nav import PAGES
from tests.conftest import app_test, login, shown

HELP = "pages/9_Help.py"


def _open(query: dict[str, str], lang: str = "en", user: str = "vic"):
    at = app_test(HELP)
    at.query_params.update({**query, **({"lang": lang} if lang != "en" else {})})
    if lang == "fr":
        from tests.test_i18n import login_fr

        at = login_fr(at, user)
    else:
        at = login(at, user)
    assert not at.exception, at.exception
    return at


def _text(at) -> str:
    return " ".join(shown(m.value) for m in at.markdown)


def _links(at) -> list:
    return [e for e in at.get("page_link")]


def test_the_quick_start_by_default_with_the_contents(app_env):
    at = _open({})
    assert at.header[0].value == "Quick start"
    labels = [shown(p.proto.label) for p in _links(at)]
    assert "Billed, stated and estimated cost" in labels and "Error reference" in labels
    assert "Everyone signs in" in _text(at)


def _params(link) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(link.proto.query_string))


def _link(at, label: str):
    return next(p for p in _links(at) if shown(p.proto.label) == label)


def test_a_topic_opens_its_section_in_english_and_french(app_env):
    at = _open({"topic": "counted-stream"})
    assert at.header[0].value == "The counted stream"
    assert "Billed, stated and estimated cost" in [shown(c.value) for c in at.caption]
    assert "Tokenboard never adds them together" in _text(at).replace("\n", " ")
    whole = _link(at, "The whole page: Billed, stated and estimated cost")
    assert _params(whole) == {"topic": "costs"}

    at = _open({"topic": "counted-stream"}, "fr")
    assert at.header[0].value == "Le flux compté"
    whole = _link(at, "La page entière\u00a0: Coût facturé, déclaré et estimé")
    assert _params(whole) == {"topic": "costs", "lang": "fr"}  # the language is kept
    # a link between help pages is an in-app link under its section, in the same language
    at = _open({"topic": "faq-not-counted"}, "fr")
    assert "**Le flux compté**" in " ".join(m.value for m in at.markdown)
    assert "?topic=" not in " ".join(m.value for m in at.markdown)
    assert _params(_link(at, "Le flux compté")) == {"topic": "counted-stream", "lang": "fr"}


def test_a_whole_page_and_an_error_entry_from_the_knowledge_base(app_env):
    at = _open({"topic": "errors"})
    heads = [h.value for h in at.subheader]
    assert heads[0] == "How an error is matched" and "Rate limit reached" in heads
    at = _open({"topic": "error-rate-limit-reached"}, "fr")
    assert at.header[0].value == "Limite de débit atteinte"
    assert "`rate_limit_exceeded`" in " ".join(m.value for m in at.markdown)


def test_a_search_is_kept_in_the_url_and_lists_ranked_results(app_env):
    at = _open({})
    at.text_input(key="help_q").input("counted stream").run()
    assert at.query_params["q"] in ("counted stream", ["counted stream"])
    results = [p for p in _links(at) if p.proto.icon == ":material/article:"]
    first = results[0]
    assert shown(first.proto.label) == "Billed, stated and estimated cost › The counted stream"
    assert _params(first) == {"topic": "counted-stream"}
    assert "sections hold every word" in " ".join(c.value for c in at.caption)
    # the snippet shows the words found in bold
    assert any("**counted**" in m.value and "**stream**" in m.value for m in at.markdown)


def test_a_search_in_french_ignores_accents(app_env):
    at = _open({"q": "FLUX compte"}, "fr")
    results = [p for p in _links(at) if p.proto.icon == ":material/article:"]
    assert shown(results[0].proto.label) == "Coût facturé, déclaré et estimé › Le flux compté"
    assert _params(results[0]) == {"topic": "counted-stream", "lang": "fr"}
    assert at.text_input(key="help_q").value == "FLUX compte"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_hostile_words_are_shown_as_text_and_suggestions_offered(app_env, lang):
    hostile = "<script>alert(1)</script> **x** [y](http://evil.example)"
    at = _open({"q": hostile}, lang)
    (info,) = at.info
    assert "<script>" not in info.value and "**x**" not in info.value
    assert "](http" not in info.value  # no link made of it
    assert shown(info.value).replace("\u2060", "").count("<script>alert(1)</script> **x**") == 1
    suggestions = [p for p in _links(at) if "q" in _params(p)]
    assert len(suggestions) == 6
    word = "counted stream" if lang == "en" else "flux compté"
    assert word in [_params(p)["q"] for p in suggestions]
    # an unknown topic is named as text and the quick start shown
    at = _open({"topic": "**boom**"}, lang)
    assert "**boom**" not in at.warning[0].value and "\\*\\*boom\\*\\*" in at.warning[0].value
    assert at.header[0].value == ("Quick start" if lang == "en" else "Prise en main")


@pytest.mark.parametrize("item", PAGES, ids=[p.path for p in PAGES])
def test_every_page_links_to_its_help_section_and_to_a_report(app_env, item):
    at = app_test(item.path)
    at = login(at, "ada")
    link = _link(at, "Help for this page")
    assert link.proto.page == "Help"  # the Help page's URL path
    topic = _params(link)["topic"]
    assert topic == item.help
    found = load_docs("en").find(topic)
    assert found is not None and found[1] is not None  # a section, not a whole page
    assert load_docs("fr").find(topic) is not None
    report = _params(_link(at, "Report a problem"))
    assert report["tab"] == "tickets"
    page = "/" if item.path == "app.py" else "/" + item.path.split("_", 1)[1].removesuffix(".py")
    assert report["from"] == page or report["from"].startswith(page + "?")


def test_the_report_link_carries_the_view_as_a_control_changes_it(app_env, tmp_path):
    from lib.ingest import import_file
    from lib.store import Store
    from tests.test_errors_view import write_log
    from tests.test_i18n import login_fr

    with Store(app_env) as s:
        import_file(s, write_log(tmp_path))
    at = app_test("pages/1_Usage.py")
    at.query_params.update(
        {"period": "custom", "from": "2026-05-01", "to": "2026-05-03", "lang": "fr"}
    )
    at = login_fr(at, "ana")
    report = _params(_link(at, "Signaler un problème"))
    assert report["tab"] == "tickets" and report["lang"] == "fr"
    assert report["from"].startswith("/Usage?") and "from=2026-05-01" in report["from"]
    assert "top=" not in report["from"]
    # the number picked in this run is in the link drawn in this same run (redrawn when the
    # control wrote the URL, after the frame had drawn the link)
    at.number_input(key="usage_top").set_value(5).run()
    assert at.query_params["top"] in ("5", ["5"])
    report = _params(_link(at, "Signaler un problème"))
    assert "top=5" in report["from"] and "to=2026-05-03" in report["from"]
    assert _params(_link(at, "Aide sur cette page")) == {"topic": "page-usage", "lang": "fr"}


def test_the_docs_tab_shows_no_word_outside_the_catalog():
    from lib.i18n.extract import raw_text
    from tests.conftest import ROOT

    problems = raw_text(ROOT / "lib/ui/help/docs.py")
    assert not problems, [f"{p.file}:{p.line}: {p.text}" for p in problems]
