"""The help documentation as plain Python: pages and sections read from data/help with stable
ids, the error knowledge base's sections made at load time in both languages, and the search
(case and accents ignored, every word required, ranked, with snippets)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib.error_kb import ErrorFacts, explain
from lib.help import HelpError, fold, load_docs, plain, query_words, search
from lib.help.kb import candidate_codes, entries
from tests.conftest import ROOT

HELP = ROOT / "data" / "help"


def _write(root: Path, lang: str, name: str, text: str) -> None:
    (root / lang).mkdir(parents=True, exist_ok=True)
    (root / lang / name).write_text(text, encoding="utf-8")


SMALL = """# Costs explained

What the figures mean.

## Billed cost {#billed}
<!-- formats: openai_costs -->
The **invoice**'s figure. Le coût facturé.

## Estimated cost {#estimated}
Tokens × price. Un coût estimé, pas facturé.

```bash
## not a heading {#nope}
```
"""


def test_a_help_file_is_read_into_a_page_and_sections_with_stable_ids(tmp_path):
    _write(tmp_path, "en", "10_costs.md", SMALL)
    docs = load_docs("en", tmp_path)
    (page,) = docs.pages
    assert (page.id, page.title, page.order) == ("costs", "Costs explained", 10)
    assert [s.id for s in page.sections] == ["costs", "billed", "estimated"]
    intro, billed, estimated = page.sections
    assert intro.body == "What the figures mean."
    assert billed.formats == ("openai_costs",)
    assert "<!--" not in billed.body  # comments are never shown
    assert "## not a heading" in estimated.body  # a fenced block is text
    assert docs.find("billed") == (page, billed)
    assert docs.find("costs") == (page, None)  # the whole page
    assert docs.find("Billed") == (page, billed)
    assert docs.find("nowhere") is None and docs.find("") is None


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("10_a.md", "# A\n\n## No id\ntext\n", "line 3: a section needs an id"),
        ("10_a.md", "text before a title\n", "line 1: expected '# Page title' first"),
        ("a.md", "# A\n", "expected a name like 10_quickstart.md"),
        ("10_a.md", "# A\n## X {#x}\n## Y {#x}\n", "section id #x used twice"),
        ("10_a.md", "# A\n## X {#a}\n", "line 2: #a is the page's own id"),
    ],
)
def test_a_help_file_that_breaks_the_layout_is_named(tmp_path, name, text, says):
    _write(tmp_path, "en", name, text)
    with pytest.raises(HelpError, match=re.escape(says)):
        load_docs("en", tmp_path)


def test_the_shipped_help_loads_in_both_languages_with_the_same_ids():
    en, fr = load_docs("en"), load_docs("fr")
    assert [p.id for p in en.pages][:3] == ["quickstart", "import", "pages"]
    assert [s.id for s in en.sections()] == [s.id for s in fr.sections()]
    assert en.find("costs")[0].title == "Billed, stated and estimated cost"
    assert fr.find("costs")[0].title == "Coût facturé, déclaré et estimé"
    assert en.find("counted-stream")[1].title == "The counted stream"
    assert fr.find("counted-stream")[1].title == "Le flux compté"


def test_the_error_pages_come_from_the_knowledge_base_in_both_languages():
    en, fr = load_docs("en"), load_docs("fr")
    page, sec = en.find("error-rate-limit-reached")
    assert page.id == "errors" and sec.kb == "Rate limit reached"
    assert sec.title == "Rate limit reached"
    # the KB's own words, and the codes explain() sends here
    assert "More requests or tokens per minute than the organisation's" in sec.body
    assert "**Retrying helps.**" in sec.body
    assert "`rate_limit_exceeded`" in sec.body and "429" in sec.body
    assert explain(ErrorFacts(code="rate_limit_exceeded")).title == "Rate limit reached"
    _p, sec_fr = fr.find("error-rate-limit-reached")
    assert sec_fr.title == "Limite de débit atteinte"  # the Errors page's French words
    assert "**Réessayer aide.**" in sec_fr.body and "`rate_limit_exceeded`" in sec_fr.body
    # a code that leads here only with its status: insufficient_quota with HTTP 429
    _p, spend = en.find("error-spend-limit-or-quota-reached")
    assert "429 + `insufficient_quota`" in spend.body
    assert "Retrying does not help" in spend.body
    # every advice once, its provider page linked
    assert len({e.key for e in entries()}) == len(entries())
    _p, bedrock = en.find("error-throttled-by-bedrock")
    assert "(https://docs.aws.amazon.com/bedrock/" in bedrock.body
    _p, fallback = en.find("error-request-failed")
    assert "(https://platform.openai.com/docs/guides/error-codes)" in fallback.body


def test_every_code_the_kb_names_is_explained_where_the_help_says():
    by_key = {e.key: e for e in entries()}
    for c in candidate_codes():
        advice = explain(ErrorFacts(code=c))
        assert (
            c
            in by_key["error-" + re.sub(r"[^a-z0-9]+", "-", advice.title.lower()).strip("-")].codes
        )


def test_words_are_folded_without_case_or_accents():
    assert fold("Coût ÉTÉ Cœur") == "cout ete coeur"
    assert query_words("  Coût, d'une  requête ") == ["cout", "une", "requete"]
    assert query_words("a") == ["a"]  # a lone short word is still searched
    assert query_words("") == []
    assert plain("**Bold** [link](http://x) `code` | a |") == "Bold link code a"


def test_search_ignores_case_and_accents_and_wants_every_word(tmp_path):
    _write(tmp_path, "fr", "10_costs.md", SMALL)
    docs = load_docs("fr", tmp_path)
    # "cout" finds "coût" in both sections; "FACTURE" finds "facturé" in both too
    assert {h.section for h in search(docs, "cout")} == {"billed", "estimated"}
    assert {h.section for h in search(docs, "FACTURE")} == {"billed", "estimated"}
    # several words: all must be there
    assert [h.section for h in search(docs, "coût estimé")] == ["estimated"]
    assert search(docs, "coût introuvable") == []
    assert search(docs, "   ") == []
    # a word starts a word: "invo" finds "invoice", "voice" does not
    assert [h.section for h in search(docs, "invo")] == ["billed"]
    assert search(docs, "voice") == []


def test_results_are_ranked_with_the_title_first_and_a_marked_snippet(tmp_path):
    _write(tmp_path, "en", "10_costs.md", SMALL)
    docs = load_docs("en", tmp_path)
    hits = search(docs, "billed")
    # the "Billed cost" section has the word in its title (10 points + 0 in the body);
    # "Estimated cost" holds it once in its text only
    assert [h.section for h in hits] == ["billed"]
    hits = search(docs, "cost")
    assert [h.section for h in hits][:2] == ["billed", "estimated"]  # titles, reading order
    (hit,) = search(docs, "price")
    assert hit.title == "Estimated cost" and hit.page_title == "Costs explained"
    text, marks = hit.snippet.text, hit.snippet.marks
    assert text.startswith("Tokens × price.")
    assert [text[a:b] for a, b in marks] == ["price"]


def test_the_shipped_help_answers_common_searches_in_both_languages():
    en, fr = load_docs("en"), load_docs("fr")
    assert search(en, "counted stream")[0].section == "counted-stream"
    assert search(fr, "flux compte")[0].section == "counted-stream"  # "compté" without accent
    assert search(en, "rate_limit_exceeded")[0].section == "error-rate-limit-reached"
    assert search(fr, "rate_limit_exceeded")[0].section == "error-rate-limit-reached"
    assert search(en, "base_url anthropic")[0].section == "sdk"
    # both words in a title first (the FAQ's), then the time zones page's sections
    top = [(h.page, h.section) for h in search(fr, "FUSEAU horaire")[:3]]
    assert top == [("faq", "faq-days"), ("time", "daily-reports"), ("time", "time-zones")]


def test_the_french_help_follows_french_typography():
    bad = []
    for path in sorted((HELP / "fr").glob("*.md")):
        fence = False
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fence = not fence
            text = re.sub(r"`[^`]*`|https?://\S+|\{#[^}]*\}", "", line)
            if not fence and re.search(r" [;:!?](?=\s|$|\*)|« | »", text):
                bad.append(f"{path.name}:{no}: {line}")
    assert not bad
