"""French and English: one catalog that every page's words go through, locale formats, the
language chosen per link, per user and per browser, and the pages drawn in French."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lib.auth.users import UserStore
from lib.i18n import formats
from lib.i18n.catalog import (
    from_accept_language,
    missing,
    normalize,
    read_catalog,
    translate,
    translate_plural,
)
from lib.i18n.extract import all_messages, english_defaults, page_files, raw_text, scan
from tests.conftest import ROOT, app_test, login, shown, submit

# Files whose every shown word goes through the catalog (add a page here once translated).
TRANSLATED = ["lib/ui/auth_gate.py", "lib/ui/frame.py", "lib/ui/nav.py", "lib/ui/i18n.py",
              "pages/6_Playground.py", "app.py", "lib/ui/words.py", "lib/ui/widgets.py",
              "lib/ui/filters_ui.py", "lib/ui/url.py", "lib/ui/uploads.py", "lib/ui/markup.py",
              "lib/ui/state.py", "pages/1_Usage.py", "pages/2_Costs.py",
              "pages/7_Data.py", "lib/ui/import_words.py", "pages/3_Errors.py", "pages/4_Alerts.py",
              "lib/ui/alerts_ui.py", "pages/5_API_keys.py", "lib/ui/keys_ui.py"]  # fmt: skip
NB, NNB = "\u00a0", "\u202f"  # no-break space; narrow no-break space (French thousands)


# -- the catalog ---------------------------------------------------------------------------


def test_every_word_a_page_asks_for_has_a_french_translation():
    found, problems = all_messages()
    assert not problems, [f"{p.file}:{p.line}: {p.text}" for p in problems]
    ids = [f.msgid for f in found]
    assert len(ids) > 200
    gaps = missing(ids, "fr")
    where = {f.msgid: f"{f.file}:{f.line}" for f in found}
    assert not gaps, "untranslated (run python -m lib.i18n.extract, fill the .po):\n" + "\n".join(
        f"{where[m]}: {m!r}" for m in gaps
    )


@pytest.mark.parametrize("rel", TRANSLATED)
def test_translated_files_show_no_word_outside_the_catalog(rel):
    problems = raw_text(ROOT / rel)
    assert not problems, [f"{p.file}:{p.line}: {p.text}" for p in problems]


def test_french_typography_is_consistent():
    """A no-break space before : ; ? ! and inside « », never a plain space or none."""
    catalog = read_catalog("fr")
    bad = []
    for m in catalog:
        if not m.id:
            continue
        for s in m.string if isinstance(m.string, tuple) else (m.string,):
            text = re.sub(r"`[^`]*`|https?://\S+|\{[^}]*\}|\.streamlit/\S+", "", s)
            if re.search(r"(?:^|[^\s\u00a0])[;:!?](?=\s|$|\*)", text) or re.search(
                r" [;:!?»]|« ", text
            ):
                bad.append(s)
    assert not bad


def test_no_widget_shows_streamlits_english_placeholder():
    """A multiselect or an empty selectbox says "Choose options" / "Choose an option" in
    English unless given a placeholder (the French keys form said "Choose options")."""
    problems = [p for f in page_files() for p in english_defaults(f)]
    assert not problems, [f"{p.file}:{p.line}: {p.text}" for p in problems]


def test_the_placeholder_check_finds_what_it_is_for(tmp_path: Path):
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "st.multiselect(_('Models'), opts)\n"  # Streamlit's "Choose options"
        "st.multiselect(_('Models'), opts, placeholder=_('All'))\n"
        "st.selectbox(_('Key'), opts, index=None)\n"  # "Choose an option"
        "st.selectbox(_('Key'), opts)\n"  # starts on the first option: no placeholder shown
        "url.many(left, _('Code'), opts, key='c', param='c')\n"
        "container.multiselect(label, opts, **kwargs)\n",  # its callers' to check
        encoding="utf-8",
    )
    assert [p.line for p in english_defaults(page)] == [2, 4, 6]


def test_the_checks_find_what_they_are_for(tmp_path: Path):
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "from lib.ui.i18n import _\n"
        "st.title('Costs')\n"  # a literal title
        "st.caption(f'{n} · Tokenboard')\n"  # only a brand name and punctuation: fine
        "c = st.columns(2)\n"
        "c[0].metric(_('Tokens in'), f'{x} tokens')\n"  # a literal word in a metric's value
        "st.tabs([_('Chat'), 'History'])\n"
        "st.button(_('Save'), help='Keep it')\n"
        "st.markdown(f\"**{_('What to do:')}** {fix}\")\n"
        "st.error(_(f'Oops {x}'))\n"  # an f-string cannot be looked up
        "log.warning('Not for the page')\n"
        "st.text_area(_('Schema'), placeholder='{\"type\": \"object\"}')\n",  # code
        encoding="utf-8",
    )
    shown = sorted(p.line for p in raw_text(page))
    assert shown == [3, 6, 7, 8]
    found, problems = scan(page)
    assert sorted((f.line, f.msgid) for f in found) == [
        (6, "Tokens in"), (7, "Chat"), (8, "Save"), (9, "What to do:"), (12, "Schema"),
    ]  # fmt: skip
    assert [p.line for p in problems] == [10]


def test_translate_with_fields_plurals_and_fallbacks():
    assert translate("Log in", "fr") == "Se connecter"
    assert translate("Log in", "en") == "Log in"
    assert translate("Log in", "de") == "Log in"  # a language we do not have: English
    assert translate("A sentence no one wrote", "fr") == "A sentence no one wrote"
    assert translate("Not sent: {why}", "fr", why="x") == f"Non envoyé{NB}: x"
    # French uses the singular for 0 and 1, English only for 1
    one, many = "Imported {n} preset.", "Imported {n} presets."
    assert translate_plural(one, many, 0, "en") == "Imported 0 presets."
    assert translate_plural(one, many, 1, "en") == "Imported 1 preset."
    assert translate_plural(one, many, 0, "fr") == "0 préréglage importé."
    assert translate_plural(one, many, 1, "fr") == "1 préréglage importé."
    assert translate_plural(one, many, 2, "fr") == "2 préréglages importés."


def test_language_codes_and_accept_language():
    assert [normalize(c) for c in ("fr", "FR", "fr-CA", "fr_FR", "en-GB", "de", "", None, 3)] == [
        "fr", "fr", "fr", "fr", "en", None, None, None, None,
    ]  # fmt: skip
    assert from_accept_language("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5") == "fr"
    assert from_accept_language("de-DE,de;q=0.9,en-US;q=0.8,fr;q=0.7") == "en"
    assert from_accept_language("en;q=0.5, fr;q=0.6") == "fr"  # by weight, not order
    assert from_accept_language("fr;q=0, en;q=0.1") == "en"  # q=0 refuses
    assert from_accept_language("de, ja") is None
    assert from_accept_language("") is None and from_accept_language(None) is None


# -- formats (expected strings written by hand from CLDR's rules) -----------------------


def test_money_in_both_locales():
    m = formats.money
    assert m(Decimal("1234.56"), "en") == "$1,234.56"
    assert m(Decimal("1234.56"), "fr") == f"1{NNB}234,56{NB}$US"
    assert m(Decimal("2.665"), "en") == "$2.67"  # halves up (banker's rounding would say 2.66)
    assert m(Decimal("-0.004"), "en") == "$0.00"  # never -$0.00
    assert m(Decimal("-0.004"), "fr") == f"0,00{NB}$US"
    assert m(Decimal("-1234.5"), "en") == "-$1,234.50"
    assert m(Decimal("0.0000034500"), "en", digits=6) == "$0.000003"
    assert m(Decimal("0.15"), "en", digits=None) == "$0.15"  # every digit, at least two
    assert m(Decimal("0.075000"), "fr", digits=None) == f"0,075{NB}$US"
    assert m(Decimal("12"), "fr", "EUR") == f"12,00{NB}€"
    assert m(None, "en") == "—" and m(float("nan"), "fr") == "—"
    # not finite: a dash, never "$NaN.00" or an exception
    assert m(Decimal("NaN"), "en") == "—" and m(float("inf"), "fr") == "—"
    assert formats.percent(float("-inf"), "en") == "—"
    assert formats.number(Decimal("Infinity"), "fr") == "—"


def test_numbers_percentages_and_compact_figures_in_both_locales():
    assert formats.number(1234567, "en") == "1,234,567"
    assert formats.number(1234567, "fr") == f"1{NNB}234{NNB}567"
    assert formats.number(Decimal("1234.565"), "en", 2) == "1,234.57"
    assert formats.number(Decimal("1234.565"), "fr", 2) == f"1{NNB}234,57"
    assert formats.integer(1234.0, "fr") == f"1{NNB}234" and formats.integer("n/a", "en") == "—"
    assert formats.compact(43_060_123, "en") == "43.1M"
    assert formats.compact(43_060_123, "fr") == f"43,1{NB}M"
    assert formats.compact(987, "en") == "987"
    # 999.96 rounds to 1000.0 at one decimal: shown as 1K, never "1,000.0"; 999.94 → 999.9
    assert formats.compact(999.96, "en") == "1K" and formats.compact(999.96, "fr") == f"1{NB}k"
    assert formats.compact(999.94, "en") == "999.9"
    assert formats.percent(0.1234, "en") == "12.3%"
    assert formats.percent(0.1234, "fr") == f"12,3{NB}%"
    assert formats.percent(0.04, "en", signed=True) == "+4.0%"
    assert formats.percent(-0.04, "fr", signed=True) == f"-4,0{NB}%"
    assert formats.seconds(2.314, "fr") == f"2,31{NB}s"


def test_dates_in_both_locales():
    assert formats.day(date(2025, 1, 5), "en") == "Jan 5, 2025"
    assert formats.day(date(2025, 1, 5), "fr") == "5 janv. 2025"
    when = datetime(2025, 1, 5, 14, 3, tzinfo=UTC)
    assert formats.moment(when, "en") == f"1/5/25, 2:03{NNB}PM"
    assert formats.moment(when, "fr") == "05/01/2025 14:03"
    assert formats.moment(when, "fr", tz="Europe/Paris") == "05/01/2025 15:03"  # UTC+1 in winter
    assert formats.day(None, "fr") == "—"


# -- the language of a user ------------------------------------------------------------


def test_a_users_language_is_saved_with_the_account(app_env, tmp_path):
    import os

    users = UserStore(Path(os.environ["TOKENBOARD_USERS"]), secrets_={})
    assert users.language_of("ana") is None
    tag = users.credential_tag("ana")
    users.set_language("ana", "fr")
    again = UserStore(Path(os.environ["TOKENBOARD_USERS"]), secrets_={})
    assert again.language_of("ana") == "fr" and again.language_of("vic") is None
    assert again.credential_tag("ana") == tag  # a language change ends no session
    assert again.verify("ana", "analyst-password-1") == "ana"


# -- pages drawn in French -------------------------------------------------------------


def _shown(at) -> tuple[list[str], list[str]]:
    """(labels of the widgets, texts of the elements) an AppTest run shows."""
    labels = []
    for kind in ("text_input", "button", "selectbox", "slider", "number_input", "text_area",
                 "checkbox", "multiselect", "metric", "page_link", "tabs", "form_submit_button"):  # fmt: skip
        labels += [e.label for e in at.get(kind) if getattr(e, "label", None)]
    texts = []
    for kind in (
        "title",
        "subheader",
        "caption",
        "markdown",
        "info",
        "warning",
        "error",
        "success",
    ):
        texts += [str(e.value) for e in at.get(kind)]
    return labels, texts


def _english_left(at) -> list[str]:
    """English message ids (whose French differs) still shown: as a label, or a sentence
    of theirs inside a text."""
    catalog = read_catalog("fr")
    labels, texts = _shown(at)
    left = []
    for m in catalog:
        if not m.id or isinstance(m.id, tuple) or m.string == m.id:
            continue
        if m.id in labels:
            left.append(m.id)
        for chunk in re.split(r"\{[^}]*\}", m.id):
            if len(chunk) >= 16 and any(chunk in t for t in texts):
                left.append(chunk)
    return left


def test_the_login_form_in_french_with_lang_fr(app_env):
    at = app_test()
    at.query_params["lang"] = "fr"
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Nom d'utilisateur", "Mot de passe"]
    assert [b.label for b in at.button] == ["Se connecter"]
    assert at.subheader[0].value == "Se connecter"
    assert not _english_left(at), _english_left(at)
    # a wrong password is answered in French too
    at.text_input[0].input("ana")
    at.text_input[1].input("wrong")
    at.button[0].click()
    at.run()
    assert at.error[0].value == "Nom d'utilisateur ou mot de passe incorrect."


def test_the_setup_form_in_french_and_create_admin_signs_in(app_env, tmp_path, monkeypatch):
    from lib.auth.users import setup_token

    monkeypatch.setenv("TOKENBOARD_USERS", str(tmp_path / "none.yaml"))
    at = app_test()
    at.query_params["lang"] = "fr"
    at.run()
    assert at.title[0].value == "Installer Tokenboard"
    assert not _english_left(at), _english_left(at)
    submit(
        at,
        {
            "Jeton d'installation": setup_token().value or "",
            "Nom d'utilisateur": "boss",
            "Mot de passe": "court",
            "Confirmer le mot de passe": "court",
        },
        "Créer l'administrateur",
    )
    assert at.error[0].value == "Un mot de passe doit compter au moins 10 caractères."
    submit(
        at,
        {"Mot de passe": "a long password", "Confirmer le mot de passe": "a long password"},
        "Créer l'administrateur",
    )
    assert not at.exception
    # signed in at once: the Overview with the account's sidebar, and a word saying so
    assert any(b.label == "Se déconnecter" for b in at.button)
    at.run()  # without a browser the sign-in cookie never answers: said after three runs
    at.run()
    assert "Compte administrateur boss créé" in at.toast[0].value
    assert UserStore(tmp_path / "none.yaml", secrets_={}).role_of("boss") == "admin"


def test_the_playground_in_french(app_env, monkeypatch):
    from tests.chat_api_server import OPENAI_KEY, ChatApi

    with ChatApi() as api:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
        at = app_test("pages/6_Playground.py")
        at.query_params["lang"] = "fr"
        at.run()
        submit(
            at, {"Nom d'utilisateur": "ana", "Mot de passe": "analyst-password-1"}, "Se connecter"
        )
        assert not at.exception
        assert at.title[0].value == "Bac à sable"
        assert [t.label for t in at.tabs] == ["Discussion", "Comparer", "Préréglages", "Historique"]
        assert at.slider(key="pg_temperature").label == "Température"
        assert [p.label for p in at.sidebar.page_link][:2] == ["Vue d'ensemble", "Utilisation"]
        at.selectbox(key="pg_model").set_value("gpt-4o-mini")
        at.run()
        at.chat_input[0].set_value("Say hello").run()
        assert not at.exception
        m = {x.label: x.value for x in at.metric}
        # 12 prompt tokens (2 cached), 3 completion: 10 × 0.15 + 2 × 0.075 + 3 × 0.60 per 1M
        # = $0.00000345, shown to 6 decimals
        assert m["Jetons en entrée"] == "12" and m["Coût (USD)"] == f"0,000003{NB}$US"
        assert m["Durée totale"].endswith(f"{NB}s") and "," in m["Durée totale"]
        assert not _english_left(at), _english_left(at)
        # an error's meaning and fix in French
        at.selectbox(key="pg_model").set_value("ctx")
        at.run()
        at.chat_input[0].set_value("A very long prompt").run()
        text = at.error[0].value
        assert "Requête trop longue pour le modèle" in text and f"Que faire{NB}:" in text


def test_the_language_stays_across_pages_and_filter_changes(app_env):
    at = app_test()
    at.query_params["lang"] = "fr"
    at = login_fr(at, "ana")
    assert not at.exception
    at.selectbox(key="f_period_fr").select("7d")  # one key per language (worded_key)
    at.run()
    assert at.query_params["lang"] in ("fr", ["fr"]) and at.query_params["period"] in ("7d", ["7d"])
    # a page link drops the query string: the filters come from the tab, the language too
    at.query_params.clear()
    at.switch_page("pages/1_Usage.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="f_period_fr").value == "7d"
    assert at.query_params["lang"] in ("fr", ["fr"]) and at.query_params["period"] in ("7d", ["7d"])
    assert [p.label for p in at.sidebar.page_link][:2] == ["Vue d'ensemble", "Utilisation"]
    at.query_params.clear()
    at.switch_page("pages/6_Playground.py")
    at.run()
    assert at.title[0].value == "Bac à sable"
    assert at.query_params["lang"] in ("fr", ["fr"])


def login_fr(at, username: str):
    return login(at, username, lang="fr")


def test_the_switch_saves_the_users_language_and_the_next_visit_uses_it(app_env):
    import os

    at = login(app_test("pages/6_Playground.py"), "ana")
    assert at.title[0].value == "Playground"
    switch = at.sidebar.segmented_control[0]
    switch.set_value("fr").run()
    assert at.title[0].value == "Bac à sable"
    assert at.query_params["lang"] in ("fr", ["fr"])
    assert UserStore(Path(os.environ["TOKENBOARD_USERS"]), secrets_={}).language_of("ana") == "fr"
    # a new browser session without ?lang: the account's language
    again = login(app_test("pages/6_Playground.py"), "ana")
    assert again.title[0].value == "Bac à sable"
    # a link's ?lang=en wins over the account's language, and is not saved
    link = app_test("pages/6_Playground.py")
    link.query_params["lang"] = "en"
    link = login(link, "ana")
    assert link.title[0].value == "Playground"
    assert UserStore(Path(os.environ["TOKENBOARD_USERS"]), secrets_={}).language_of("ana") == "fr"


def test_a_viewer_sees_the_navigation_and_a_sentence_in_french(app_env):
    at = app_test("pages/6_Playground.py")
    at.query_params["lang"] = "fr"
    at = login_fr(at, "vic")
    assert not at.exception and not at.error
    assert at.info[0].value == (
        "La page Bac à sable n'est pas ouverte au rôle lecteur. "
        "Demandez-la à un administrateur si vous en avez besoin."
    )
    assert [p.label for p in at.sidebar.page_link] == [
        "Vue d'ensemble",
        "Utilisation",
        "Coûts",
        "Erreurs",
        "Alertes",
        "Données",
        "Réglages",
        "Aide",
    ]
    # the page's own help and report links stand above its title
    assert [p.label for p in at.main.page_link] == ["Aide sur cette page", "Signaler un problème"]


def test_the_switch_on_the_login_form(app_env):
    at = app_test()
    at.run()
    assert at.text_input[0].label == "Username"
    at.segmented_control[0].set_value("fr").run()
    assert [t.label for t in at.text_input] == ["Nom d'utilisateur", "Mot de passe"]
    assert at.query_params["lang"] in ("fr", ["fr"])


# -- the Overview, Usage, Costs and Data pages in French ------------------------------------


def _open_fr(script: str, username: str = "ana", **query: str):
    """``script`` opened with ``?lang=fr`` (and ``query``), signed in as ``username``."""
    at = app_test(script)
    at.query_params.update({"lang": "fr", **query})
    at = login_fr(at, username)
    assert not at.exception, at.exception
    return at


def _costs_fixture(app_env) -> None:
    from lib.ingest import import_file
    from lib.store import Store
    from tests.conftest import fixture

    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))
        import_file(s, fixture("openai_costs.json"))


NOV_1_2 = {"period": "custom", "from": "2024-11-01", "to": "2024-11-02"}


def test_the_overview_in_french(app_env):
    _costs_fixture(app_env)
    at = _open_fr("app.py", **NOV_1_2)
    assert at.title[0].value == "Vue d'ensemble"
    m = {x.label: x.value for x in at.metric}
    # the bill covers both days: $1.00 billed (the cost fixture), written the French way
    assert m["Dépense (facturé)"] == f"1,00{NB}$US"
    assert {"Requêtes", "Jetons en entrée", "Jetons en sortie", "Taux d'erreur"} <= set(m)
    assert [s.value for s in at.subheader][:2] == ["Ce mois-ci", "Dépense dans le temps par modèle"]
    assert at.sidebar.selectbox(key="f_period_fr").label == "Période"
    assert [t.label for t in at.tabs] == ["Modèles les plus utilisés", "Projets principaux",
                                         "Clés d'API principales"]  # fmt: skip
    assert not _english_left(at), _english_left(at)


def test_the_usage_page_in_french(app_env):
    _costs_fixture(app_env)
    at = _open_fr("pages/1_Usage.py", **NOV_1_2)
    assert at.title[0].value == "Utilisation"
    m = {x.label: x.value for x in at.metric}
    # the usage fixture's tokens priced by the catalog: $0.007935, to the cent
    assert m["Coût estimé"] == f"0,01{NB}$US"
    assert {"Requêtes", "Jetons en entrée", "Jetons en sortie", "Latence p95"} <= set(m)
    assert at.selectbox(key="usage_metric").label == "Mesure"
    assert at.selectbox(key="usage_by").label == "Répartir par"
    assert "Par modèle" in [s.value for s in at.subheader]
    assert "Coût estimé (USD)" in at.dataframe[-1].value.columns
    assert not _english_left(at), _english_left(at)
    # a metric and a breakdown picked: the link keeps them, and the language
    at.selectbox(key="usage_by").select("model").run()
    assert at.query_params["by"] in ("model", ["model"]) and at.query_params["lang"] in (
        "fr",
        ["fr"],
    )
    assert not at.exception and not _english_left(at), _english_left(at)


def test_the_costs_page_in_french(app_env):
    _costs_fixture(app_env)
    at = _open_fr("pages/2_Costs.py", **NOV_1_2)
    assert at.title[0].value == "Coûts"
    m = {x.label: x for x in at.metric}
    assert m["Facturé (USD)"].value == f"1,00{NB}$US"  # the cost fixture bills $1.00
    # the usage fixture priced by the catalog: $0.007935, to the cent on the card, every digit
    # in its help
    assert m["Estimé (USD)"].value == f"0,01{NB}$US"
    assert m["Estimé (USD)"].help == f"Exactement 0,007935{NB}$US."
    assert [t.label for t in at.tabs][:3] == ["Facture et estimation", "Par modèle",
                                             "Par ligne de facture"]  # fmt: skip
    assert any("aucune donnée d'utilisation pour ce jour" in x.value for x in at.markdown)
    assert not _english_left(at), _english_left(at)
    # a tab in the link opens in French too, and the link keeps the language
    at = _open_fr("pages/2_Costs.py", tab="models", **NOV_1_2)
    assert "Par modèle" in [s.value for s in at.subheader]
    assert {"Modèle", "Facturé (USD)", "Estimé (USD)", "Jetons"} <= set(
        at.dataframe[0].value.columns
    )
    assert at.query_params["tab"] in ("models", ["models"]) and at.query_params["lang"] in (
        "fr",
        ["fr"],
    )
    assert not _english_left(at), _english_left(at)


def test_the_data_page_in_french_with_an_undo(app_env):
    from lib.ingest import import_file
    from lib.store import Store
    from tests.conftest import fixture

    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = _open_fr("pages/7_Data.py")
    assert at.title[0].value == "Données"
    heads = [s.value for s in at.subheader]
    assert heads[:3] == ["Importer des fichiers", "Récupérer depuis les API des fournisseurs",
                         "Historique des imports"]  # fmt: skip
    history = at.dataframe[0].value
    assert {"Lignes lues", "Nouvelles", "En double", "Origine"} <= set(history.columns)
    assert history["État"].tolist() == ["Importé"]
    assert not _english_left(at), _english_left(at)
    at.selectbox(key="undo_pick").select(int(history["Import n°"][0])).run()
    next(b for b in at.button if b.label == "Annuler").click().run()
    assert at.warning[0].value.startswith("Annuler l'import n° ")
    next(b for b in at.button if b.label == "Oui, l'annuler").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(f"Import n° {int(history['Import n°'][0])} (")
    assert " annulé" in at.success[0].value and not _english_left(at), _english_left(at)


# -- an import's progress lines and refusals in French -------------------------------------

CSV_HEAD = "timestamp,request_id,model,input_tokens,output_tokens\n"


def _upload_fr(app_env, files: list[tuple[str, bytes]]):
    """The Data page in French (``?lang=fr``) with ``files`` uploaded (previews drawn)."""
    at = _open_fr("pages/7_Data.py")
    at.file_uploader[0].set_value([(name, data, "text/csv") for name, data in files])
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_imports_progress_lines_in_french(app_env):
    # two rows: "2 lignes lues" (the rows-read line), then the commit
    data = (CSV_HEAD + "2025-01-01T00:00:00Z,a1,gpt-4o,10,1\n"
            "2025-01-01T01:00:00Z,a2,gpt-4o,20,2\n").encode()  # fmt: skip
    at = _upload_fr(app_env, [("deux.csv", data)])
    next(b for b in at.button if b.label == "Importer 1 fichier").click()
    at.run()
    assert not at.exception, at.exception
    lines = [shown(m.value) for m in at.status[0].markdown]
    assert f"deux.csv{NB}: 2 lignes lues{NB}; recherche des doublons" in lines, lines
    assert f"deux.csv{NB}: enregistrement" in lines
    assert not _english_left(at), _english_left(at)


def test_a_refused_upload_is_said_in_french(app_env, tmp_path):
    # line 3 of the file (its 2nd row) holds "beaucoup" as input tokens: the import refuses it
    # with every part of the frame (line, field, found, expected)
    data = (CSV_HEAD + "2025-01-01T00:00:00Z,a1,gpt-4o,10,1\n"
            "2025-01-01T01:00:00Z,a2,gpt-4o,beaucoup,2\n").encode()  # fmt: skip
    at = _upload_fr(app_env, [("mauvais.csv", data)])
    buttons = [b for b in at.button if b.label == "Importer 1 fichier"]
    if buttons:  # the preview let it through: the import refuses it
        buttons[0].click()
        at.run()
    assert not at.exception, at.exception
    said = [shown(e.value) for e in at.error]
    assert (
        f"mauvais.csv, ligne 3, champ 'input_tokens'{NB}: une valeur est illisible{NB}; trouvé "
        f"'beaucoup'{NB}; attendu{NB}: un nombre entier ≥ 0"
    ) in said, said
    assert not _english_left(at), _english_left(at)
    # lib's own sentence (the command line's, the ledger's) stays English: the same parts
    from lib.errors import InputError
    from lib.ingest import import_file
    from lib.store import Store

    bad = tmp_path / "mauvais.csv"
    bad.write_bytes(data)
    with Store(app_env) as s, pytest.raises(InputError) as err:
        import_file(s, str(bad))
    assert str(err.value) == (
        "mauvais.csv, line 3, field 'input_tokens': a value cannot be read; found 'beaucoup'; "
        "expected a whole number ≥ 0"
    )


def test_refusals_and_notes_that_carry_values_are_said_in_french(app_env):
    # a refusal with values (the header holds 2 columns, neither a time nor a measure) and a
    # preview note (only total tokens: counted as input tokens), both in French with their
    # values put in, and no English sentence of lib left on the page
    odd = b"couleur,forme\nrouge,rond\n"
    total = b"timestamp,model,total_tokens\n2025-01-01T00:00:00Z,gpt-4o,30\n"
    at = _upload_fr(app_env, [("bizarre.csv", odd), ("total.csv", total)])
    said = [shown(e.value) for e in at.error]
    assert any(
        s.startswith(f"bizarre.csv{NB}: colonnes non reconnues couleur, forme{NB}; attendu{NB}: "
                     "une colonne de temps (timestamp, date, heure, ...) et une colonne de mesure")
        for s in said
    ), said  # fmt: skip
    infos = [shown(i.value) for i in at.info]
    assert (f"seul le total des jetons est donné{NB}: il est compté en jetons d'entrée") in infos, (
        infos
    )
    assert not _english_left(at), _english_left(at)


def test_a_refusal_nested_words_and_numbers_in_french():
    # a Text inside a Text is translated too; whole numbers take the French grouping
    from streamlit.testing.v1 import AppTest

    from lib.ingest.undo import undo_import  # noqa: F401  (the module marks the status words)
    from lib.text import N_, Text

    def page():
        import streamlit as st

        from lib.text import N_, Text
        from lib.ui.i18n import say

        st.session_state["tb_lang"] = "fr"
        st.write(say(N_("Import #{id} is {status}; only a successful import can be undone.",
                        id="12", status=Text("undone"))))  # fmt: skip
        st.write(say(N_("{n} rows have a negative response_status (no response from the "
                        "provider): counted as errors without an HTTP status", n=12345)))  # fmt: skip
        st.write(say("a string the catalog does not hold"))

    at = AppTest.from_function(page).run()
    assert not at.exception, at.exception
    texts = [m.value for m in at.markdown]
    assert texts[0] == f"L'import n° 12 est annulé{NB}; seul un import réussi peut être annulé."
    assert texts[1].startswith(f"12{NNB}345 lignes ont un response_status négatif"), texts[1]
    assert texts[2] == "a string the catalog does not hold"
    assert N_("x", n=1) == "x" and isinstance(N_("{n}", n=1), Text)


def test_a_placeholder_may_show_an_example_value_not_a_sentence():
    from lib.i18n.extract import is_example

    assert all(is_example(x) for x in ("openai", "gpt-4o", "https://app.example.com", "a@example.com, …",
                                       "203.0.113.7\n2001:db8::/32"))  # fmt: skip
    assert not any(is_example(x) for x in ("support chatbot", "Type a name", "e.g. Monthly budget"))
